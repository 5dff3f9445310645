/**
 * What a process allocates and what its garbage collections cost, for comparing two versions of
 * the code on a machine whose speed drifts: bytes allocated per task move only with the code.
 * Load it into the worker process of B (or the measuring process) with Node's --import:
 *
 *   TASKLANE_BENCH_WORKER_NODE_ARGS="--import ./bench/lib/alloc-probe.mjs" \
 *     npm run bench -- --only B --backend pg --configs c100-p1000 --runs 1 --history 0
 *   node --import tsx bench/alloc-report.ts alloc-*.json
 *
 * It samples allocations with V8's sampling heap profiler, keeping the samples of objects that
 * were collected since (a plain heap profile keeps only the live ones), and counts collections by
 * kind. On exit it writes `alloc-<pid>.json` to TASKLANE_BENCH_ALLOC_DIR (default: the current
 * directory). Plain JavaScript: it is loaded before tsx.
 */
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";

const KINDS = { 1: "minor", 2: "major", 4: "incremental", 8: "weak_callbacks" };
const gc = {};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = KINDS[e.detail?.kind] ?? String(e.detail?.kind);
    const k = (gc[kind] ??= { count: 0, ms: 0 });
    k.count++;
    k.ms += e.duration;
  }
}).observe({ entryTypes: ["gc"] });

const session = new Session();
session.connect();
session.post("HeapProfiler.enable");
session.post("HeapProfiler.startSampling", {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});

let written = false;
function write() {
  if (written) return;
  written = true;
  // The inspector answers a session of the same thread synchronously, so this works in exit.
  session.post("HeapProfiler.stopSampling", (err, answer) => {
    if (err) return;
    const file = join(process.env.TASKLANE_BENCH_ALLOC_DIR ?? process.cwd(), `alloc-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ pid: process.pid, gc, profile: answer.profile }));
  });
}
process.on("exit", write);

/**
 * D. The seed workload: `dJobs` processes of two sequential steps (`s2` depends on `s1`), each
 * step's handler sleeps `stepMs` (500 ms) and succeeds. Step 2 is released by the engine when
 * step 1 completes (Tasklane processes, DESIGN §4), not enqueued by step 1's handler. One worker
 * at concurrency `dConc` runs in the producer's process (as in the peers' harness) and is idle and
 * listening first (prefetch `dPrefetch`, 1,000 by default: graphile-worker's best D setting used
 * a local queue of 1,000); the clock starts, every process is started, and the clock stops when every
 * step 2 ran and the table shows no unfinished task. The process's memory is sampled throughout.
 *
 * Skips with "processes not available" while `tl.startProcess` does not exist.
 */
import type { Tasklane } from "../lib/library.js";
import { unfinished, type BenchDb } from "../lib/db.js";
import { chunks, memorySampler, now, sleep, waitUntil } from "../lib/timing.js";
import type { MeasureConfig, MeasureResult } from "./types.js";

interface StepDef {
  name: string;
  topic: string;
  dependsOn?: string[];
}
interface ProcessDef {
  key: string;
  name: string;
  input: unknown;
  steps: StepDef[];
}
/** The part of the process API (DESIGN §4) this scenario uses; `startProcessMany` only if it exists. */
interface ProcessApi {
  startProcess(def: ProcessDef): Promise<{ created: boolean }>;
  startProcessMany?: (defs: ProcessDef[]) => Promise<unknown>;
}

export const PROCESSES_UNAVAILABLE = "processes not available (tl.startProcess is not a function yet): D skipped";

export function processApi(tl: Tasklane): ProcessApi | null {
  const api = tl as unknown as Partial<ProcessApi>;
  return typeof api.startProcess === "function" ? (api as ProcessApi) : null;
}

const STEPS: StepDef[] = [
  { name: "s1", topic: "d.step1" },
  { name: "s2", topic: "d.step2", dependsOn: ["s1"] },
];

export async function scenarioD(db: BenchDb, cfg: MeasureConfig): Promise<MeasureResult> {
  const tl = await db.open();
  const api = processApi(tl);
  if (!api) return { skipped: PROCESSES_UNAVAILABLE };

  const n = cfg.dJobs;
  const step1Done = new Uint8Array(n);
  let step1 = 0;
  let step2 = 0;
  let outOfOrder = 0;
  let inflight = 0;
  let maxInflight = 0;
  const workflowOf = (task: { payload: unknown }, ctx: unknown): number | undefined => {
    const input = (ctx as { input?: { w?: number } }).input ?? (task.payload as { w?: number } | null);
    return typeof input?.w === "number" ? input.w : undefined;
  };
  const step = (which: 1 | 2) => async (task: { payload: unknown }, ctx: unknown) => {
    inflight++;
    if (inflight > maxInflight) maxInflight = inflight;
    try {
      await sleep(cfg.stepMs);
      const w = workflowOf(task, ctx);
      if (which === 1) {
        if (w !== undefined) step1Done[w] = 1;
        step1++;
      } else {
        if (w !== undefined && step1Done[w] !== 1) outOfOrder++;
        step2++;
      }
      return null;
    } finally {
      inflight--;
    }
  };
  tl.define("d.step1", step(1));
  tl.define("d.step2", step(2));
  const worker = tl.worker({ topics: ["d.step1", "d.step2"], concurrency: cfg.dConc, prefetch: cfg.dPrefetch });
  await worker.start();
  await sleep(500);

  const memory = memorySampler();
  const def = (w: number): ProcessDef => ({ key: `d-${w}`, name: "bench.two-steps", input: { w }, steps: STEPS });
  const t0 = now();
  if (api.startProcessMany) {
    for (const batch of chunks(n, cfg.chunk, def)) await api.startProcessMany(batch);
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(cfg.dInFlight, n) }, async () => {
        while (next < n) await api.startProcess(def(next++));
      }),
    );
  }
  const tStarted = now();
  await waitUntil("step 2 handlers", () => step2 >= n, { intervalMs: 10, timeoutMs: 60 * 60_000 });
  const tEnd = await waitUntil("no unfinished task", async () => (await unfinished(db, tl.schema)) === 0, { intervalMs: 20 });
  const mem = memory.stop();
  await worker.stop({ graceMs: 5_000 });
  if (outOfOrder > 0) throw new Error(`D: ${outOfOrder} step-2 handlers ran before their step 1 finished`);
  const wall = tEnd - t0;
  const floor = Math.ceil(n / cfg.dConc) * 2 * cfg.stepMs;
  return {
    workflows: n,
    concurrency: cfg.dConc,
    prefetch: cfg.dPrefetch,
    start_api: api.startProcessMany ? `startProcessMany (calls of ${cfg.chunk})` : `startProcess (${cfg.dInFlight} in flight)`,
    wall_ms: wall,
    wall_s: wall / 1000,
    enqueue_ms: tStarted - t0,
    ideal_floor_s: floor / 1000,
    efficiency: floor / wall,
    workflows_per_s: (n / wall) * 1000,
    max_inflight_seen: maxInflight,
    step1,
    step2,
    peak_rss_mb: mem.peak_rss_mb,
    peak_heap_mb: mem.peak_heap_mb,
    memory_curve: mem.curve,
  };
}

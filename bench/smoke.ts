/**
 * Smoke pass for CI: every scenario once, with tiny counts, on PGlite and on PostgreSQL (the server
 * `TASKLANE_BENCH_PG_URL` names, else a throwaway cluster). It checks that the benchmarks still
 * run against the current engine; it asserts no timing. Exits non-zero when any scenario fails.
 * It runs the compiled package in `dist/`: run it after `npm test` or `npm run build`.
 *
 *   node --import tsx bench/smoke.ts            (both backends)
 *   node --import tsx bench/smoke.ts pglite     (one backend: pg or pglite)
 */
import { pgServer, type BackendKind } from "./lib/db.js";
import { summarize, type Entry, type ResultFile } from "./lib/results.js";
import { renderReport } from "./report.js";
import { measure } from "./measure.js";
import type { MeasureConfig } from "./scenarios/types.js";

const only = process.argv[2] as BackendKind | undefined;
const backends: BackendKind[] = only ? [only] : ["pglite", "pg"];

const tiny: Omit<MeasureConfig, "scenario" | "backend" | "url"> = {
  jobs: 200, single: 50, singleParallel: 10, chunk: 100, latJobs: 20, warmup: 2,
  worker: { label: "concurrency 100", concurrency: 100 }, bWorker: "process", history: 0,
  dJobs: 50, dConc: 100, stepMs: 20, dInFlight: 10, dPrefetch: 50, eDurationS: 0.3,
};
const cases: { key: string; cfg: Partial<MeasureConfig> & { scenario: MeasureConfig["scenario"] } }[] = [
  { key: "A", cfg: { scenario: "A" } },
  { key: "B:c100", cfg: { scenario: "B" } },
  { key: "B:c100:history", cfg: { scenario: "B", history: 300 } },
  { key: "C:c10", cfg: { scenario: "C", worker: { label: "concurrency 10", concurrency: 10 } } },
  { key: "D:50:c100", cfg: { scenario: "D" } },
  { key: "E", cfg: { scenario: "E" } },
];

let passed = 0;
let failed = 0;
const files: ResultFile[] = [];
const server = backends.includes("pg") ? await pgServer() : undefined;
try {
  for (const backend of backends) {
    const file = { tool: "tasklane", backend, versions: {}, machine: { cpus: 0, mem_gb: 0 }, provisional: true, entries: {} } as ResultFile;
    for (const c of cases) {
      const cfg = { ...tiny, ...c.cfg, backend, url: backend === "pg" ? server!.url : null } as MeasureConfig;
      let res;
      try {
        res = await measure(cfg);
      } catch (err) {
        res = { error: String((err as Error)?.stack ?? err) };
      }
      const ok = !res.error;
      ok ? passed++ : failed++;
      console.log(`${ok ? "ok  " : "FAIL"} ${backend} ${c.key}${res.skipped ? ` (skipped: ${res.skipped})` : ""}${res.error ? `\n${res.error}` : ""}`);
      const { worker, ...params } = cfg;
      file.entries[c.key] = { scenario: cfg.scenario, config: null, params: { ...params, worker }, ...summarize(cfg.scenario, [res]), runs: [res], at: new Date().toISOString() } as Entry;
    }
    files.push(file);
  }
  // The report must render from what the scenarios produce.
  renderReport({ loaded: files });
  console.log("ok   report renders");
  passed++;
} catch (err) {
  failed++;
  console.log(`FAIL ${String((err as Error)?.stack ?? err)}`);
} finally {
  await server?.stop();
}
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

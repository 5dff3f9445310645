/**
 * A. Enqueue throughput, producer only (no worker): `jobs` tasks through `enqueueMany` in calls of
 * `chunk`; `single` tasks through `enqueue`, one awaited at a time; the same with
 * `singleParallel` calls in flight (an API server handling concurrent requests). Each part starts
 * on a fresh schema, as the peers' harness resets its store before each.
 */
import type { BenchDb } from "../lib/db.js";
import { chunks, now } from "../lib/timing.js";
import type { MeasureConfig, MeasureResult } from "./types.js";

const TOPIC = "bench.a";

export async function scenarioA(db: BenchDb, cfg: MeasureConfig): Promise<MeasureResult> {
  const out: MeasureResult = {};

  let tl = await db.open();
  let t0 = now();
  for (const batch of chunks(cfg.jobs, cfg.chunk, (i) => ({ topic: TOPIC, payload: { i } }))) await tl.enqueueMany(batch);
  let dt = now() - t0;
  out.batch_jobs = cfg.jobs;
  out.batch_chunk = cfg.chunk;
  out.batch_ms = dt;
  out.batch_jobs_per_s = (cfg.jobs / dt) * 1000;
  const [row] = await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${tl.schema}".task`);
  if (Number(row?.n) !== cfg.jobs) throw new Error(`A: expected ${cfg.jobs} tasks, found ${row?.n}`);

  tl = await db.open();
  t0 = now();
  for (let i = 0; i < cfg.single; i++) await tl.enqueue(TOPIC, { i });
  dt = now() - t0;
  out.single_jobs = cfg.single;
  out.single_seq_jobs_per_s = (cfg.single / dt) * 1000;
  out.single_seq_mean_ms = dt / cfg.single;

  tl = await db.open();
  let next = 0;
  t0 = now();
  await Promise.all(
    Array.from({ length: cfg.singleParallel }, async () => {
      while (next < cfg.single) {
        const i = next++;
        await tl.enqueue(TOPIC, { i });
      }
    }),
  );
  dt = now() - t0;
  out.single_parallel = cfg.singleParallel;
  out.single_par_jobs_per_s = (cfg.single / dt) * 1000;
  return out;
}

/**
 * B. Drain throughput: `jobs` no-op tasks are enqueued first (untimed), then one worker drains
 * them. On PostgreSQL the worker is its own Node process (the producer only watches); on PGlite
 * it runs in the producer's process, which owns the database. The clock runs from the first
 * handler start until every handler ran and the table shows no unfinished task, so completions
 * are durable, not just "handler returned" (the peers' method). "incl. start" also counts the
 * worker's `start()`.
 *
 * With `history` > 0 the table first holds that many finished tasks, made by the engine itself
 * (enqueued and run by a worker, then `VACUUM ANALYZE` as autovacuum would have done by then), to
 * show that the claim path does not slow down as history grows.
 */
import type { Tasklane } from "../lib/library.js";
import { countByState, unfinished, type BenchDb } from "../lib/db.js";
import { chunks, now, sleep, waitUntil } from "../lib/timing.js";
import { childWorker, inProcessWorker, type WorkerHost } from "../lib/worker-host.js";
import { NOOP_TOPIC } from "../lib/worker-side.js";
import type { MeasureConfig, MeasureResult } from "./types.js";
import { instrument, queryStatsEnabled } from "../lib/query-stats.js";

const HISTORY_TOPIC = "bench.history";

/** Puts `count` finished tasks in the table the way production would: through the engine. */
export async function seedHistory(tl: Tasklane, db: BenchDb, count: number, chunk: number): Promise<Record<string, number>> {
  const t0 = now();
  tl.define(HISTORY_TOPIC, async () => null);
  const worker = tl.worker({ topics: [HISTORY_TOPIC], concurrency: 1000 });
  await worker.start();
  // Enqueue in slices so the backlog never gets big: the history, not a backlog, is what we want.
  const slice = 100_000;
  for (let done = 0; done < count; done += slice) {
    const n = Math.min(slice, count - done);
    for (const b of chunks(n, chunk, (i) => ({ topic: HISTORY_TOPIC, payload: { h: done + i } }))) await tl.enqueueMany(b);
    await waitUntil("history slice drained", async () => (await unfinished(db, tl.schema)) === 0, { intervalMs: 100 });
  }
  await worker.stop({ graceMs: 5_000 });
  const seeded = now();
  await db.sql(`VACUUM ANALYZE "${tl.schema}".task`);
  if (db.kind === "pg") await db.sql("CHECKPOINT");
  const states = await countByState(db, tl.schema);
  if ((states.completed ?? 0) !== count) throw new Error(`history: expected ${count} completed tasks, found ${JSON.stringify(states)}`);
  return { history_seed_ms: seeded - t0, history_vacuum_ms: now() - seeded };
}

export async function scenarioB(db: BenchDb, cfg: MeasureConfig): Promise<MeasureResult> {
  const tl = await db.open();
  const out: MeasureResult = { jobs: cfg.jobs, history: cfg.history };
  if (cfg.history > 0) Object.assign(out, await seedHistory(tl, db, cfg.history, cfg.chunk));

  const producerStats = queryStatsEnabled() ? instrument(tl) : undefined;
  const te = now();
  for (const b of chunks(cfg.jobs, cfg.chunk, (i) => ({ topic: NOOP_TOPIC, payload: { i } }))) await tl.enqueueMany(b);
  out.enqueue_ms = now() - te;
  const queued = await unfinished(db, tl.schema);
  if (queued !== cfg.jobs) throw new Error(`B: expected ${cfg.jobs} queued, found ${queued}`);

  const side = { mode: "drain" as const, concurrency: cfg.worker.concurrency, prefetch: cfg.worker.prefetch, pollIntervalMs: cfg.worker.pollIntervalMs, leaseMs: cfg.worker.leaseMs };
  const inProcess = db.kind === "pglite" || cfg.bWorker === "inproc";
  out.worker_in = inProcess ? "producer process" : "own process";
  let host: WorkerHost | undefined;
  try {
    host = inProcess ? await inProcessWorker(tl, side) : await childWorker(db.url!, tl.schema, side);
    host.send({ cmd: "start" });
    const { tStart, tReady } = await host.next("started");
    const { t: tFirst } = await host.next("first", 600_000);
    // Handlers first (cheap: the worker's counter), then the table, like the peers' harness.
    const h = host;
    let cpuUs = 0;
    await waitUntil("handlers", async () => {
      h.send({ cmd: "count" });
      const count = await h.next("count");
      cpuUs = count.cpuUs;
      return count.handled >= cfg.jobs;
    }, { intervalMs: 10 });
    const tEnd = await waitUntil("queue empty", async () => (await unfinished(db, tl.schema)) === 0, { intervalMs: 20 });
    out.worker_start_ms = tReady - tStart;
    out.first_job_after_ms = tFirst - tStart;
    out.drain_ms = tEnd - tFirst;
    out.jobs_per_s = (cfg.jobs / (tEnd - tFirst)) * 1000;
    out.jobs_per_s_incl_start = (cfg.jobs / (tEnd - tStart)) * 1000;
    // CPU of the worker's process from the first handler start until every handler ran, per task:
    // what a change to the worker moves (on PGlite it includes the database, which runs in that
    // process). It drifts with the machine too: compare it in alternating runs.
    out.worker_cpu_us_per_task = cpuUs / cfg.jobs;
    out.handler_calls = await host.stop();
    if (producerStats) out.query_stats = { producer: producerStats(), ...(host.queryStats && { worker: host.queryStats }) };
    host = undefined;
  } finally {
    host?.kill();
  }
  const states = await countByState(db, tl.schema);
  if ((states.completed ?? 0) !== cfg.jobs + cfg.history) throw new Error(`B: not all completed: ${JSON.stringify(states)}`);
  await sleep(0);
  return out;
}

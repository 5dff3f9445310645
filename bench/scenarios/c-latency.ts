/**
 * C. Latency from enqueue to handler start with an idle, listening worker (concurrency 10): in
 * another process on PostgreSQL, in the same process on PGlite (embedded: one process owns the
 * database). The producer enqueues one task, waits until the worker reports that its handler
 * started, pauses 5–15 ms so the worker is idle again, and repeats: `warmup` tasks, then
 * `latJobs` measured. Latency = handler start − the moment just before `enqueue` (so it includes
 * the insert and its commit), on the system-wide monotonic clock.
 */
import { NOOP_TOPIC } from "../lib/worker-side.js";
import { childWorker, inProcessWorker, type WorkerHost } from "../lib/worker-host.js";
import type { BenchDb } from "../lib/db.js";
import { now, percentile, sleep } from "../lib/timing.js";
import type { MeasureConfig, MeasureResult } from "./types.js";

export async function scenarioC(db: BenchDb, cfg: MeasureConfig): Promise<MeasureResult> {
  const tl = await db.open();
  const side = { mode: "latency" as const, concurrency: cfg.worker.concurrency, pollIntervalMs: cfg.worker.pollIntervalMs, leaseMs: cfg.worker.leaseMs };
  const inProcess = db.kind === "pglite";
  let host: WorkerHost | undefined;
  try {
    host = inProcess ? await inProcessWorker(tl, side) : await childWorker(db.url!, tl.schema, side);
    const seen = new Map<number, number>();
    const waiters = new Map<number, (t: number) => void>();
    host.onStart((i, t) => {
      seen.set(i, t);
      waiters.get(i)?.(t);
    });
    host.send({ cmd: "start" });
    await host.next("started");
    await sleep(1000);
    const waitFor = (i: number) =>
      new Promise<number>((resolve, reject) => {
        const t = seen.get(i);
        if (t !== undefined) return resolve(t);
        const timer = setTimeout(() => reject(new Error(`C: task ${i} did not start within 30 s`)), 30_000);
        waiters.set(i, (t) => (clearTimeout(timer), resolve(t)));
      });
    const lat: number[] = [];
    const ack: number[] = [];
    for (let i = 0; i < cfg.warmup + cfg.latJobs; i++) {
      const t0 = now();
      await tl.enqueue(NOOP_TOPIC, { i });
      const tAck = now();
      const tStart = await waitFor(i);
      waiters.delete(i);
      if (i >= cfg.warmup) {
        lat.push(tStart - t0);
        ack.push(tAck - t0);
      }
      await sleep(5 + Math.random() * 10);
    }
    await host.stop();
    host = undefined;
    return {
      jobs: lat.length,
      worker_in: inProcess ? "producer process" : "own process",
      p50_ms: percentile(lat, 50),
      p90_ms: percentile(lat, 90),
      p99_ms: percentile(lat, 99),
      max_ms: Math.max(...lat),
      mean_ms: lat.reduce((a, b) => a + b, 0) / lat.length,
      enqueue_call_p50_ms: percentile(ack, 50),
    };
  } finally {
    host?.kill();
  }
}

/**
 * The worker side of scenarios B and C: a Tasklane worker with a no-op handler that reports when
 * handlers start. It runs in its own process on PostgreSQL (`bench/worker-process.ts`, like the
 * peers' harness does for C) and in the producer's process on PGlite, where one process owns the
 * database. Both drive it through the same messages.
 */
import type { Tasklane } from "./library.js";
import { now } from "./timing.js";
import { instrument, queryStatsEnabled, type QueryStats } from "./query-stats.js";

export const NOOP_TOPIC = "bench.noop";

export interface WorkerSideConfig {
  /** `drain` (B: count handlers, report the first start) or `latency` (C: report every start). */
  mode: "drain" | "latency";
  concurrency: number;
  prefetch?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
}

/** Worker → producer. */
export type WorkerMessage =
  | { type: "opened" }
  | { type: "started"; tStart: number; tReady: number }
  | { type: "first"; t: number }
  | { type: "start"; i: number; t: number }
  /** `cpuUs`: CPU time (user + system) of the worker's process since the first handler started. */
  | { type: "count"; handled: number; cpuUs: number }
  | { type: "stopped"; handled: number; queryStats?: QueryStats }
  | { type: "error"; message: string };

/** Producer → worker. */
export type WorkerCommand = { cmd: "start" } | { cmd: "count" } | { cmd: "stop" };

/**
 * Defines the no-op topic on `tl` and returns the command handler. `emit` sends messages back;
 * `onStopped` runs after `stop` was handled.
 */
export function workerSide(tl: Tasklane, config: WorkerSideConfig, emit: (m: WorkerMessage) => void): (c: WorkerCommand) => Promise<void> {
  let handled = 0;
  // On PGlite the producer's instance is this one and is instrumented there.
  const stats = queryStatsEnabled() && tl.backend === "pg" ? instrument(tl) : undefined;
  let first = true;
  let cpu0: NodeJS.CpuUsage | undefined;
  tl.define(NOOP_TOPIC, async (task) => {
    const t = now();
    handled++;
    if (first) {
      first = false;
      cpu0 = process.cpuUsage();
      emit({ type: "first", t });
    }
    if (config.mode === "latency") emit({ type: "start", i: (task.payload as { i: number }).i, t });
    return null;
  });
  const worker = tl.worker({
    topics: [NOOP_TOPIC],
    concurrency: config.concurrency,
    ...(config.prefetch !== undefined && { prefetch: config.prefetch }),
    ...(config.pollIntervalMs !== undefined && { pollIntervalMs: config.pollIntervalMs }),
    ...(config.leaseMs !== undefined && { leaseMs: config.leaseMs }),
  });
  return async (c) => {
    if (c.cmd === "start") {
      const tStart = now();
      await worker.start();
      emit({ type: "started", tStart, tReady: now() });
    } else if (c.cmd === "count") {
      const cpu = cpu0 ? process.cpuUsage(cpu0) : { user: 0, system: 0 };
      emit({ type: "count", handled, cpuUs: cpu.user + cpu.system });
    } else if (c.cmd === "stop") {
      await worker.stop({ graceMs: 5_000 });
      emit({ type: "stopped", handled, ...(stats && { queryStats: stats() }) });
    }
  };
}

/** Parameters one measurement gets (one run of one scenario, in a fresh process). */
import type { BackendKind } from "../lib/db.js";

export interface MeasureConfig {
  scenario: "A" | "B" | "C" | "D" | "E";
  backend: BackendKind;
  /** PostgreSQL URL of the benchmark database (null on PGlite). */
  url: string | null;
  /** A: tasks in the batch part; B: tasks to drain. */
  jobs: number;
  /** A: tasks in each single-enqueue part. */
  single: number;
  /** A: single enqueues in flight in the parallel part. */
  singleParallel: number;
  /** Tasks per enqueueMany call. */
  chunk: number;
  /** C: measured tasks (after `warmup`). */
  latJobs: number;
  warmup: number;
  /** B/C: worker concurrency; B: `label` names the configuration. */
  worker: { label: string; concurrency: number; prefetch?: number; pollIntervalMs?: number; leaseMs?: number };
  /** B: where the worker runs (`process`: its own Node process; PGlite always `inproc`). */
  bWorker: "process" | "inproc";
  /** B: finished tasks in the table before the drain (0 = empty table). */
  history: number;
  /** D: processes, worker concurrency, sleep per step, starts in flight (startProcess only), prefetch. */
  dJobs: number;
  dConc: number;
  stepMs: number;
  dInFlight: number;
  dPrefetch: number;
  /** E: seconds per measurement. */
  eDurationS: number;
}

export type MeasureResult = Record<string, unknown> & { error?: string; skipped?: string };

/**
 * A topic's definition: its handler and the options every task of the topic inherits.
 *
 * @internal
 * @module
 */
import type { RetryPolicy, Timeouts } from "../config.js";
import type { ExitOutcome, RunningTask, TaskHandler } from "../task.js";

/** Options of {@link Tasklane.define}. */
export interface DefineOptions {
  /** Retry policy of the topic's tasks (a task's own `retry` option wins). */
  retry?: RetryPolicy;
  /** Timeouts of the topic's tasks. */
  timeouts?: Timeouts;
  /** Tags given to the topic's tasks when the enqueue call names none. */
  tags?: string[];
  /**
   * When true, a task interrupted by a worker's shutdown goes back to `ready` without using an
   * attempt (for work that checkpoints and can pick up where it stopped).
   */
  resumable?: boolean;
  /**
   * Called after every attempt of the topic ends, on the node that saw it end: the worker that
   * ran it, or the maintenance leader that found it crashed.
   */
  onExit?: (task: RunningTask, outcome: ExitOutcome) => unknown;
}

/** @internal */
export interface Definition {
  readonly topic: string;
  readonly handler: TaskHandler;
  readonly options: DefineOptions;
}

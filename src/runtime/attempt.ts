/**
 * One attempt a worker runs: its fencing token, its abort controller and its timers.
 *
 * Timers (all local to the node running the attempt; maintenance is the backstop when the node
 * dies):
 * - `start_to_close_ms` from the start of the handler → `TASK_POLL_TO_END_TIMEOUT`;
 * - the task's `deadline_at` (schedule-to-close) → `TASK_ENQUEUE_TO_END_TIMEOUT`;
 * - `heartbeat_timeout_ms`, restarted by every heartbeat → `TASK_HEARTBEAT_TIMEOUT`.
 *
 * @internal
 * @module
 */
import type { Definition } from "../client/definition.js";
import { LeaseLostError } from "../errors.js";
import type { RunningTask } from "../task.js";

/**
 * Why a worker aborts an attempt from outside the handler: cancelled (task or process), marked
 * completed by an operator, past its deadline, lease lost, or the worker is shutting down.
 */
export type AbortCause = "cancelled" | "completed" | "deadline" | "lease_lost" | "shutdown";

/** The per-attempt timeouts, named as the recovery events they record. */
export type TimeoutEvent = "TASK_POLL_TO_END_TIMEOUT" | "TASK_ENQUEUE_TO_END_TIMEOUT" | "TASK_HEARTBEAT_TIMEOUT";

const timeoutMessages: Record<TimeoutEvent, string> = {
  TASK_POLL_TO_END_TIMEOUT: "the attempt ran longer than startToCloseMs",
  TASK_ENQUEUE_TO_END_TIMEOUT: "the task did not finish before its deadline (scheduleToCloseMs)",
  TASK_HEARTBEAT_TIMEOUT: "the handler sent no heartbeat within heartbeatMs",
};

/** The error an attempt's signal is aborted with when a timeout fires (its `code` is the event). */
export class AttemptTimeoutError extends Error {
  readonly code: TimeoutEvent;

  constructor(event: TimeoutEvent, taskId: string) {
    super(`task ${taskId}: ${timeoutMessages[event]}`);
    this.name = "TimeoutError";
    this.code = event;
  }
}

/** Largest delay setTimeout takes; longer deadlines are left to maintenance. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** @internal */
export class Attempt {
  // Made on first use of `signal`: most handlers never read it, and an AbortController per
  // attempt was 2–3% of a no-op drain's CPU.
  #controller: AbortController | undefined;
  #reason: Error | undefined;
  #settled = false;
  #timer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  readonly #heartbeatMs: number | null;
  /** The handler's outcome being waited for and written (set as soon as the handler started). */
  outcome: Promise<void> | undefined;

  constructor(
    readonly task: RunningTask,
    readonly token: number,
    readonly definition: Definition,
    row: Record<string, unknown>,
    private readonly onTimeout: (event: TimeoutEvent) => void,
  ) {
    const startToClose = row.start_to_close_ms == null ? Infinity : Number(row.start_to_close_ms);
    // A claim answers the deadline as epoch milliseconds (deadline_ms); a full row, as a Date.
    const deadlineAt = row.deadline_ms != null ? (row.deadline_ms as number) : row.deadline_at != null ? (row.deadline_at as Date).getTime() : null;
    const deadline = deadlineAt === null ? Infinity : deadlineAt - Date.now();
    const first = Math.min(startToClose, deadline);
    if (first < MAX_TIMER_MS) {
      const event: TimeoutEvent = startToClose <= deadline ? "TASK_POLL_TO_END_TIMEOUT" : "TASK_ENQUEUE_TO_END_TIMEOUT";
      this.#timer = setTimeout(() => this.onTimeout(event), Math.max(0, first));
    }
    this.#heartbeatMs = row.heartbeat_timeout_ms == null ? null : Number(row.heartbeat_timeout_ms);
    this.heartbeat();
  }

  /** The handler's `ctx.signal`. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** True once the outcome is decided (reported, or dropped because the lease is gone). */
  get settled(): boolean {
    return this.#settled;
  }

  /** True when only the handler's heartbeats may extend the lease (the topic has heartbeatMs). */
  get ownHeartbeat(): boolean {
    return this.#heartbeatMs !== null;
  }

  /** Claims the right to report the outcome; false when something else already did. */
  settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.dispose();
    return true;
  }

  /** Restarts the heartbeat timeout. */
  heartbeat(): void {
    if (this.#heartbeatMs === null || this.#settled) return;
    clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = setTimeout(() => this.onTimeout("TASK_HEARTBEAT_TIMEOUT"), this.#heartbeatMs);
  }

  /** Aborts the handler's signal; returns the reason it was given. */
  abort(cause: AbortCause | TimeoutEvent): Error {
    const id = this.task.id;
    const reason =
      cause === "cancelled" ? new Error(`task ${id} was cancelled`)
      : cause === "completed" ? new Error(`task ${id} was marked completed by an operator`)
      : cause === "deadline" ? new AttemptTimeoutError("TASK_ENQUEUE_TO_END_TIMEOUT", id)
      : cause === "lease_lost" ? new LeaseLostError(`task ${id}: this attempt lost its lease`, { id })
      : cause === "shutdown" ? new Error(`task ${id}: the worker is shutting down`)
      : new AttemptTimeoutError(cause, id);
    this.#reason ??= reason;
    this.#controller?.abort(reason);
    return reason;
  }

  /** Clears the timers. */
  dispose(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#heartbeatTimer);
  }
}

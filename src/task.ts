/**
 * The task as the library shows it, its states, and the handler contract.
 *
 * @module
 */
import type { Logger } from "./logger.js";

/**
 * Where a task is in its life. See `docs/state-machine.md` for every transition and the SQL guard
 * that enforces it.
 *
 * - `pending`: waits for the steps it depends on.
 * - `ready`: runnable from `runAt` on.
 * - `running`: leased by a worker.
 * - `waiting`: waits for an external event.
 * - `suspended`: held by an operator.
 * - terminal: `completed`, `failed`, `cancelled`, `expired`.
 */
export type TaskState =
  | "pending"
  | "ready"
  | "running"
  | "waiting"
  | "suspended"
  | "completed"
  | "failed"
  | "cancelled"
  | "expired";

/** Every state, in lifecycle order. */
export const taskStates: readonly TaskState[] = [
  "pending", "ready", "running", "waiting", "suspended", "completed", "failed", "cancelled", "expired",
];

/** States a task never leaves on its own. */
export const terminalStates: readonly TaskState[] = ["completed", "failed", "cancelled", "expired"];

/** What a failed attempt left behind. */
export interface TaskError {
  message: string;
  name?: string;
  stack?: string;
  /** The Tasklane error code when the handler threw a Tasklane error (`FATAL`, `BUSINESS`, …). */
  code?: string;
  /** The application's code of a {@link BusinessError}. */
  businessCode?: string;
  /** The attempt that failed. */
  attempt: number;
}

/** A task as `getTask` returns it. Ids are strings (PostgreSQL `bigint`). */
export interface Task<Payload = unknown, Result = unknown> {
  id: string;
  topic: string;
  state: TaskState;
  payload: Payload;
  result: Result | null;
  error: TaskError | null;
  /** Attempts started so far (0 before the first). */
  attempt: number;
  maxAttempts: number;
  priority: number;
  runAt: Date;
  tags: string[];
  key: string | null;
  processId: string | null;
  step: string | null;
  /** The last progress a handler reported with `ctx.heartbeat(progress)`. */
  progress: unknown;
  /** The worker that runs (or last ran) the task. */
  workerId: string | null;
  /** When the running attempt last proved it is alive (claim, heartbeat). */
  heartbeatAt: Date | null;
  leaseExpiresAt: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** `enqueue`'s answer: the task, and whether this call created it (false: its key existed). */
export type EnqueuedTask<Payload = unknown> = Task<Payload> & { created: boolean };

/** One attempt that did not end in success, from the attempt history. */
export interface TaskAttempt {
  attempt: number;
  workerId: string | null;
  startedAt: Date | null;
  finishedAt: Date;
  /** `failed` | `retried` | `lease_expired` | `cancelled` | `timed_out` | `interrupted`. */
  outcome: string;
  error: TaskError | null;
}

/** A recovery event or operator action recorded against a task. */
export interface TaskEvent {
  id: string;
  /** e.g. `TASK_HEARTBEAT_TIMEOUT`, `CANCELLED`, `RETRIED`, `STALE_RESULT_REJECTED`. */
  kind: string;
  /** Who did it (an operator's name or token name), when an operator did. */
  actor: string | null;
  data: unknown;
  at: Date;
}

/** The task a handler receives: what it needs to do the work. */
export interface RunningTask<Payload = unknown> {
  id: string;
  topic: string;
  payload: Payload;
  /** This attempt's number, starting at 1. */
  attempt: number;
  maxAttempts: number;
  priority: number;
  tags: string[];
  key: string | null;
  processId: string | null;
  step: string | null;
  createdAt: Date;
}

/** What a handler gets besides its task. */
export interface TaskContext {
  /**
   * Aborted when the attempt must stop: the task was cancelled (on any node), its lease was lost,
   * a timeout passed, or the worker is shutting down past its grace period. Pass it to fetch,
   * database drivers and child processes.
   */
  signal: AbortSignal;
  /**
   * Reports progress and proves the handler is alive (required at least every `heartbeatMs`
   * when the topic sets it). Rejects with {@link LeaseLostError} when the attempt lost its lease.
   */
  heartbeat(progress?: unknown): Promise<void>;
  /** The worker's logger. */
  log: Logger;
  /** A process step: the process input. Undefined for a plain task. */
  input?: unknown;
  /** A process step: the results of its completed parents, by step name. */
  parents: Record<string, unknown>;
  /** A process step with `onFailure: "continue"` parents: the errors of parents that failed. */
  failedParents: Record<string, TaskError>;
  /** The event that woke this task after `waitForEvent`, if any. */
  event?: { name: string; data: unknown };
  /**
   * Ends this run by waiting for an external event: `return ctx.waitForEvent("payment.confirmed",
   * { timeoutMs })`. The task goes `waiting` (no worker holds it); `sendEvent` makes it ready
   * again and its next run sees `ctx.event`. Without the event in time, the task fails
   * (`EVENT_TIMEOUT`). Waiting does not use up a retry.
   */
  waitForEvent(name: string, options?: { timeoutMs?: number }): WaitForEvent;
}

/** What `ctx.waitForEvent` returns; a handler returns it to wait. */
export class WaitForEvent {
  /** @internal */
  constructor(
    readonly name: string,
    readonly timeoutMs: number | null,
  ) {}
}

/** A task handler. What it returns (JSON) is stored as the task's result. */
export type TaskHandler<Payload = unknown, Result = unknown> = (
  task: RunningTask<Payload>,
  ctx: TaskContext,
) => Promise<Result> | Result;

/** How an attempt ended, as `onExit` hooks see it. */
export type ExitOutcome = "completed" | "failed" | "retrying" | "waiting" | "cancelled" | "crashed" | "interrupted" | "lease_lost";

/** Converts a database row (either driver) to the public {@link Task}. */
export function taskFromRow(row: Record<string, unknown>): Task {
  return {
    id: String(row.id),
    topic: row.topic as string,
    state: row.state as TaskState,
    payload: row.payload,
    result: (row.result ?? null) as unknown,
    error: (row.error ?? null) as TaskError | null,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    priority: Number(row.priority),
    runAt: row.run_at as Date,
    tags: (row.tags as string[] | null) ?? [],
    key: (row.key as string | null) ?? null,
    processId: row.process_id == null ? null : String(row.process_id),
    step: (row.step as string | null) ?? null,
    progress: row.progress ?? null,
    workerId: (row.lease_owner as string | null) ?? null,
    heartbeatAt: (row.heartbeat_at as Date | null) ?? null,
    leaseExpiresAt: (row.lease_expires_at as Date | null) ?? null,
    createdAt: row.created_at as Date,
    startedAt: (row.started_at as Date | null) ?? null,
    finishedAt: (row.finished_at as Date | null) ?? null,
  };
}

/** The handler's view of a task row (claim rows and full rows alike). */
export function runningTaskFromRow(row: Record<string, unknown>): RunningTask {
  return {
    id: String(row.id),
    topic: row.topic as string,
    payload: row.payload,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    priority: Number(row.priority),
    tags: (row.tags as string[] | null) ?? [],
    key: (row.key as string | null) ?? null,
    processId: row.process_id == null ? null : String(row.process_id),
    step: (row.step as string | null) ?? null,
    // A claim answers epoch milliseconds (created_ms); a full row, a Date.
    createdAt: row.created_ms != null ? new Date(row.created_ms as number) : (row.created_at as Date),
  };
}

/** Converts an error thrown by a handler into what is stored. */
export function errorRecord(err: unknown, attempt: number): TaskError {
  if (err instanceof Error) {
    const record: TaskError = { message: err.message || err.name, name: err.name, attempt };
    if (err.stack) record.stack = err.stack;
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string") record.code = code;
    const businessCode = (err as { businessCode?: unknown }).businessCode;
    if (typeof businessCode === "string") record.businessCode = businessCode;
    return record;
  }
  return { message: typeof err === "string" ? err : safeJson(err) ?? String(err), attempt };
}

/** JSON text of a value, or undefined when it is not JSON (BigInt, cycles, functions). */
export function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * The error vocabulary of Tasklane. Every error the library throws on purpose is a
 * {@link TasklaneError} with a stable `code`; the HTTP API maps codes to statuses and the CLI
 * to exit codes, so nobody has to match on messages. Every code is documented in
 * `docs/errors.md` (a test keeps the two in step).
 *
 * @module
 */

/** Stable error codes. Never renamed once released. */
export type ErrorCode =
  | "VALIDATION"
  | "CONFLICT"
  | "NOT_FOUND"
  | "INVALID_STATE"
  | "LEASE_LOST"
  | "FATAL"
  | "BUSINESS"
  | "CLOSED"
  | "MIGRATION"
  | "RETRY_AFTER"
  | "BACKPRESSURE";

/** Base class of every error Tasklane throws on purpose. */
export class TasklaneError extends Error {
  /** Stable machine-readable code; see `docs/errors.md`. */
  readonly code: ErrorCode;
  /** Structured context (which field, which id, …) for logs and API bodies. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/**
 * Bad input: an unknown option, a value out of range, a payload that is not JSON. Nothing was
 * written. `details.issues` lists each problem with its path.
 *
 * @example
 * try { await tl.enqueue("", {}) } catch (e) { if (e instanceof ValidationError) console.log(e.details) }
 */
export class ValidationError extends TasklaneError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("VALIDATION", message, details);
  }
}

/** The request contradicts what already exists (an idempotency key used by another topic, …). */
export class ConflictError extends TasklaneError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("CONFLICT", message, details);
  }
}

/** No task, process or schedule with that id. */
export class NotFoundError extends TasklaneError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("NOT_FOUND", message, details);
  }
}

/** The object exists but is in a state that does not allow the action (retry a completed task). */
export class InvalidStateError extends TasklaneError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("INVALID_STATE", message, details);
  }
}

/**
 * The caller no longer holds the task's lease: the attempt timed out, was cancelled or was taken
 * over after a crash. Its heartbeat, result or failure was rejected and recorded; the task's
 * state was not changed by it.
 */
export class LeaseLostError extends TasklaneError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("LEASE_LOST", message, details);
  }
}

/**
 * Thrown by a handler to fail its task at once, without the retries left in its policy.
 *
 * @example
 * tl.define("email.send", async (task) => {
 *   if (!task.payload.to) throw new FatalError("no recipient");
 * });
 */
export class FatalError extends TasklaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("FATAL", message, undefined, options);
  }
}

/**
 * A business (BPMN-style) error: the work was done and the answer is "no". Not retried; recorded
 * with its `businessCode` apart from technical failures.
 *
 * @example
 * throw new BusinessError("INSUFFICIENT_FUNDS", "card declined");
 */
export class BusinessError extends TasklaneError {
  /** The application's own code for the outcome, e.g. `INSUFFICIENT_FUNDS`. */
  readonly businessCode: string;

  constructor(businessCode: string, message?: string) {
    super("BUSINESS", message ?? businessCode, { businessCode });
    this.businessCode = businessCode;
  }
}

/**
 * Thrown by a handler to be retried after a given delay instead of the policy's backoff (a
 * rate-limited API said when to come back). Counts as an attempt; when none is left, the task fails.
 *
 * @example
 * if (res.status === 429) throw new RetryAfterError("rate limited", 30_000);
 */
export class RetryAfterError extends TasklaneError {
  /** How long to wait before the next attempt, in milliseconds. */
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    const ms = Math.max(0, Math.min(Math.round(retryAfterMs), 2_147_483_647));
    super("RETRY_AFTER", message, { retryAfterMs: ms }, options);
    this.retryAfterMs = ms;
  }
}

/**
 * Too many unfinished tasks (the `backpressure` limit of `open`): enqueue again later.
 * `details.retryAfterMs` suggests when.
 */
export class BackpressureError extends TasklaneError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("BACKPRESSURE", message, details);
  }
}

/** The instance was closed; open a new one. */
export class ClosedError extends TasklaneError {
  constructor(message = "this Tasklane instance is closed; open a new one with Tasklane.open()") {
    super("CLOSED", message);
  }
}

/**
 * The database schema could not be migrated, or (with `{ migrate: false }`) lacks migrations
 * this release needs.
 */
export class MigrationError extends TasklaneError {
  constructor(message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super("MIGRATION", message, details, options);
  }
}

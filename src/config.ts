/**
 * Option schemas. One zod schema per options object gives the type, the defaults and the
 * validation; unknown keys are rejected, and every error names the field and the rule.
 *
 * @module
 */
import { z } from "zod";
import { ValidationError } from "./errors.js";
import { isPglite } from "./db/pglite-driver.js";
import type { PGlite } from "@electric-sql/pglite";

/**
 * PostgreSQL text and jsonb cannot hold NUL, and jsonb rejects unpaired UTF-16 surrogates: such
 * strings would fail in the database (or, in a key, come back changed). They are refused here.
 */
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when PostgreSQL can store the string as it is. */
export function storableText(value: string): boolean {
  return !BAD_TEXT.test(value);
}

/** A string zod schema that also refuses what PostgreSQL cannot store. */
const text = () => z.string().refine(storableText, "must not contain NUL characters or unpaired surrogates");

/**
 * Throws a {@link ValidationError} when a JSON value holds a string (or key) PostgreSQL cannot
 * store. `json` is the value's JSON text: JSON.stringify escapes exactly those characters as
 * `\u…`, so values without that sequence need no walk.
 */
export function assertStorableJson(value: unknown, json: string, field: string): void {
  if (!json.includes("\\u")) return;
  const walk = (v: unknown): boolean => {
    if (typeof v === "string") return storableText(v);
    if (Array.isArray(v)) return v.every(walk);
    if (v && typeof v === "object") return Object.entries(v).every(([k, x]) => storableText(k) && walk(x));
    return true;
  };
  if (!walk(value)) throw new ValidationError(`${field} contains a NUL character or an unpaired surrogate, which PostgreSQL cannot store`, { field });
}

/** Largest 32-bit signed integer: priorities and millisecond settings are stored as `integer`. */
const INT32_MAX = 2_147_483_647;

const ms = (what: string) => z.number({ error: `${what} must be a number of milliseconds` }).int().min(0).max(INT32_MAX);

/** Retry policy of a topic or a task. @see {@link RetryPolicy} */
export const retryPolicySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(1000).optional(),
  backoff: z.enum(["constant", "linear", "exponential"]).optional(),
  initialDelayMs: ms("initialDelayMs").optional(),
  maxDelayMs: ms("maxDelayMs").optional(),
  jitter: z.boolean().optional(),
});

/**
 * How often and how soon a failed task runs again.
 *
 * - `maxAttempts`: attempts in all, the first included (default 3).
 * - `backoff`: `constant` (always `initialDelayMs`), `linear` (`initialDelayMs × attempt`) or
 *   `exponential` (`initialDelayMs × 2^(attempt−1)`, the default).
 * - `initialDelayMs` (default 1,000) and `maxDelayMs`, the cap (default 300,000).
 * - `jitter` (default true): the delay is drawn from [½ delay, delay] so retries spread out.
 */
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

/** The retry policy applied where neither the task nor its topic says otherwise. */
export const defaultRetry = {
  maxAttempts: 3,
  backoff: "exponential",
  initialDelayMs: 1_000,
  maxDelayMs: 300_000,
  jitter: true,
} as const satisfies Required<RetryPolicy>;

/** Timeouts of a topic or a task. @see {@link Timeouts} */
export const timeoutsSchema = z.strictObject({
  startToCloseMs: ms("startToCloseMs").min(1).optional(),
  heartbeatMs: ms("heartbeatMs").min(1).optional(),
  scheduleToStartMs: ms("scheduleToStartMs").min(1).optional(),
  scheduleToCloseMs: ms("scheduleToCloseMs").min(1).optional(),
});

/**
 * Timeouts, each optional (none by default):
 * - `startToCloseMs`: one attempt may run this long (`TASK_POLL_TO_END_TIMEOUT`).
 * - `heartbeatMs`: the handler must call `ctx.heartbeat()` at least this often (`TASK_HEARTBEAT_TIMEOUT`).
 * - `scheduleToStartMs`: the task must start this soon after it became due (`TASK_SCHEDULE_TO_START_TIMEOUT`).
 * - `scheduleToCloseMs`: all attempts together may take this long (`TASK_ENQUEUE_TO_END_TIMEOUT`).
 */
export type Timeouts = z.infer<typeof timeoutsSchema>;

const topicSchema = z
  .string({ error: "topic must be a string" })
  .trim()
  .min(1, "topic must not be empty")
  .max(200, "topic must be at most 200 characters")
  .refine(storableText, "topic must not contain NUL characters or unpaired surrogates");

const tagsSchema = z.array(text().trim().min(1).max(100)).max(20);

/** A caller's database client for `enqueue(…, { tx })`: anything with `query(text, values)`. */
const clientSchema = z.custom<{ query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> }>(
  (v) => typeof v === "object" && v !== null && typeof (v as { query?: unknown }).query === "function",
  "tx must be a database client with a query(text, values) method (a pg Client or PoolClient inside BEGIN)",
);

/** Options of `enqueue` (and of each item of `enqueueMany`). */
export const enqueueOptionsSchema = z.strictObject({
  priority: z.number().int().min(-INT32_MAX).max(INT32_MAX).optional(),
  runAt: z
    .date()
    .refine((d) => Number.isNaN(d.getTime()) || (d.getUTCFullYear() >= 1970 && d.getUTCFullYear() <= 9999), "runAt must be between 1970 and 9999")
    .optional(),
  delayMs: ms("delayMs").optional(),
  key: text().min(1).max(255).optional(),
  tags: tagsSchema.optional(),
  retry: retryPolicySchema.optional(),
  timeouts: timeoutsSchema.optional(),
  tx: clientSchema.optional(),
  /** With a `backpressure` limit: how long to wait for room (0: fail at once with BackpressureError). */
  backpressureWaitMs: ms("backpressureWaitMs").optional(),
});

/** Options of {@link Tasklane.enqueue}. */
export type EnqueueOptions = z.infer<typeof enqueueOptionsSchema>;

/** Options of {@link Tasklane.define}, merged into every task of the topic. */
export const defineOptionsSchema = z.strictObject({
  retry: retryPolicySchema.optional(),
  timeouts: timeoutsSchema.optional(),
  tags: tagsSchema.optional(),
  resumable: z.boolean().optional(),
  onExit: z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", "onExit must be a function").optional(),
});

/** Options of {@link Tasklane.worker}. */
export const workerOptionsSchema = z.strictObject({
  topics: z.array(topicSchema).min(1).optional(),
  concurrency: z.number().int().min(1).max(100_000).default(10),
  tags: tagsSchema.optional(),
  pollIntervalMs: ms("pollIntervalMs").min(10).default(1_000),
  leaseMs: ms("leaseMs").min(100).default(30_000),
  /**
   * Tasks claimed beyond `concurrency`, waiting in a local buffer for a free handler slot
   * (default 0). Raises throughput for short tasks; keep it small for long ones, whose
   * buffered tasks other workers cannot take meanwhile.
   */
  prefetch: z.number().int().min(0).max(100_000).default(0),
  /**
   * Handoff (default true): while it has nothing to claim, the worker offers its free slots, and
   * a single `enqueue` due now hands its task to it in the inserting statement, so the handler
   * starts on a notification instead of after a claim (about half the enqueue-to-start latency).
   * Turn it off to have every task go through `ready` and a claim.
   */
  handoff: z.boolean().default(true),
  id: z.string().min(1).max(200).optional(),
});

/** Options of {@link Tasklane.worker}. */
export type WorkerOptions = z.input<typeof workerOptionsSchema>;

/** Options of {@link Tasklane.open}. */
export const openOptionsSchema = z.strictObject({
  database: z
    .union([z.string().min(1), z.custom<PGlite>(isPglite, "database must be a URL string or a PGlite instance")])
    .optional(),
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "schema must be a lower-case SQL identifier (letters, digits, _)")
    .default("tasklane"),
  migrate: z.boolean().default(true),
  poolSize: z.number().int().min(1).max(1000).default(10),
  logger: z
    .custom<object>(
      (v) => typeof v === "object" && v !== null && ["debug", "info", "warn", "error"].every((m) => typeof (v as Record<string, unknown>)[m] === "function"),
      "logger must be an object with debug, info, warn and error methods (pino, bunyan, …)",
    )
    .optional(),
  // Declarative set-up: checked in depth by define(), schedule() and worker() themselves.
  tasks: z.record(z.string(), z.unknown()).optional(),
  schedules: z.record(z.string(), z.unknown()).optional(),
  worker: z.union([z.literal(false), z.record(z.string(), z.unknown())]).optional(),
  maxPayloadBytes: z.number().int().min(1).default(4 * 1024 * 1024),
  maintenance: z
    .union([
      z.literal(false),
      z.strictObject({
        intervalMs: ms("maintenance.intervalMs").min(10).default(1_000),
        leaderTermMs: ms("maintenance.leaderTermMs").min(100).default(10_000),
        workerLostAfterMs: ms("maintenance.workerLostAfterMs").min(100).default(60_000),
      }),
    ])
    .default({ intervalMs: 1_000, leaderTermMs: 10_000, workerLostAfterMs: 60_000 }),
  retention: z
    .strictObject({
      completedMs: z.number().int().min(0).default(7 * 24 * 60 * 60 * 1000),
      failedMs: z.number().int().min(0).default(30 * 24 * 60 * 60 * 1000),
      maxFinished: z.number().int().min(0).optional(),
    })
    .default({ completedMs: 7 * 24 * 60 * 60 * 1000, failedMs: 30 * 24 * 60 * 60 * 1000 }),
  backpressure: z
    .strictObject({
      maxUnfinished: z.number().int().min(1).optional(),
      maxUnfinishedPerTopic: z.union([z.number().int().min(1), z.record(z.string(), z.number().int().min(1))]).optional(),
      waitMs: ms("backpressure.waitMs").default(30_000),
    })
    .optional(),
});

/** Topic names: exported for the HTTP layer, which validates before it calls the library. */
export { topicSchema, tagsSchema, text as storableString };

/**
 * Parses `input` with `schema` or throws a {@link ValidationError} that lists every problem with
 * its path, e.g. `enqueue options: priority: Too big: expected number to be <=2147483647`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const text = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  throw new ValidationError(`invalid ${what}: ${text}`, { issues });
}

/** The last topic {@link parseTopic} accepted, and what it answered: a batch names one topic 1,000 times. */
let lastTopic: { input: string; output: string } | undefined;

/** Validates a topic name and returns it trimmed. */
export function parseTopic(topic: unknown): string {
  const last = lastTopic;
  if (last !== undefined && topic === last.input) return last.output;
  const result = topicSchema.safeParse(topic);
  if (!result.success) throw new ValidationError(`invalid topic: ${result.error.issues[0]!.message}`, { field: "topic" });
  lastTopic = { input: topic as string, output: result.data };
  return result.data;
}

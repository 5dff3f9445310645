/**
 * Validation of the external-task operations' arguments (the library's own, strict conventions:
 * unknown options are errors). The HTTP dialects validate their bodies leniently first and then
 * call the library with these shapes.
 *
 * @internal
 * @module
 */
import { z } from "zod";
import { storableString, tagsSchema, topicSchema } from "../config.js";
import { ValidationError } from "../errors.js";

/** Largest 32-bit signed integer: lock durations and delays are stored as `integer` ms. */
export const INT32_MAX = 2_147_483_647;

/** Longest long poll: Camunda's limit for `asyncResponseTimeout` (30 minutes). */
export const maxLongPollMs = 1_800_000;

/** Most tasks one fetch locks. */
export const maxFetchTasks = 1_000;

/** A worker id: any non-empty text PostgreSQL can store, up to 200 characters. */
export const workerIdSchema = storableString().min(1, "workerId must not be empty").max(200, "workerId must be at most 200 characters");

/** A duration in ms that fits the database's `integer` columns; `min` 1 for locks. */
export const durationSchema = (what: string, min = 1) =>
  z.number({ error: `${what} must be a number of milliseconds` }).int(`${what} must be an integer`).min(min).max(INT32_MAX);

const fetchTopicSchema = z.strictObject({
  topic: topicSchema,
  lockDurationMs: durationSchema("lockDurationMs").optional(),
  businessKey: storableString().optional(),
  processNames: z.array(storableString()).max(1000).optional(),
});

/** Options of `fetchAndLock` (the signal is checked apart: zod would copy it). */
export const fetchAndLockSchema = z.strictObject({
  workerId: workerIdSchema,
  topics: z.array(z.union([topicSchema, fetchTopicSchema])).max(1000),
  maxTasks: z.number().int().min(0).max(maxFetchTasks).default(10),
  lockDurationMs: durationSchema("lockDurationMs").default(30_000),
  longPollMs: z.number().int().min(0).max(maxLongPollMs).default(0),
  tags: tagsSchema.optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, "signal must be an AbortSignal").optional(),
});

/** Options of `fail`. */
export const failureSchema = z.strictObject({
  message: storableString().max(100_000),
  details: z.unknown().optional(),
  errorCode: storableString().max(1000).optional(),
  retries: z.number().int().min(0).max(INT32_MAX).optional(),
  retryTimeoutMs: durationSchema("retryTimeoutMs", 0).optional(),
});

/** Filters, sorting and paging of `list` and `count`. */
export const listSchema = z.strictObject({
  topic: storableString().optional(),
  workerId: storableString().optional(),
  locked: z.boolean().optional(),
  notLocked: z.boolean().optional(),
  withRetriesLeft: z.boolean().optional(),
  noRetriesLeft: z.boolean().optional(),
  active: z.boolean().optional(),
  suspended: z.boolean().optional(),
  priorityAtLeast: z.number().int().min(-INT32_MAX).max(INT32_MAX).optional(),
  priorityAtMost: z.number().int().min(-INT32_MAX).max(INT32_MAX).optional(),
  ids: z.array(z.string()).max(10_000).optional(),
  processIds: z.array(z.string()).max(10_000).optional(),
  step: storableString().optional(),
  sortBy: z.enum(["id", "priority", "createTime", "lockExpirationTime", "processInstanceId"]).optional(),
  descending: z.boolean().optional(),
  offset: z.number().int().min(0).max(INT32_MAX).optional(),
  limit: z.number().int().min(0).max(1000).optional(),
});

/** A task id as the database takes it, or null when it cannot be one (then: no such task). */
export function parseTaskId(id: unknown): string | null {
  const text = typeof id === "number" ? String(id) : id;
  return typeof text === "string" && /^[1-9]\d{0,18}$/.test(text) && BigInt(text) < 2n ** 63n ? text : null;
}

/** Validates a worker id argument. */
export function parseWorkerId(workerId: unknown): string {
  const result = workerIdSchema.safeParse(workerId);
  if (!result.success) throw new ValidationError(`invalid workerId: ${result.error.issues[0]!.message}`, { field: "workerId" });
  return result.data;
}

/** Validates a duration argument. */
export function parseDuration(value: unknown, field: string, min = 1): number {
  const result = durationSchema(field, min).safeParse(value);
  if (!result.success) throw new ValidationError(`invalid ${field}: ${result.error.issues[0]!.message}`, { field });
  return result.data;
}

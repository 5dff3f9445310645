/**
 * Schedule options: validation (zod, with croner for the expression and `Intl` for the time
 * zone), defaults, the normalised {@link ScheduleSpec} the rest of the code works with, and the
 * next-tick arithmetic. Every next run is computed by croner in the schedule's time zone, so
 * daylight-saving changes follow croner's rules (see docs/schedules.md).
 *
 * @internal
 * @module
 */
import { createHash } from "node:crypto";
import { Cron } from "croner";
import { z } from "zod";
import { tagsSchema, topicSchema } from "../config.js";
import { taskInput } from "../client/enqueue.js";
import { ValidationError } from "../errors.js";

/** What a tick does while an earlier run of the same schedule has not finished. */
export type ScheduleOverlap = "skip" | "allow" | "cancel-previous";

/** Default `checkinMarginMs`: room for a maintenance failover (leaderTermMs, 10 s by default) and more. */
export const defaultCheckinMarginMs = 60_000;

const INT32_MAX = 2_147_483_647;
const ms = (what: string) => z.number({ error: `${what} must be a number of milliseconds` }).int().min(0).max(INT32_MAX);

/** True for a time zone `Intl` (and so croner) knows, e.g. `Europe/Oslo` or `UTC`. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const cronSchema = z.string({ error: "cron must be a cron expression (a string)" }).trim().min(1, "cron must not be empty").max(200);
const timezoneSchema = z
  .string({ error: "timezone must be an IANA time zone name (a string)" })
  .trim()
  .superRefine((tz, ctx) => {
    if (!isTimeZone(tz)) ctx.addIssue({ code: "custom", message: `unknown time zone "${tz}": use an IANA name such as Europe/Oslo or UTC` });
  });

/** Names appear in task keys, events and (later) URLs: keep them plain. */
export const scheduleNameSchema = z
  .string({ error: "a schedule name must be a string" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/, "a schedule name is 1–200 letters, digits, _ . : or -, starting with a letter or digit");

const fields = {
  timezone: timezoneSchema,
  payload: z.unknown(),
  checkinMarginMs: ms("checkinMarginMs"),
  maxRuntimeMs: ms("maxRuntimeMs").min(1),
  overlap: z.enum(["skip", "allow", "cancel-previous"]),
  tags: tagsSchema,
  enabled: z.boolean(),
  maxRuns: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  maxConsecutiveFailures: z.number().int().min(1).max(10_000),
  backfill: z.boolean(),
};

/** Options of `tl.schedule` and `createSchedule`. */
export const scheduleOptionsSchema = z.strictObject({
  cron: cronSchema,
  topic: topicSchema,
  timezone: fields.timezone.optional(),
  payload: fields.payload.optional(),
  checkinMarginMs: fields.checkinMarginMs.optional(),
  maxRuntimeMs: fields.maxRuntimeMs.optional(),
  overlap: fields.overlap.optional(),
  tags: fields.tags.optional(),
  enabled: fields.enabled.optional(),
  maxRuns: fields.maxRuns.optional(),
  maxConsecutiveFailures: fields.maxConsecutiveFailures.optional(),
  backfill: fields.backfill.optional(),
});

/** Options of `updateSchedule`: any subset; `null` clears an optional limit or the tags. */
export const schedulePatchSchema = z.strictObject({
  cron: cronSchema.optional(),
  topic: topicSchema.optional(),
  timezone: fields.timezone.optional(),
  payload: fields.payload.optional(),
  checkinMarginMs: fields.checkinMarginMs.optional(),
  maxRuntimeMs: fields.maxRuntimeMs.nullable().optional(),
  overlap: fields.overlap.optional(),
  tags: fields.tags.nullable().optional(),
  maxRuns: fields.maxRuns.nullable().optional(),
  maxConsecutiveFailures: fields.maxConsecutiveFailures.nullable().optional(),
  backfill: fields.backfill.optional(),
});

/**
 * A schedule's options. Only `cron` and `topic` are required.
 *
 * - `cron`: 5 fields (minutes), 6 (seconds first) or 7 (with years); `@daily` and the like too.
 * - `timezone`: IANA name the expression is read in (default `UTC`).
 * - `topic`, `payload`: the task each tick enqueues (payload default `null`).
 * - `checkinMarginMs`: a tick evaluated later than this after its time is missed: skipped and
 *   recorded, unless `backfill` (default 60,000).
 * - `maxRuntimeMs`: each attempt of a run is aborted (its `ctx.signal`) and fails after this long.
 * - `overlap`: `skip` (default), `allow` or `cancel-previous` while an earlier run is unfinished.
 * - `tags`: tags of the run tasks (default: the topic's).
 * - `enabled` (default true), `maxRuns` (ends the schedule after that many runs),
 *   `maxConsecutiveFailures` (disables it after that many failed runs in a row), `backfill`
 *   (run missed ticks however late; default false).
 */
export type ScheduleOptions = z.input<typeof scheduleOptionsSchema>;

/** A partial change of a schedule, for `updateSchedule`. */
export type SchedulePatch = z.input<typeof schedulePatchSchema>;

/** A validated schedule with every default applied. */
export interface ScheduleSpec {
  cron: string;
  timezone: string;
  topic: string;
  payload: unknown;
  /** The payload as JSON text, as the run tasks carry it. */
  payloadJson: string;
  checkinMarginMs: number;
  maxRuntimeMs: number | null;
  overlap: ScheduleOverlap;
  tags: string[] | null;
  enabled: boolean;
  maxRuns: number | null;
  maxConsecutiveFailures: number | null;
  backfill: boolean;
}

/** Like `parseOptions`, but `details.field` names the first offending field (`cron`, `timezone`, …). */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const unknownKeys = result.error.issues.find((i) => i.code === "unrecognized_keys") as { keys?: string[] } | undefined;
  const field = issues.find((i) => i.path)?.path ?? unknownKeys?.keys?.[0] ?? null;
  const text = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  throw new ValidationError(`invalid ${what}: ${text}`, { field, issues });
}

/** Validates a schedule name. */
export function parseScheduleName(name: unknown): string {
  const result = scheduleNameSchema.safeParse(name);
  if (result.success) return result.data;
  throw new ValidationError(`invalid schedule name: ${result.error.issues[0]!.message}`, { field: "name", name });
}

/** Compiles an expression in a time zone (no timer is started). Throws croner's error. */
export function compile(cron: string, timezone: string): Cron {
  return new Cron(cron, { timezone, paused: true });
}

/** The first tick strictly after `after`, or null when the expression never fires again. */
export function nextTick(cron: string, timezone: string, after: Date): Date | null {
  return compile(cron, timezone).nextRun(after);
}

/** Up to `n` ticks strictly after `after`. */
export function nextTicks(cron: string, timezone: string, n: number, after: Date): Date[] {
  return compile(cron, timezone).nextRuns(n, after);
}

/**
 * Validates `input` into a {@link ScheduleSpec}: the option schema, then what only croner can
 * tell (the expression parses, is not a one-off date, and fires again after `now`), then the
 * payload as `enqueue` would check it.
 */
export function parseScheduleSpec(name: string, input: unknown, now: Date, maxPayloadBytes: number): ScheduleSpec {
  const what = `options of schedule "${name}"`;
  const o = validate(scheduleOptionsSchema, input, what);
  const spec: ScheduleSpec = {
    cron: o.cron,
    timezone: o.timezone ?? "UTC",
    topic: o.topic,
    payload: o.payload ?? null,
    payloadJson: "null",
    checkinMarginMs: o.checkinMarginMs ?? defaultCheckinMarginMs,
    maxRuntimeMs: o.maxRuntimeMs ?? null,
    overlap: o.overlap ?? "skip",
    tags: o.tags ?? null,
    enabled: o.enabled ?? true,
    maxRuns: o.maxRuns ?? null,
    maxConsecutiveFailures: o.maxConsecutiveFailures ?? null,
    backfill: o.backfill ?? false,
  };
  checkExpression(what, spec, now);
  try {
    spec.payloadJson = taskInput(spec.topic, spec.payload, {}, maxPayloadBytes).payloadJson;
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`invalid ${what}: ${err.message}`, { ...err.details, field: "payload" });
    throw err;
  }
  return spec;
}

function checkExpression(what: string, spec: ScheduleSpec, now: Date): void {
  const fail = (message: string) => {
    throw new ValidationError(`invalid ${what}: cron: ${message}`, { field: "cron", cron: spec.cron, issues: [{ path: "cron", message }] });
  };
  let job: Cron;
  try {
    job = compile(spec.cron, spec.timezone);
  } catch (err) {
    return fail(`"${spec.cron}" is not a cron expression: ${(err as Error).message}`);
  }
  if (job.getOnce()) fail(`"${spec.cron}" is a date, not a recurring cron expression`);
  if (!job.nextRun(now)) fail(`"${spec.cron}" never fires after ${now.toISOString()}`);
}

/**
 * Hash of what a code declaration says. A sync rewrites a code schedule only when this changes,
 * so pauses and runtime updates survive restarts until the declaration is edited.
 */
export function specHash(spec: ScheduleSpec): string {
  const canonical = JSON.stringify([
    spec.cron, spec.timezone, spec.topic, spec.payloadJson, spec.checkinMarginMs, spec.maxRuntimeMs, spec.overlap,
    spec.tags, spec.enabled, spec.maxRuns, spec.maxConsecutiveFailures, spec.backfill,
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 32);
}

/** The idempotency key of the run of one tick: the unique index makes a second run impossible. */
export function runKey(name: string, tick: Date): string {
  return `schedule:${name}:${tick.toISOString()}`;
}

/**
 * Which schedule and tick a task was enqueued for, read from its key; null for other tasks.
 *
 * @example
 * tl.define("report.build", async (task) => {
 *   const run = scheduledRun(task); // { schedule: "nightly-report", tickAt: Date } | null
 * });
 */
export function scheduledRun(task: { key: string | null }): { schedule: string; tickAt: Date } | null {
  const key = task.key;
  if (!key?.startsWith("schedule:") || key.length < "schedule:".length + 26) return null;
  const iso = key.slice(-24);
  const tickAt = new Date(iso);
  if (Number.isNaN(tickAt.getTime()) || key[key.length - 25] !== ":") return null;
  return { schedule: key.slice("schedule:".length, -25), tickAt };
}

/**
 * Schedules as the library shows them, and their conversion from database rows.
 *
 * @module
 */
import type { TaskError, TaskState } from "../task.js";
import type { ScheduleOverlap, ScheduleSpec } from "./spec.js";

/** A schedule as `getSchedule` and `listSchedules` return it. */
export interface Schedule {
  name: string;
  cron: string;
  timezone: string;
  topic: string;
  payload: unknown;
  /** Tags of the run tasks; null: the topic's own. */
  tags: string[] | null;
  checkinMarginMs: number;
  maxRuntimeMs: number | null;
  overlap: ScheduleOverlap;
  backfill: boolean;
  maxRuns: number | null;
  maxConsecutiveFailures: number | null;
  enabled: boolean;
  /** `code`: declared with `tl.schedule()`; `api`: created at runtime. */
  origin: "code" | "api";
  /** The next tick to be evaluated; null while disabled. */
  nextRunAt: Date | null;
  /** The last tick that ran or was skipped for an overlap. */
  lastTickAt: Date | null;
  /** The task of the most recent run. */
  lastTaskId: string | null;
  /** Runs created so far. */
  runs: number;
  /** Failed runs since the last completed one (as of the last cron pass). */
  consecutiveFailures: number;
  /** Why the schedule is disabled: paused, `maxRuns` reached, too many failures, or disabled in code. */
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One run of a schedule: the task a tick enqueued. */
export interface ScheduleRun {
  tickAt: Date;
  taskId: string;
  /** The task's state; null when the task was pruned. */
  state: TaskState | null;
  attempt: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: TaskError | null;
}

/**
 * Something that happened to a schedule. Kinds: `CREATED`, `UPDATED`, `PAUSED`, `RESUMED`
 * (actor: the operator, or `code` for a sync); `TICKS_MISSED` (data: first, last, count);
 * `TICK_SKIPPED` (an overlap; data: the unfinished run ids); `PREVIOUS_CANCELLED`;
 * `MAX_RUNS_REACHED`; `DISABLED` (too many consecutive failures; data: the last error).
 */
export interface ScheduleEvent {
  id: string;
  kind: string;
  tickAt: Date | null;
  taskId: string | null;
  actor: string | null;
  data: unknown;
  at: Date;
}

/** A schedule with its upcoming ticks and its latest runs, newest first. */
export interface ScheduleInfo extends Schedule {
  nextRuns: Date[];
  recentRuns: ScheduleRun[];
}

/** A schedule with upcoming ticks, latest runs and latest events (newest first). */
export interface ScheduleDetails extends ScheduleInfo {
  events: ScheduleEvent[];
}

/** What a sync did. */
export interface ScheduleSyncResult {
  created: string[];
  updated: string[];
  deleted: string[];
}

const num = (v: unknown): number | null => (v == null ? null : Number(v));

/** Converts a schedule row (either driver) to a {@link Schedule}. @internal */
export function scheduleFromRow(r: Record<string, unknown>): Schedule {
  return {
    name: r.name as string,
    cron: r.cron as string,
    timezone: r.timezone as string,
    topic: r.topic as string,
    payload: r.payload ?? null,
    tags: (r.tags as string[] | null) ?? null,
    checkinMarginMs: Number(r.checkin_margin_ms),
    maxRuntimeMs: num(r.max_runtime_ms),
    overlap: r.overlap as ScheduleOverlap,
    backfill: Boolean(r.backfill),
    maxRuns: num(r.max_runs),
    maxConsecutiveFailures: num(r.max_consecutive_failures),
    enabled: Boolean(r.enabled),
    origin: r.origin as Schedule["origin"],
    nextRunAt: (r.next_run_at as Date | null) ?? null,
    lastTickAt: (r.last_tick_at as Date | null) ?? null,
    lastTaskId: r.last_task_id == null ? null : String(r.last_task_id),
    runs: Number(r.runs),
    consecutiveFailures: Number(r.consecutive_failures),
    disabledReason: (r.disabled_reason as string | null) ?? null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

/** The options a stored schedule was made with, to merge an update into. @internal */
export function optionsFromSchedule(s: Schedule): Record<string, unknown> {
  const o: Record<string, unknown> = {
    cron: s.cron, topic: s.topic, timezone: s.timezone, payload: s.payload, checkinMarginMs: s.checkinMarginMs,
    overlap: s.overlap, enabled: s.enabled, backfill: s.backfill,
  };
  if (s.maxRuntimeMs !== null) o.maxRuntimeMs = s.maxRuntimeMs;
  if (s.tags !== null) o.tags = s.tags;
  if (s.maxRuns !== null) o.maxRuns = s.maxRuns;
  if (s.maxConsecutiveFailures !== null) o.maxConsecutiveFailures = s.maxConsecutiveFailures;
  return o;
}

/** The spec a stored schedule holds (to rewrite it with a few values changed). @internal */
export function specFromSchedule(s: Schedule): ScheduleSpec {
  return {
    cron: s.cron, timezone: s.timezone, topic: s.topic, payload: s.payload, payloadJson: JSON.stringify(s.payload ?? null),
    checkinMarginMs: s.checkinMarginMs, maxRuntimeMs: s.maxRuntimeMs, overlap: s.overlap, tags: s.tags, enabled: s.enabled,
    maxRuns: s.maxRuns, maxConsecutiveFailures: s.maxConsecutiveFailures, backfill: s.backfill,
  };
}

/** Positional parameters $2…$13 of the statements that write a schedule's definition. @internal */
export function specParams(spec: ScheduleSpec): unknown[] {
  return [
    spec.cron, spec.timezone, spec.topic, spec.payloadJson, spec.tags, spec.checkinMarginMs, spec.maxRuntimeMs,
    spec.overlap, spec.backfill, spec.maxRuns, spec.maxConsecutiveFailures, spec.enabled,
  ];
}

/** Converts a ScheduleRecentRuns row to a {@link ScheduleRun}. @internal */
export function runFromRow(r: Record<string, unknown>): ScheduleRun {
  return {
    tickAt: r.tick_at as Date,
    taskId: String(r.task_id),
    state: (r.state as TaskState | null) ?? null,
    attempt: Number(r.attempt ?? 0),
    startedAt: (r.started_at as Date | null) ?? null,
    finishedAt: (r.finished_at as Date | null) ?? null,
    error: (r.error ?? null) as TaskError | null,
  };
}

/** Converts a schedule_event row to a {@link ScheduleEvent}. @internal */
export function eventFromRow(r: Record<string, unknown>): ScheduleEvent {
  return {
    id: String(r.id),
    kind: r.kind as string,
    tickAt: (r.tick_at as Date | null) ?? null,
    taskId: r.task_id == null ? null : String(r.task_id),
    actor: (r.actor as string | null) ?? null,
    data: r.data ?? null,
    at: r.at as Date,
  };
}

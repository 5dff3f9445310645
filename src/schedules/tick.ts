/**
 * One cron pass: settle finished runs (failure counting, auto-disable), then evaluate every
 * due schedule tick by tick. Each tick is one transaction: the guarded claim on the schedule
 * row (ScheduleClaimTick), the overlap policy, and the run task written with `insertTasks` in
 * the same transaction, so a claimed tick always has its run and an unclaimed one never has.
 *
 * @internal
 * @module
 */
import type { Cron } from "croner";
import type { Engine } from "../tasklane.js";
import type { Executor } from "../db/driver.js";
import { insertTasks, taskInput } from "../client/enqueue.js";
import { ConflictError } from "../errors.js";
import { compile, runKey } from "./spec.js";
import { scheduleFromRow, type Schedule } from "./types.js";

/** Due schedules read per pass; the rest wait for the next pass. */
const DUE_BATCH = 500;
/** Ticks of one schedule handled per pass, so a long backfill cannot starve the others. */
const TICKS_PER_PASS = 100;
/** Missed ticks counted one by one for the TICKS_MISSED event; beyond it the count is a floor. */
const COUNT_CAP = 10_000;

/** What one pass did (logs and tests). */
export interface PassStats {
  runs: number;
  skipped: number;
  missed: number;
  disabled: string[];
}

/** What one tick came to. */
type TickOutcome = "ran" | "skipped" | "deferred" | "lost";

/** Runs one pass at `now` (the scheduler's clock). */
export async function cronPass(engine: Engine, now: Date): Promise<PassStats> {
  const { driver, queries, logger } = engine;
  const stats: PassStats = { runs: 0, skipped: 0, missed: 0, disabled: [] };
  // A failed settle (say, a deadlock with another node's) must not keep this pass from ticking:
  // the next pass settles what this one could not.
  const settled = await driver
    .query<{ name: string; disabled: boolean; disabled_reason: string }>(queries.get("ScheduleSettleRuns"))
    .catch((err) => (logger.warn({ err }, "settling schedule runs failed; retrying next pass"), []));
  for (const s of settled.filter((r) => r.disabled)) {
    stats.disabled.push(s.name);
    logger.warn({ schedule: s.name, reason: s.disabled_reason }, "schedule disabled after consecutive failed runs");
  }
  const due = await driver.query<Record<string, unknown>>(queries.get("ScheduleDue"), [now, DUE_BATCH]);
  for (const row of due) {
    const schedule = scheduleFromRow(row);
    try {
      await evaluate(engine, schedule, now, stats);
    } catch (err) {
      // One broken schedule (say, its topic's key clashes) must not hold up the others.
      logger.warn({ err, schedule: schedule.name }, "evaluating a schedule failed; retrying next pass");
    }
  }
  return stats;
}

/** Handles the due ticks of one schedule, oldest first, until it is caught up. */
async function evaluate(engine: Engine, s: Schedule, now: Date, stats: PassStats): Promise<void> {
  const job = compile(s.cron, s.timezone);
  let expected: Date | null = s.nextRunAt;
  for (let i = 0; i < TICKS_PER_PASS && expected && expected <= now; i++) {
    const tick: Date = expected;
    if (now.getTime() - tick.getTime() > s.checkinMarginMs && !s.backfill) {
      const first = job.nextRun(new Date(now.getTime() - s.checkinMarginMs - 1));
      const skipped = await engine.driver.transaction(async (tx) => skipMissed(engine, tx, s, job, tick, first));
      if (skipped === 0) return;
      stats.missed += skipped;
      expected = first;
      continue;
    }
    const next = job.nextRun(tick);
    const outcome = await engine.driver.transaction((tx) => runTick(engine, tx, s, tick, next));
    if (outcome === "ran") stats.runs++;
    if (outcome === "skipped") stats.skipped++;
    // Lost: another node claimed it, or the schedule changed or ended (maxRuns) meanwhile.
    if (outcome === "lost" || outcome === "deferred") return;
    expected = next;
  }
}

/**
 * Every tick from `tick` up to (not including) `first`, the first tick still within the
 * check-in margin, is skipped with one claim and recorded as one TICKS_MISSED event.
 */
async function skipMissed(engine: Engine, tx: Executor, s: Schedule, job: Cron, tick: Date, first: Date | null): Promise<number> {
  const { queries } = engine;
  const [claimed] = await tx.query(queries.get("ScheduleClaimTick"), [s.name, tick, first, null]);
  if (!claimed) return 0;
  let count = 0;
  let last = tick;
  for (let t: Date | null = tick; t && (!first || t < first) && count < COUNT_CAP; t = job.nextRun(t)) {
    count++;
    last = t;
  }
  const capped = count === COUNT_CAP;
  if (capped && first) last = job.previousRuns(1, first)[0] ?? last;
  await tx.query(queries.get("ScheduleEventInsert"), [
    s.name, "TICKS_MISSED", tick, null, null,
    JSON.stringify({ first: tick, last, count, countIsMinimum: capped, checkinMarginMs: s.checkinMarginMs }),
  ]);
  return count;
}

/** Claims one tick and applies the overlap policy; the run is written in the same transaction. */
async function runTick(engine: Engine, tx: Executor, s: Schedule, tick: Date, next: Date | null): Promise<TickOutcome> {
  const { queries, definitions } = engine;
  const event = (kind: string, taskId: string | null, data: unknown) =>
    tx.query(queries.get("ScheduleEventInsert"), [s.name, kind, tick, taskId, null, JSON.stringify(data)]);
  const open = await tx.query<{ task_id: string | number; state: string }>(queries.get("ScheduleOpenRuns"), [s.name]);
  const unfinished = open.map((r) => String(r.task_id));
  // Backfill never drops a tick: under `skip` the tick waits for the earlier run instead.
  if (unfinished.length && s.overlap === "skip" && s.backfill) return "deferred";
  const [claimed] = await tx.query(queries.get("ScheduleClaimTick"), [s.name, tick, next, tick]);
  if (!claimed) return "lost";
  if (unfinished.length && s.overlap === "skip") {
    await tx.query(queries.get("ScheduleSkipTick"), [s.name, tick, JSON.stringify(unfinished), tick.toISOString()]);
    return "skipped";
  }
  if (unfinished.length && s.overlap === "cancel-previous") {
    for (const id of unfinished) await tx.query(queries.get("TaskCancel"), [id, `schedule:${s.name}`]);
    await event("PREVIOUS_CANCELLED", null, { cancelled: unfinished });
  }
  const input = taskInput(s.topic, s.payload, {
    key: runKey(s.name, tick),
    ...(s.tags ? { tags: s.tags } : {}),
    ...(s.maxRuntimeMs !== null ? { timeouts: { startToCloseMs: s.maxRuntimeMs } } : {}),
  }, Number.MAX_SAFE_INTEGER);
  let task;
  try {
    [task] = await insertTasks(tx, queries, [input], definitions);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    await event("TICK_SKIPPED", err.details?.taskId == null ? null : String(err.details.taskId), { reason: "the run's key belongs to a task of another topic" });
    return "skipped";
  }
  if (!task!.created) {
    // Only a schedule deleted and re-created within one tick gets here: that tick already ran.
    await event("TICK_SKIPPED", task!.id, { reason: "this tick already has a run" });
    return "skipped";
  }
  await tx.query(queries.get("ScheduleRecordRun"), [s.name, tick, task!.id]);
  return "ran";
}

/**
 * The schedules of one instance: declarations made in code (`tl.schedule`), their sync to the
 * database, and the runtime operations (create, update, pause, resume, delete, read). The cron
 * pass itself is in `tick.ts`; the maintenance leader runs it through {@link CronService}.
 *
 * @internal
 * @module
 */
import type { Engine } from "../tasklane.js";
import type { Executor } from "../db/driver.js";
import { InvalidStateError, NotFoundError, ValidationError, ConflictError } from "../errors.js";
import { nextTick, nextTicks, parseScheduleName, parseScheduleSpec, schedulePatchSchema, specHash, validate, type ScheduleSpec } from "./spec.js";
import {
  eventFromRow, optionsFromSchedule, runFromRow, scheduleFromRow, specFromSchedule, specParams,
  type Schedule, type ScheduleDetails, type ScheduleInfo, type ScheduleRun, type ScheduleSyncResult,
} from "./types.js";
import { cronPass, type PassStats } from "./tick.js";

/** How much history a read returns. */
export interface ScheduleReadOptions {
  /** Upcoming ticks to compute (default 5). */
  nextRuns?: number;
  /** Latest runs to return (default 5 for lists, 10 for one schedule). */
  recentRuns?: number;
}

/** The schedules of one instance: declarations, sync, runtime operations and the cron pass. @internal */
export class Schedules {
  readonly #declared = new Map<string, ScheduleSpec>();
  #background: Promise<unknown> | undefined;

  /**
   * The scheduler's clock: every tick and next run is computed against it. Tests replace it to
   * make the time of a pass deterministic; run tasks still become due by the database's clock.
   */
  now: () => Date = () => new Date();

  constructor(
    private readonly engine: Engine,
    private readonly maxPayloadBytes: number,
  ) {}

  /** Validates and records a code declaration (written to the database by {@link sync}). */
  declare(name: unknown, options: unknown): void {
    const n = parseScheduleName(name);
    if (this.#declared.has(n)) throw new ValidationError(`schedule "${n}" is already declared on this instance`, { field: "name", name: n });
    this.#declared.set(n, parseScheduleSpec(n, options, this.now(), this.maxPayloadBytes));
    // Declared after the start-up sync: write it too.
    if (this.#background) this.#queueSync();
  }

  /** Names declared on this instance. */
  declared(): string[] {
    return [...this.#declared.keys()];
  }

  /**
   * Syncs once in the background (maintenance start; later calls do nothing). An instance that
   * declares no schedule leaves the stored ones alone, so a process that only runs workers
   * cannot delete another's.
   */
  startSync(): void {
    if (!this.#background) this.#queueSync();
  }

  /** Resolves when no background sync is in flight (close waits for it). */
  async idle(): Promise<void> {
    await this.#background;
  }

  #queueSync(): void {
    const previous = this.#background ?? Promise.resolve();
    this.#background = previous.then(() =>
      this.sync({ prune: this.#declared.size > 0 }).catch((err) => this.engine.logger.error({ err }, "syncing schedules failed")),
    );
  }

  /** Upserts the declared schedules; with `prune` (default), deletes code schedules no longer declared. */
  async sync(options: { prune?: boolean } = {}): Promise<ScheduleSyncResult> {
    const { driver, queries, logger } = this.engine;
    const now = this.now();
    const result: ScheduleSyncResult = { created: [], updated: [], deleted: [] };
    for (const [name, spec] of this.#declared) {
      const first = spec.enabled ? nextTick(spec.cron, spec.timezone, now) : null;
      const [row] = await driver.query<{ inserted: boolean }>(queries.get("ScheduleUpsertCode"), [
        name, ...specParams(spec), specHash(spec), first, now,
      ]);
      if (row) (row.inserted ? result.created : result.updated).push(name);
    }
    if (options.prune ?? true) {
      const stored = await driver.query<{ name: string }>(queries.get("ScheduleCodeNames"));
      for (const { name } of stored) {
        if (!this.#declared.has(name) && (await this.#remove(name, "code"))) result.deleted.push(name);
      }
    }
    if (result.created.length + result.updated.length + result.deleted.length) logger.info(result, "schedules synced");
    return result;
  }

  /** Creates a schedule at runtime; a name that exists is a {@link ConflictError}. */
  async create(name: unknown, options: unknown, actor: string | null): Promise<Schedule> {
    const n = parseScheduleName(name);
    const now = this.now();
    const spec = parseScheduleSpec(n, options, now, this.maxPayloadBytes);
    const first = spec.enabled ? nextTick(spec.cron, spec.timezone, now) : null;
    const { driver, queries } = this.engine;
    const [row] = await driver.query(queries.get("ScheduleInsert"), [n, ...specParams(spec), first, now, actor]);
    if (!row) throw new ConflictError(`schedule "${n}" already exists; update or delete it`, { name: n });
    return scheduleFromRow(row);
  }

  /** Changes some options; a new expression or time zone recomputes the next run from now. */
  async update(name: unknown, patch: unknown, actor: string | null): Promise<Schedule> {
    const n = parseScheduleName(name);
    const changes = validate(schedulePatchSchema, patch, `update of schedule "${n}"`) as Record<string, unknown>;
    return this.#change(n, actor, "UPDATED", (current, now) => {
      const merged = optionsFromSchedule(current);
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) delete merged[key];
        else if (value !== undefined) merged[key] = value;
      }
      const spec = parseScheduleSpec(n, merged, now, this.maxPayloadBytes);
      let next = current.nextRunAt;
      let reason = current.disabledReason;
      if (current.enabled && (spec.cron !== current.cron || spec.timezone !== current.timezone)) {
        next = nextTick(spec.cron, spec.timezone, now);
      }
      if (current.enabled && spec.maxRuns !== null && current.runs >= spec.maxRuns) {
        spec.enabled = false;
        next = null;
        reason = `ended after ${current.runs} runs (maxRuns)`;
      }
      return { spec, next, reason, resetFailures: false, data: { changed: Object.keys(changes) } };
    });
  }

  /** Stops a schedule's ticks until {@link resume}; its unfinished runs go on. */
  async pause(name: unknown, actor: string | null): Promise<Schedule> {
    const n = parseScheduleName(name);
    return this.#change(n, actor, "PAUSED", (current) => {
      if (!current.enabled) throw new InvalidStateError(`schedule "${n}" is not enabled (${current.disabledReason})`, { name: n });
      const spec = { ...specFromSchedule(current), enabled: false };
      return { spec, next: null, reason: `paused${actor ? ` by ${actor}` : ""}`, resetFailures: false, data: null };
    });
  }

  /**
   * Enables a paused or disabled schedule from its next tick after now (ticks it missed while
   * disabled are not run) and restarts its failure count.
   */
  async resume(name: unknown, actor: string | null): Promise<Schedule> {
    const n = parseScheduleName(name);
    return this.#change(n, actor, "RESUMED", (current, now) => {
      if (current.enabled) throw new InvalidStateError(`schedule "${n}" is already enabled`, { name: n });
      if (current.maxRuns !== null && current.runs >= current.maxRuns) {
        throw new InvalidStateError(`schedule "${n}" ended after ${current.runs} runs (maxRuns); raise maxRuns with updateSchedule first`, { name: n });
      }
      const next = nextTick(current.cron, current.timezone, now);
      if (!next) throw new InvalidStateError(`schedule "${n}": its cron expression fires no more; update it first`, { name: n });
      return { spec: { ...specFromSchedule(current), enabled: true }, next, reason: null, resetFailures: true, data: null };
    });
  }

  /** Deletes a schedule, cancelling its runs that have not started; running ones finish. */
  async delete(name: unknown, actor: string | null): Promise<{ cancelledRuns: string[] }> {
    const n = parseScheduleName(name);
    const cancelled = await this.#remove(n, actor);
    if (!cancelled) throw new NotFoundError(`no schedule named "${n}"`, { name: n });
    return { cancelledRuns: cancelled };
  }

  /** One schedule with its next ticks, latest runs and latest events, or null. */
  async get(name: unknown, options: ScheduleReadOptions & { events?: number } = {}): Promise<ScheduleDetails | null> {
    const n = parseScheduleName(name);
    const { driver, queries } = this.engine;
    const [row] = await driver.query(queries.get("ScheduleGet"), [n]);
    if (!row) return null;
    const [info] = await this.#withHistory([scheduleFromRow(row)], options.nextRuns ?? 5, options.recentRuns ?? 10);
    const events = await driver.query<Record<string, unknown>>(queries.get("ScheduleEvents"), [n, limit(options.events ?? 50)]);
    return { ...info!, events: events.map(eventFromRow) };
  }

  /** Every schedule, by name, with its next ticks and latest runs. */
  async list(options: ScheduleReadOptions = {}): Promise<ScheduleInfo[]> {
    const rows = await this.engine.driver.query(this.engine.queries.get("ScheduleList"));
    return this.#withHistory(rows.map(scheduleFromRow), options.nextRuns ?? 5, options.recentRuns ?? 5);
  }

  /** One cron pass at this instance's clock. */
  pass(): Promise<PassStats> {
    return cronPass(this.engine, this.now());
  }

  async #withHistory(schedules: Schedule[], nextRuns: number, recentRuns: number): Promise<ScheduleInfo[]> {
    const { driver, queries } = this.engine;
    const byName = new Map<string, ScheduleRun[]>();
    if (schedules.length && recentRuns > 0) {
      const rows = await driver.query<Record<string, unknown>>(queries.get("ScheduleRecentRuns"), [schedules.map((s) => s.name), limit(recentRuns)]);
      for (const r of rows) {
        const list = byName.get(r.schedule as string) ?? [];
        list.push(runFromRow(r));
        byName.set(r.schedule as string, list);
      }
    }
    return schedules.map((s) => ({ ...s, nextRuns: upcoming(s, limit(nextRuns, 0)), recentRuns: byName.get(s.name) ?? [] }));
  }

  /** Reads and locks the row, lets `decide` compute the new state, and writes it with an event. */
  async #change(
    name: string,
    actor: string | null,
    kind: string,
    decide: (current: Schedule, now: Date) => { spec: ScheduleSpec; next: Date | null; reason: string | null; resetFailures: boolean; data: unknown },
  ): Promise<Schedule> {
    const { driver, queries } = this.engine;
    return driver.transaction(async (tx) => {
      const [row] = await tx.query(queries.get("ScheduleLock"), [name]);
      if (!row) throw new NotFoundError(`no schedule named "${name}"`, { name });
      const now = this.now();
      const d = decide(scheduleFromRow(row), now);
      const [updated] = await tx.query(queries.get("ScheduleReplace"), [
        name, ...specParams(d.spec), d.next, d.reason, d.resetFailures ? now : null, actor, kind, JSON.stringify(d.data),
      ]);
      return scheduleFromRow(updated!);
    });
  }

  /** Deletes a schedule and cancels its runs that have not started. Null when there was none. */
  async #remove(name: string, actor: string | null): Promise<string[] | null> {
    const { driver, queries } = this.engine;
    return driver.transaction(async (tx: Executor) => {
      // Runs first, then the schedule: the order the cron pass's settle takes them in, so the
      // cascading delete of the runs cannot deadlock with it.
      await tx.query(queries.get("ScheduleLockRuns"), [name]);
      const [row] = await tx.query(queries.get("ScheduleLock"), [name]);
      if (!row) return null;
      const pending = await tx.query<{ id: string | number }>(queries.get("SchedulePendingRuns"), [name]);
      const ids = pending.map((p) => String(p.id));
      for (const id of ids) await tx.query(queries.get("TaskCancel"), [id, actor ?? `schedule:${name}`]);
      await tx.query(queries.get("ScheduleDelete"), [name]);
      if (ids.length || actor === "code") this.engine.logger.info({ schedule: name, cancelledRuns: ids }, "schedule deleted");
      return ids;
    });
  }
}

/** The next `n` ticks of an enabled schedule, starting with its stored next run. */
function upcoming(s: Schedule, n: number): Date[] {
  if (!s.enabled || !s.nextRunAt || n === 0) return [];
  return [s.nextRunAt, ...nextTicks(s.cron, s.timezone, n - 1, s.nextRunAt)];
}

function limit(n: number, min = 1): number {
  if (!Number.isInteger(n) || n < min || n > 1000) throw new ValidationError(`a history size must be an integer from ${min} to 1000`, { field: "limit" });
  return n;
}

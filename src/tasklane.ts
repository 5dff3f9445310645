/**
 * The Tasklane instance: open a database, define topics, enqueue, run workers, operate on tasks.
 *
 * @module
 */
import { hostname } from "node:os";
import type { PGlite } from "@electric-sql/pglite";
import { randomBytes } from "node:crypto";
import { defineOptionsSchema, openOptionsSchema, parseOptions, parseTopic, workerOptionsSchema, type EnqueueOptions, type WorkerOptions } from "./config.js";
import { ClosedError, InvalidStateError, NotFoundError, ValidationError } from "./errors.js";
import { foreignExecutor, type Driver, type Executor } from "./db/driver.js";
import { migrate, assertMigrated } from "./db/migrator.js";
import { defaultDatabase, openDriver } from "./db/open.js";
import { Queries } from "./db/queries.js";
import { defaultLogger, type Logger } from "./logger.js";
import { insertTasks, taskInput, type TaskInput } from "./client/enqueue.js";
import type { DefineOptions, Definition } from "./client/definition.js";
import { Worker } from "./runtime/worker.js";
import { Maintenance, type MaintenanceConfig } from "./maintenance/maintenance.js";
import { TasklaneEmitter, type TasklaneEvents } from "./events.js";
import { Processes, type StartedProcess } from "./process/processes.js";
import { runInline } from "./runtime/inline.js";
import { createPushEndpoint, deletePushEndpoint, listPushEndpoints, PushRunner, type PushEndpoint, type PushEndpointInput } from "./push/endpoints.js";
import { Pruner, type PruneReport, type RetentionConfig } from "./maintenance/pruner.js";
import { admit, type BackpressureConfig } from "./client/backpressure.js";
import type { z } from "zod";
import { ExternalTasks } from "./external/external-tasks.js";
import type { StartProcessOptions } from "./process/definition.js";
import type { ProcessView } from "./process/view.js";
import {
  Schedules, type Schedule, type ScheduleDetails, type ScheduleInfo, type ScheduleOptions, type SchedulePatch, type ScheduleReadOptions,
  type ScheduleSyncResult,
} from "./schedules/index.js";
import { safeJson, taskFromRow, taskStates, type EnqueuedTask, type Task, type TaskAttempt, type TaskEvent, type TaskHandler, type TaskState } from "./task.js";
import { decodeCursor, defaultScanLimit, searchTasks, type TaskSearchProgress } from "./task-search.js";
import { Tokens, type CreatedToken, type CreateTokenOptions, type TokenIdentity, type TokenInfo } from "./auth/tokens.js";

/** Options of {@link Tasklane.open}. */
export interface OpenOptions {
  /**
   * `postgres://…` (a PostgreSQL server), `pglite://./path` or `pglite:///abs/path` (embedded,
   * on disk), `memory://` (embedded, in memory), or a PGlite instance the application opened
   * (left open by `close()`). Default `pglite://./.tasklane/db`.
   */
  database?: string | PGlite;
  /** PostgreSQL schema holding Tasklane's tables, so applications can share a database. Default `tasklane`. */
  schema?: string;
  /** Apply pending migrations at open (default true). With false, open fails when any are missing. */
  migrate?: boolean;
  /** Connections in the pool (PostgreSQL only; default 10). */
  poolSize?: number;
  /** Any logger with debug/info/warn/error (pino, bunyan, …). Default: pino to standard error. */
  logger?: Logger;
  /** Largest accepted payload as JSON, in bytes (default 4 MiB). */
  maxPayloadBytes?: number;
  /**
   * Maintenance (rescue of expired leases, timeouts, worker registry) runs on one elected node
   * among those that run a worker or a server. `false` keeps this node out of the election.
   */
  maintenance?: false | Partial<Omit<MaintenanceConfig, "retention">>;
  /**
   * How long finished work is kept: completed tasks and processes `completedMs` (default 7
   * days), failed, cancelled, expired and timed-out ones `failedMs` (default 30 days), and at most
   * `maxFinished` finished plain tasks. The maintenance leader prunes in small batches.
   */
  retention?: { completedMs?: number; failedMs?: number; maxFinished?: number };
  /**
   * An optional limit on unfinished tasks, in all and per topic. Above it, `enqueue` waits up to
   * `waitMs` (default 30 s) for room, then throws BackpressureError; `backpressureWaitMs: 0` on
   * a call fails at once.
   */
  backpressure?: { maxUnfinished?: number; maxUnfinishedPerTopic?: number | Record<string, number>; waitMs?: number };
  /**
   * Declarative set-up (everything in one object): topics by name, each a handler or
   * `{ handler, …define options }`.
   *
   * @example
   * await Tasklane.open({ tasks: { "email.send": sendEmail }, schedules: { nightly: { cron: "0 3 * * *", topic: "report.build" } },
   *   worker: { concurrency: 20, tags: ["main"] } });
   */
  tasks?: Record<string, TaskHandler<never, unknown> | TaskDeclaration>;
  /** Schedules by name, as `schedule(name, options)` declares them. */
  schedules?: Record<string, ScheduleOptions>;
  /** Starts a worker with these options once the instance is open (`defaultWorker`). */
  worker?: WorkerOptions | false;
}

/** A topic in the declarative `tasks` option: its handler and the options of `define`. */
export interface TaskDeclaration extends DefineOptions {
  handler: TaskHandler<never, unknown>;
}

/** An item of {@link Tasklane.enqueueMany}. */
export interface EnqueueItem extends Omit<EnqueueOptions, "tx"> {
  topic: string;
  payload?: unknown;
}

/** Filters of {@link Tasklane.listTasks}. */
export interface ListTasksOptions {
  state?: TaskState;
  topic?: string;
  tag?: string;
  /**
   * A task id, the start of a key (exact case), or a part of the topic, key or error message
   * (any case). Id and key-prefix matches come first and are found anywhere; the other matches
   * come from a scan of at most `scanLimit` tasks per call, newest first (see {@link TaskPage.search}).
   */
  search?: string;
  /** With `search`: the most tasks one call reads for text matches (default 20,000). */
  scanLimit?: number;
  /** Page size, 1–1000 (default 50). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** Only tasks created at or after this time. */
  createdAfter?: Date;
  /** Only tasks created before this time. */
  createdBefore?: Date;
}

/**
 * An entry of the audit log ({@link Tasklane.listEvents}): an event of a task or process, or of a
 * schedule (`schedule` set; its `id` counts apart from the others').
 */
export interface AuditEvent extends TaskEvent {
  taskId: string | null;
  processId: string | null;
  /** The task's topic, when the event concerns a task that still exists. */
  topic: string | null;
  /** The schedule, for an event of a schedule (`PAUSED`, `RESUMED`, `UPDATED`, …); else null. */
  schedule: string | null;
}

/** One page of {@link Tasklane.listTasks}. */
export interface TaskPage {
  tasks: Task[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
  /** With `search`: what this page searched, and whether the scan stopped at its bound. */
  search?: TaskSearchProgress;
}

/** A worker in the registry. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  topics: string[];
  tags: string[];
  concurrency: number;
  /** `running`; `stopped` (gracefully); `lost` (not seen within `workerLostAfterMs`). */
  state: "running" | "stopped" | "lost";
  /** Tasks it ran at its last report. */
  running: number;
  startedAt: Date;
  lastSeenAt: Date;
  stoppedAt: Date | null;
}

/** Who performs an operator action, for the audit trail. */
export interface ActorOptions {
  actor?: string;
}

/** @internal Shared state the runtime needs from its instance. */
export interface Engine {
  readonly driver: Driver;
  readonly queries: Queries;
  readonly schema: string;
  readonly logger: Logger;
  readonly definitions: ReadonlyMap<string, Definition>;
  readonly nodeId: string;
  readonly events: TasklaneEmitter;
}

/**
 * A Tasklane instance on one database.
 *
 * @example
 * const tl = await Tasklane.open({ database: process.env.DATABASE_URL });
 * tl.define("email.send", async (task) => ({ sent: true }));
 * await tl.enqueue("email.send", { to: "a@b.c" });
 * await tl.worker().start();
 */
export class Tasklane {
  readonly #engine: Engine;
  readonly #definitions = new Map<string, Definition>();
  readonly #workers = new Set<Worker>();
  readonly #maxPayloadBytes: number;
  readonly #maintenance: Maintenance | undefined;
  readonly #processes: Processes;
  readonly #schedules: Schedules;
  #external: ExternalTasks | undefined;
  #closed = false;

  readonly #retention: RetentionConfig;
  #defaultWorker: Worker | undefined;
  #pushRunner: PushRunner | undefined;
  readonly #backpressure: BackpressureConfig | undefined;

  private constructor(engine: Omit<Engine, "definitions">, opts: z.output<typeof openOptionsSchema>) {
    const maxPayloadBytes = opts.maxPayloadBytes;
    this.#engine = { ...engine, definitions: this.#definitions };
    this.#maxPayloadBytes = maxPayloadBytes;
    this.#retention = opts.retention;
    this.#backpressure = opts.backpressure;
    this.#schedules = new Schedules(this.#engine, maxPayloadBytes);
    this.#maintenance = opts.maintenance ? new Maintenance(this.#engine, { ...opts.maintenance, retention: opts.retention }, this.#schedules) : undefined;
    this.#processes = new Processes(this.#engine);
  }

  /** Opens a database (applying migrations unless `{ migrate: false }`). */
  static async open(options: OpenOptions = {}): Promise<Tasklane> {
    const opts = parseOptions(openOptionsSchema, options, "open options");
    const logger = (opts.logger as Logger | undefined) ?? defaultLogger();
    const driver = await openDriver(opts.database ?? defaultDatabase, { poolSize: opts.poolSize, logger });
    try {
      if (opts.migrate) {
        const applied = await migrate(driver, opts.schema);
        if (applied.length) logger.info({ schema: opts.schema, applied }, "applied migrations");
      } else {
        await assertMigrated(driver, opts.schema);
      }
    } catch (err) {
      await driver.close();
      throw err;
    }
    const nodeId = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
    const engine = { driver, queries: new Queries(opts.schema), schema: opts.schema, logger, nodeId, events: new TasklaneEmitter() };
    const tl = new Tasklane(engine, opts);
    try {
      await tl.#declare(options);
    } catch (err) {
      await tl.close({ graceMs: 0 });
      throw err;
    }
    return tl;
  }

  /** The worker started by the declarative `worker` option of `open`, if any. */
  get defaultWorker(): Worker | undefined {
    return this.#defaultWorker;
  }

  /** Declarative set-up: `tasks`, `schedules` and `worker` of the open options. */
  async #declare(options: OpenOptions): Promise<void> {
    for (const [topic, entry] of Object.entries(options.tasks ?? {})) {
      if (typeof entry === "function") this.define(topic, entry);
      else if (entry && typeof entry === "object" && typeof (entry as TaskDeclaration).handler === "function") {
        const { handler, ...defineOptions } = entry as TaskDeclaration;
        this.define(topic, handler, defineOptions);
      } else {
        throw new ValidationError(`open: tasks.${topic} must be a handler function or { handler, …define options }`, { field: `tasks.${topic}` });
      }
    }
    for (const [name, schedule] of Object.entries(options.schedules ?? {})) this.schedule(name, schedule);
    if (options.worker) {
      this.#defaultWorker = this.worker(options.worker);
      await this.#defaultWorker.start();
    }
  }

  /**
   * Subscribes to an event of this instance.
   *
   * @example
   * tl.on("task:failed", (task, error, retrying) => log.warn({ id: task.id, error, retrying }));
   */
  on<E extends keyof TasklaneEvents>(event: E, listener: (...args: TasklaneEvents[E]) => void): this {
    this.#engine.events.on(event, listener);
    return this;
  }

  /** Removes a listener added with {@link Tasklane.on}. */
  off<E extends keyof TasklaneEvents>(event: E, listener: (...args: TasklaneEvents[E]) => void): this {
    this.#engine.events.off(event, listener);
    return this;
  }

  /** The schema this instance works in. */
  get schema(): string {
    return this.#engine.schema;
  }

  /** Which backend this instance runs on. */
  get backend(): "pg" | "pglite" {
    return this.#engine.driver.kind;
  }

  /**
   * Defines a topic: the handler that runs its tasks and the options its tasks inherit.
   *
   * @example
   * tl.define("email.send", async (task, ctx) => send(task.payload, { signal: ctx.signal }),
   *   { retry: { maxAttempts: 5, backoff: "exponential" } });
   */
  define<P = unknown, R = unknown>(topic: string, handler: TaskHandler<P, R>, options: DefineOptions = {}): void {
    this.#assertOpen();
    const name = parseTopic(topic);
    if (typeof handler !== "function") throw new ValidationError(`define("${name}"): the handler must be a function`, { field: "handler" });
    const parsed = parseOptions(defineOptionsSchema, options, `options of topic "${name}"`) as DefineOptions;
    if (this.#definitions.has(name)) throw new ValidationError(`topic "${name}" is already defined on this instance`, { topic: name });
    this.#definitions.set(name, { topic: name, handler: handler as TaskHandler, options: parsed });
  }

  /** The topics defined on this instance. */
  topics(): string[] {
    return [...this.#definitions.keys()];
  }

  /**
   * Enqueues one task. With `{ tx }` the task is written on the caller's connection inside the
   * caller's transaction: rolled back there, no task.
   *
   * @returns the task, with `created: false` when a task with the same `key` already existed.
   */
  async enqueue<P = unknown>(topic: string, payload?: P, options: EnqueueOptions = {}): Promise<EnqueuedTask<P>> {
    this.#assertOpen();
    const input = taskInput(topic, payload, options, this.#maxPayloadBytes);
    await this.#admit([input], options.backpressureWaitMs);
    const db = options.tx ? foreignExecutor(options.tx) : this.#engine.driver;
    // Handed to an idle worker in the inserting statement, unless inside the caller's transaction
    // (which would hold that worker's offer until it ends).
    const [task] = await insertTasks(db, this.#engine.queries, [input], this.#definitions, { handoff: !options.tx });
    return task as EnqueuedTask<P>;
  }

  /**
   * Enqueues many tasks in one statement (the fast path for producers). All or nothing: when one
   * item is invalid or its key belongs to another topic, none is written.
   */
  async enqueueMany(items: readonly EnqueueItem[], options: Pick<EnqueueOptions, "tx" | "backpressureWaitMs"> = {}): Promise<EnqueuedTask[]> {
    this.#assertOpen();
    if (!Array.isArray(items)) throw new ValidationError("enqueueMany expects an array of { topic, payload, …options }");
    const inputs: TaskInput[] = items.map((item, i) => {
      if (typeof item !== "object" || item === null) throw new ValidationError(`enqueueMany: item ${i} is not an object`, { index: i });
      const { topic, payload, ...rest } = item;
      try {
        return taskInput(topic, payload, rest, this.#maxPayloadBytes);
      } catch (err) {
        if (err instanceof ValidationError) throw new ValidationError(`enqueueMany: item ${i}: ${err.message}`, { index: i, ...err.details });
        throw err;
      }
    });
    await this.#admit(inputs, options.backpressureWaitMs);
    const run = (db: Executor) => insertTasks(db, this.#engine.queries, inputs, this.#definitions);
    if (options.tx) return run(foreignExecutor(options.tx));
    // Only a batch with keys can hit a conflict after some rows are in: it needs a transaction.
    return inputs.some((i) => i.options.key !== undefined) ? this.#engine.driver.transaction(run) : run(this.#engine.driver);
  }

  /**
   * Stores (or replaces) a push endpoint: tasks of `topic` are POSTed to `url` like a
   * `webhook()` topic, by the push runner of `tasklane serve` (or {@link startPushRunner}).
   * Only its hash-free fields come back; the secret is never shown again.
   */
  async createPushEndpoint(input: PushEndpointInput): Promise<PushEndpoint & { created: boolean }> {
    this.#assertOpen();
    const endpoint = await createPushEndpoint(this.#engine, input);
    void this.#pushRunner?.sync();
    return endpoint;
  }

  /** Every stored push endpoint. */
  async listPushEndpoints(): Promise<PushEndpoint[]> {
    this.#assertOpen();
    return listPushEndpoints(this.#engine);
  }

  /** Deletes a topic's push endpoint; its queued tasks wait for another handler. False when there was none. */
  async deletePushEndpoint(topic: string): Promise<boolean> {
    this.#assertOpen();
    const deleted = await deletePushEndpoint(this.#engine, topic);
    void this.#pushRunner?.sync();
    return deleted;
  }

  /**
   * Delivers the stored push endpoints' tasks from this instance (`tasklane serve` does it),
   * following changes to them. Idempotent.
   */
  async startPushRunner(options: { concurrency?: number; refreshMs?: number } = {}): Promise<void> {
    this.#assertOpen();
    this.#pushRunner ??= new PushRunner(this.#engine, { concurrency: options.concurrency ?? 50, refreshMs: options.refreshMs ?? 5_000, leaseMs: 30_000 });
    await this.#pushRunner.start();
  }

  /**
   * Runs a task now, in this process, and records it as a task (attempt, result or error,
   * timings): for CLIs and admin actions that want the trail of queued work without the queue.
   * One attempt unless `retry` says otherwise. Resolves to the task after this attempt:
   * `completed` or `failed` (or, with retries left, `ready` for a worker to run again); it does
   * not throw for a failing handler.
   *
   * @example
   * const task = await tl.run("report.build", { month: "2026-10" });
   * if (task.state === "failed") console.error(task.error);
   */
  async run<P = unknown>(topic: string, payload?: P, options: Omit<EnqueueOptions, "tx" | "runAt" | "delayMs"> & { signal?: AbortSignal } = {}): Promise<Task> {
    this.#assertOpen();
    const { signal, ...rest } = options;
    return runInline(this.#engine, taskInput(topic, payload, rest, this.#maxPayloadBytes), signal);
  }

  /**
   * Deletes finished work past the `retention` settings now (the maintenance leader also does it
   * every minute). With `{ dryRun: true }`, reports what would go and deletes nothing.
   */
  async prune(options: { dryRun?: boolean } = {}): Promise<PruneReport> {
    this.#assertOpen();
    const pruner = new Pruner(this.#engine, 60_000, this.#retention);
    return options.dryRun ? pruner.dryRun() : pruner.prune();
  }

  async #admit(inputs: readonly TaskInput[], waitMs: number | undefined): Promise<void> {
    if (!this.#backpressure) return;
    const incoming = new Map<string, number>();
    for (const i of inputs) incoming.set(i.topic, (incoming.get(i.topic) ?? 0) + 1);
    await admit(this.#engine, this.#backpressure, incoming, waitMs ?? this.#backpressure.waitMs);
  }

  /** The task with that id, or null. */
  async getTask(id: string): Promise<Task | null> {
    this.#assertOpen();
    const taskId = parseId(id);
    if (taskId === null) return null;
    const [row] = await this.#engine.driver.query(this.#engine.queries.get("TaskGet"), [taskId]);
    return row ? taskFromRow(row) : null;
  }

  /** Every attempt that did not end in success, and every recovery event and operator action. */
  async getTaskHistory(id: string): Promise<{ attempts: TaskAttempt[]; events: TaskEvent[] }> {
    this.#assertOpen();
    const taskId = this.#requireId(id);
    if (!(await this.getTask(taskId))) throw new NotFoundError(`no task with id ${taskId}`, { id: taskId });
    const [attempts, events] = await Promise.all([
      this.#engine.driver.query<Record<string, unknown>>(this.#engine.queries.get("TaskAttempts"), [taskId]),
      this.#engine.driver.query<Record<string, unknown>>(this.#engine.queries.get("TaskEvents"), [taskId]),
    ]);
    return {
      attempts: attempts.map((a) => ({
        attempt: Number(a.attempt),
        workerId: (a.worker as string | null) ?? null,
        startedAt: (a.started_at as Date | null) ?? null,
        finishedAt: a.finished_at as Date,
        outcome: a.outcome as string,
        error: (a.error ?? null) as TaskAttempt["error"],
      })),
      events: events.map((e) => ({
        id: String(e.id),
        kind: e.kind as string,
        actor: (e.actor as string | null) ?? null,
        data: e.data ?? null,
        at: e.at as Date,
      })),
    };
  }

  /**
   * Lists tasks, newest first, with keyset pagination (no count). With `search`, the index
   * matches come first (the task whose id is the text, tasks whose key starts with it, exact
   * case, found anywhere), then the tasks whose topic, key or error message contains the text (any
   * case), read at most `scanLimit` tasks per call: a page of a search can hold fewer tasks than
   * `limit`, even none, and still have a `nextCursor` (`search.bounded`). See docs/http-api.md.
   */
  async listTasks(options: ListTasksOptions = {}): Promise<TaskPage> {
    this.#assertOpen();
    const { state, topic, tag, search, limit = 50, cursor, createdAfter, createdBefore, scanLimit = defaultScanLimit } = options;
    for (const [field, d] of [["createdAfter", createdAfter], ["createdBefore", createdBefore]] as const) {
      if (d !== undefined && !(d instanceof Date && !Number.isNaN(d.getTime()))) throw new ValidationError(`listTasks: ${field} must be a valid Date`, { field });
    }
    if (state !== undefined && !taskStates.includes(state)) throw new ValidationError(`listTasks: unknown state "${state}"`, { field: "state" });
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError("listTasks: limit must be an integer from 1 to 1000", { field: "limit" });
    if (!Number.isInteger(scanLimit) || scanLimit < 1 || scanLimit > 1_000_000) throw new ValidationError("listTasks: scanLimit must be an integer from 1 to 1,000,000", { field: "scanLimit" });
    let at: ReturnType<typeof decodeCursor> = null;
    if (cursor !== undefined && cursor !== null) {
      at = decodeCursor(String(cursor));
      if (at === null) throw new ValidationError("listTasks: cursor is not one this API returned", { field: "cursor" });
    }
    const filters = {
      state: state ?? null, topic: topic ?? null, tag: tag ?? null,
      createdAfter: createdAfter?.toISOString() ?? null, createdBefore: createdBefore?.toISOString() ?? null,
    };
    if (search) {
      return searchTasks(this.#engine.driver, this.#engine.queries, { text: search, filters, limit, cursor: at?.search ?? null, scanLimit, idMatch: parseId(search) });
    }
    const rows = await this.#engine.driver.query(this.#engine.queries.get("TaskList"), [
      filters.state, filters.topic, filters.tag, filters.createdAfter, filters.createdBefore, at?.id ?? "9223372036854775807", limit + 1,
    ]);
    const tasks = rows.slice(0, limit).map(taskFromRow);
    const nextCursor = rows.length > limit ? Buffer.from(tasks[tasks.length - 1]!.id).toString("base64url") : null;
    return { tasks, nextCursor };
  }

  /**
   * The audit log: recovery events and operator actions (who did what, when) across tasks,
   * processes and schedules, newest first. `operatorOnly` keeps the entries with an actor.
   */
  async listEvents(options: { limit?: number; cursor?: string; operatorOnly?: boolean } = {}): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
    this.#assertOpen();
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError("listEvents: limit must be an integer from 1 to 1000", { field: "limit" });
    // Two streams, each paginated on its own id: task and process events, schedule events. The
    // cursor holds where each stopped (`<task event id>.<schedule event id>`; 1: nothing left).
    const top = "9223372036854775807";
    let below = { task: top, schedule: top };
    if (options.cursor !== undefined) {
      const parts = Buffer.from(String(options.cursor), "base64url").toString().split(".");
      const [task, schedule = top] = parts.map(parseId);
      if (parts.length > 2 || !task || !schedule) throw new ValidationError("listEvents: cursor is not one this API returned", { field: "cursor" });
      below = { task, schedule };
    }
    const operatorOnly = options.operatorOnly ?? false;
    const { driver, queries } = this.#engine;
    const [taskRows, scheduleRows] = await Promise.all([
      driver.query<Record<string, unknown>>(queries.get("AuditTaskEvents"), [operatorOnly, below.task, limit + 1]),
      driver.query<Record<string, unknown>>(queries.get("AuditScheduleEvents"), [operatorOnly, below.schedule, limit + 1]),
    ]);
    const entry = (e: Record<string, unknown>, schedule: boolean): AuditEvent => ({
      id: String(e.id),
      kind: e.kind as string,
      actor: (e.actor as string | null) ?? null,
      data: e.data ?? null,
      at: e.at as Date,
      taskId: e.task_id == null ? null : String(e.task_id),
      processId: e.process_id == null ? null : String(e.process_id),
      topic: (e.topic as string | null) ?? null,
      schedule: schedule ? (e.schedule as string) : null,
    });
    // Merge newest first; each stream is newest first already.
    const merged: AuditEvent[] = [];
    let t = 0;
    let s = 0;
    while (merged.length < limit && (t < taskRows.length || s < scheduleRows.length)) {
      const a = taskRows[t];
      const b = scheduleRows[s];
      if (a && (!b || (a.at as Date).getTime() >= (b.at as Date).getTime())) merged.push(entry(taskRows[t++]!, false));
      else merged.push(entry(scheduleRows[s++]!, true));
    }
    if (t === taskRows.length && s === scheduleRows.length) return { events: merged, nextCursor: null };
    const next = (rows: Record<string, unknown>[], used: number, from: string) => (used > 0 ? String(rows[used - 1]!.id) : rows.length ? from : "1");
    return { events: merged, nextCursor: Buffer.from(`${next(taskRows, t, below.task)}.${next(scheduleRows, s, below.schedule)}`).toString("base64url") };
  }

  /**
   * Cancels a task that has not finished. Queued, delayed, waiting and suspended tasks end at
   * once; a running task ends at once too, and its handler's `ctx.signal` aborts on whichever
   * node runs it. Its late result is rejected.
   */
  async cancel(id: string, options: ActorOptions = {}): Promise<Task> {
    return this.#transition(id, "TaskCancel", [options.actor ?? null], "cancel", "it has already finished");
  }

  /**
   * Runs a failed, cancelled or expired task once more (one extra attempt). For a step of a
   * finished process, the process runs again from there: the steps that were cancelled or
   * skipped because of the failure wait for their parents again.
   */
  async retry(id: string, options: ActorOptions = {}): Promise<Task> {
    return this.#transition(id, "TaskRetry", [options.actor ?? null], "retry", "only failed, cancelled or expired tasks can be retried", async (tx, row) => {
      if (row.process_id != null) await this.#processes.reopen(String(row.process_id), tx);
    });
  }

  /**
   * Retries every task in `state` (default `failed`), optionally of one topic, in batches.
   *
   * @returns how many tasks were retried.
   */
  async retryAll(options: { state?: "failed" | "cancelled" | "expired"; topic?: string } & ActorOptions = {}): Promise<number> {
    this.#assertOpen();
    const state = options.state ?? "failed";
    if (!["failed", "cancelled", "expired"].includes(state)) throw new ValidationError("retryAll: state must be failed, cancelled or expired", { field: "state" });
    let total = 0;
    for (;;) {
      // One transaction per batch, for the reason given in #transition.
      const row = await this.#engine.driver.transaction(async (tx) => {
        const [row] = await tx.query<{ retried: number; processes: (string | number)[] | null }>(this.#engine.queries.get("TaskRetryAll"), [
          state, options.topic ?? null, 1000, options.actor ?? null,
        ]);
        for (const processId of row?.processes ?? []) await this.#processes.reopen(String(processId), tx);
        return row;
      });
      const n = Number(row?.retried ?? 0);
      total += n;
      if (n < 1000) return total;
    }
  }

  /** Marks a task completed with `result` (an operator's "mark done"); a running attempt is aborted. */
  async complete(id: string, result: unknown = null, options: ActorOptions = {}): Promise<Task> {
    const json = safeJson(result ?? null);
    if (json === undefined) throw new ValidationError("complete: result is not JSON-serialisable", { field: "result" });
    return this.#transition(id, "TaskMarkCompleted", [json, options.actor ?? null], "complete", "it is already completed or cancelled");
  }

  /** Holds a task that is not running until {@link Tasklane.resume}. */
  async suspend(id: string, options: ActorOptions = {}): Promise<Task> {
    return this.#transition(id, "TaskSuspend", [options.actor ?? null], "suspend", "only pending, ready or waiting tasks can be suspended");
  }

  /** Releases a suspended task to the state it had. */
  async resume(id: string, options: ActorOptions = {}): Promise<Task> {
    return this.#transition(id, "TaskResume", [options.actor ?? null], "resume", "it is not suspended");
  }

  /**
   * Starts a process: its row and all its steps are written in one transaction. With a `key`
   * that exists and the same definition, answers the existing process with `created: false`;
   * with another definition, throws {@link ConflictError}.
   *
   * @example
   * const { created, process } = await tl.startProcess({
   *   key: "order-42", name: "order.fulfil", input: { orderId: 42 },
   *   steps: sequence({ name: "reserve", topic: "stock.reserve" },
   *                   parallel({ name: "charge", topic: "payment.charge" }, { name: "notify", topic: "email.send" })),
   * });
   */
  async startProcess(options: StartProcessOptions): Promise<{ created: boolean; process: ProcessView }> {
    this.#assertOpen();
    return this.#processes.start(options);
  }

  /**
   * Starts many processes in one transaction (one statement for the processes, one for all
   * their steps, one for their edges): the way to start thousands. Each answer says the
   * process's id and whether it was created; a `key` that exists with the same definition
   * answers the existing process. All or nothing: an invalid definition, or a key that belongs to
   * another definition ({@link ConflictError}), starts none of them. Use {@link getProcess} for a
   * process's steps.
   *
   * @example
   * const started = await tl.startProcessMany(orders.map((o) => ({
   *   key: `order-${o.id}`, name: "order.fulfil", input: o, steps: sequence(reserve, charge),
   * })));
   */
  async startProcessMany(items: readonly StartProcessOptions[]): Promise<StartedProcess[]> {
    this.#assertOpen();
    return this.#processes.startMany(items);
  }

  /** The process with that id or key, with every step (state, attempts, result or error, and why it is not running); null when none. */
  async getProcess(idOrKey: string): Promise<ProcessView | null> {
    this.#assertOpen();
    return this.#processes.get(idOrKey);
  }

  /** Lists processes, newest first (steps are not included; use getProcess). */
  async listProcesses(options: { state?: ProcessView["state"]; name?: string; limit?: number; cursor?: string } = {}): Promise<{ processes: ProcessView[]; nextCursor: string | null }> {
    this.#assertOpen();
    return this.#processes.list(options);
  }

  /** Cancels a process: queued steps are cancelled and running ones aborted, on any node. */
  async cancelProcess(idOrKey: string, options: ActorOptions = {}): Promise<ProcessView> {
    this.#assertOpen();
    return this.#processes.cancel(idOrKey, options.actor ?? null);
  }

  /** Holds a process: its steps that are not running are suspended until {@link Tasklane.resumeProcess}. */
  async suspendProcess(idOrKey: string, options: ActorOptions = {}): Promise<ProcessView> {
    this.#assertOpen();
    return this.#processes.suspend(idOrKey, options.actor ?? null);
  }

  /** Releases a suspended process. */
  async resumeProcess(idOrKey: string, options: ActorOptions = {}): Promise<ProcessView> {
    this.#assertOpen();
    return this.#processes.resume(idOrKey, options.actor ?? null);
  }

  /**
   * Delivers an event to the task that waits for it (`ctx.waitForEvent`), or to the steps of a
   * process (by id or key) that do. A task waiting for another event, or not waiting, is an
   * {@link InvalidStateError}; nothing changes then.
   *
   * @returns the ids of the tasks it woke.
   */
  async sendEvent(taskOrProcessId: string, name: string, data?: unknown, options: ActorOptions = {}): Promise<string[]> {
    this.#assertOpen();
    return this.#processes.sendEvent(String(taskOrProcessId), name, data, options.actor ?? null);
  }

  /**
   * Declares a cron schedule: each tick enqueues one `topic` task with `payload`, exactly once
   * across every node. Validated at once (a bad `cron` or `timezone` is a
   * {@link ValidationError} naming the field); written to the database when maintenance starts
   * (a worker's start) or by {@link Tasklane.syncSchedules}. See docs/schedules.md.
   *
   * @example
   * tl.schedule("nightly-report", { cron: "0 3 * * *", timezone: "Europe/Oslo", topic: "report.build",
   *   payload: {}, checkinMarginMs: 60_000, maxRuntimeMs: 3_600_000, overlap: "skip", tags: ["main"] });
   */
  schedule(name: string, options: ScheduleOptions): void {
    this.#assertOpen();
    this.#schedules.declare(name, options);
  }

  /**
   * Writes the schedules declared with {@link Tasklane.schedule}: new ones are created, changed
   * ones updated (a changed expression recomputes the next run), and code schedules this
   * instance no longer declares are deleted with their runs that have not started.
   */
  async syncSchedules(): Promise<ScheduleSyncResult> {
    this.#assertOpen();
    return this.#schedules.sync();
  }

  /** Creates a schedule at runtime (origin `api`); an existing name is a {@link ConflictError}. */
  async createSchedule(name: string, options: ScheduleOptions, actor: ActorOptions = {}): Promise<Schedule> {
    this.#assertOpen();
    return this.#schedules.create(name, options, actor.actor ?? null);
  }

  /** Changes some options of a schedule; `null` clears an optional limit. */
  async updateSchedule(name: string, patch: SchedulePatch, options: ActorOptions = {}): Promise<Schedule> {
    this.#assertOpen();
    return this.#schedules.update(name, patch, options.actor ?? null);
  }

  /** Stops a schedule's ticks until {@link Tasklane.resumeSchedule}; unfinished runs go on. */
  async pauseSchedule(name: string, options: ActorOptions = {}): Promise<Schedule> {
    this.#assertOpen();
    return this.#schedules.pause(name, options.actor ?? null);
  }

  /** Enables a paused or disabled schedule from its next tick after now, with its failure count reset. */
  async resumeSchedule(name: string, options: ActorOptions = {}): Promise<Schedule> {
    this.#assertOpen();
    return this.#schedules.resume(name, options.actor ?? null);
  }

  /** Deletes a schedule; its runs that have not started are cancelled, running ones finish. */
  async deleteSchedule(name: string, options: ActorOptions = {}): Promise<{ cancelledRuns: string[] }> {
    this.#assertOpen();
    return this.#schedules.delete(name, options.actor ?? null);
  }

  /** A schedule with its next ticks, latest runs and latest events; null when none. */
  async getSchedule(name: string, options: ScheduleReadOptions & { events?: number } = {}): Promise<ScheduleDetails | null> {
    this.#assertOpen();
    return this.#schedules.get(name, options);
  }

  /** Every schedule, by name, with its next ticks and latest runs. */
  async listSchedules(options: ScheduleReadOptions = {}): Promise<ScheduleInfo[]> {
    this.#assertOpen();
    return this.#schedules.list(options);
  }

  /**
   * Creates a worker that runs this instance's handlers. Call `start()` on it.
   *
   * @example
   * const worker = tl.worker({ topics: ["email.send"], concurrency: 100 });
   * await worker.start();
   * await worker.stop({ graceMs: 30_000 });
   */
  worker(options: WorkerOptions = {}): Worker {
    this.#assertOpen();
    const opts = parseOptions(workerOptionsSchema, options, "worker options");
    const topics = opts.topics ?? this.topics();
    if (topics.length === 0) throw new ValidationError("worker: no topics; define() a topic before creating a worker", { field: "topics" });
    for (const t of topics) {
      if (!this.#definitions.has(t)) throw new ValidationError(`worker: topic "${t}" is not defined on this instance`, { field: "topics", topic: t });
    }
    const worker = new Worker(this.#engine, { ...opts, topics }, {
      onStart: () => this.startMaintenance(),
      onStop: () => this.#workers.delete(worker),
    });
    this.#workers.add(worker);
    return worker;
  }

  /** Stops every worker (grace period 5 s unless given) and closes the database connections. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#workers].map((w) => w.stop({ graceMs: options.graceMs ?? 5_000 })));
    await this.#external?.close();
    await this.#schedules.idle();
    await this.#pushRunner?.stop(options.graceMs ?? 5_000);
    await this.#maintenance?.stop();
    await this.#engine.driver.close();
  }

  /**
   * Joins the maintenance leader election (a worker's start and `tasklane serve` do it): the
   * elected node rescues expired leases, enforces deadlines, keeps the workers registry and
   * fires cron schedules. The first call also syncs the schedules declared on this instance.
   */
  startMaintenance(): void {
    this.#assertOpen();
    this.#schedules.startSync();
    this.#maintenance?.start();
  }

  /** @internal For tests: the maintenance of this node. */
  get maintenance(): Maintenance | undefined {
    return this.#maintenance;
  }

  /** Workers that run, or ran in the last day, on this database. */
  async listWorkers(): Promise<WorkerInfo[]> {
    this.#assertOpen();
    const rows = await this.#engine.driver.query<Record<string, unknown>>(this.#engine.queries.get("WorkerList"));
    return rows.map((r) => ({
      id: r.id as string,
      host: r.host as string,
      pid: Number(r.pid),
      topics: r.topics as string[],
      tags: r.tags as string[],
      concurrency: Number(r.concurrency),
      state: r.state as WorkerInfo["state"],
      running: Number(r.running),
      startedAt: r.started_at as Date,
      lastSeenAt: r.last_seen_at as Date,
      stoppedAt: (r.stopped_at as Date | null) ?? null,
    }));
  }

  /**
   * Creates an API token for the HTTP server. The answer is the only time the secret is shown:
   * only its hash is stored.
   *
   * @example
   * const { token } = await tl.createToken({ name: "billing-worker", scopes: ["work"] });
   */
  async createToken(options: CreateTokenOptions, actor: ActorOptions = {}): Promise<CreatedToken> {
    this.#assertOpen();
    return new Tokens(this.#engine).create(options, actor.actor ?? null);
  }

  /** Every API token (without secrets), revoked ones included. */
  async listTokens(): Promise<TokenInfo[]> {
    this.#assertOpen();
    return new Tokens(this.#engine).list();
  }

  /** Revokes an API token; requests carrying it are refused from now on. */
  async revokeToken(id: string, options: ActorOptions = {}): Promise<TokenInfo> {
    this.#assertOpen();
    return new Tokens(this.#engine).revoke(id, options.actor ?? null);
  }

  /** The live token a bearer secret belongs to, or null (unknown, revoked or malformed). */
  async authenticateToken(token: string): Promise<TokenIdentity | null> {
    this.#assertOpen();
    return new Tokens(this.#engine).authenticate(token);
  }

  /**
   * Remote workers: fetch and lock tasks of any topic, then complete, fail, extend or release
   * them, fenced by worker id (the operations behind the 5Minds and Camunda 7 external-task HTTP
   * APIs). See docs/external-tasks.md.
   *
   * @example
   * const [task] = await tl.external.fetchAndLock({ workerId: "w1", topics: ["invoice.send"], longPollMs: 30_000 });
   * if (task) await tl.external.complete(task.id, "w1", { sent: true });
   */
  get external(): ExternalTasks {
    this.#assertOpen();
    return (this.#external ??= new ExternalTasks(this.#engine, this.#maxPayloadBytes));
  }

  /** @internal For the HTTP server and tests: the engine's internals. */
  get engine(): Engine {
    return this.#engine;
  }

  /**
   * Runs one guarded transition of a task. `then`, when given, runs in the same transaction after
   * a transition that happened: a retried step and its reopened process must commit together,
   * or a worker woken by the first commit could complete the step while its process is still
   * finished, and the reopened process would never complete.
   */
  async #transition(
    id: string,
    query: string,
    params: unknown[],
    action: string,
    why: string,
    then?: (tx: Executor, row: Record<string, unknown>) => Promise<void>,
  ): Promise<Task> {
    this.#assertOpen();
    const taskId = this.#requireId(id);
    const { driver, queries } = this.#engine;
    const run = async (db: Executor) => {
      const [row] = await db.query(queries.get(query), [taskId, ...params]);
      if (row && then) await then(db, row);
      return row;
    };
    const row = then ? await driver.transaction(run) : await run(driver);
    if (row) return taskFromRow(row);
    const task = await this.getTask(taskId);
    if (!task) throw new NotFoundError(`no task with id ${taskId}`, { id: taskId });
    throw new InvalidStateError(`cannot ${action} task ${taskId} in state ${task.state}: ${why}`, { id: taskId, state: task.state });
  }

  #requireId(id: string): string {
    const taskId = parseId(id);
    if (taskId === null) throw new NotFoundError(`no task with id ${String(id)}`, { id });
    return taskId;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError();
  }
}

/** A task id as the database takes it, or null when it cannot be one. */
function parseId(id: unknown): string | null {
  const text = typeof id === "number" ? String(id) : id;
  return typeof text === "string" && /^[1-9]\d{0,18}$/.test(text) && BigInt(text) < 2n ** 63n ? text : null;
}

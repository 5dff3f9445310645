/**
 * Remote workers: the engine operations behind the 5Minds and Camunda 7 external-task HTTP APIs.
 * A remote worker fetches and locks tasks of some topics, then reports each one (complete, fail,
 * business error) or extends or gives up its lock.
 *
 * Fencing: a remote worker never sees the lease token, so its worker id is the fence. Every write
 * is one statement guarded by `state = 'running' AND lease_owner = workerId`; a worker whose lock
 * expired and whose task another worker fetched is rejected and changes nothing. Only after a
 * guarded statement changed nothing is the task read to say why ({@link ExternalTasks}'s
 * rejections: NotFoundError, InvalidStateError for a finished task, LeaseLostError otherwise).
 * An expired lock is rescued by the maintenance leader like any lease (the task is retried while
 * attempts remain).
 *
 * @module
 */
import type { Engine } from "../tasklane.js";
import { assertStorableJson, parseOptions } from "../config.js";
import { ClosedError, InvalidStateError, LeaseLostError, NotFoundError, ValidationError } from "../errors.js";
import { safeJson, terminalStates, type TaskState } from "../task.js";
import { ReadySignal } from "./ready-signal.js";
import {
  failureSchema, fetchAndLockSchema, listSchema, parseDuration, parseTaskId, parseWorkerId,
} from "./schemas.js";
import {
  externalTaskFromRow, type ExternalFailure, type ExternalTask, type ExternalTaskFilter, type ExternalTaskPage, type FetchAndLockOptions,
} from "./types.js";

type Row = Record<string, unknown>;

/** How often a long poll claims again without a NOTIFY: delayed tasks and rescued locks send none. */
const pollFallbackMs = 1_000;

/**
 * The external-task operations of one instance, as `tl.external`.
 *
 * @example
 * const [task] = await tl.external.fetchAndLock({ workerId: "w1", topics: ["invoice.send"], longPollMs: 30_000 });
 * if (task) await tl.external.complete(task.id, "w1", { sent: true });
 */
export class ExternalTasks {
  readonly #engine: Engine;
  readonly #maxResultBytes: number;
  readonly #ready: ReadySignal;
  #closed = false;

  /** @internal Created by {@link Tasklane.external}. */
  constructor(engine: Engine, maxResultBytes: number) {
    this.#engine = engine;
    this.#maxResultBytes = maxResultBytes;
    this.#ready = new ReadySignal(engine.driver, `${engine.schema}_ready`);
  }

  /** Long-polling fetches waiting right now on this instance. */
  get waiting(): number {
    return this.#ready.waiting;
  }

  /**
   * Locks up to `maxTasks` ready tasks of the topics for `workerId`, in one statement. With
   * `longPollMs`, when none is ready, waits until one is (on any node) or the time is up.
   *
   * @returns the locked tasks (empty when none became ready in time).
   */
  async fetchAndLock(options: FetchAndLockOptions): Promise<ExternalTask[]> {
    this.#assertOpen();
    const opts = parseOptions(fetchAndLockSchema, options, "fetchAndLock options");
    const topics = opts.topics.map((t) => (typeof t === "string" ? { topic: t } : t));
    if (opts.maxTasks === 0 || topics.length === 0) return [];
    const filtered = topics.some((t) => t.businessKey !== undefined || t.processNames !== undefined);
    const spec = JSON.stringify(topics.map((t) => ({
      topic: t.topic,
      lock_ms: t.lockDurationMs ?? opts.lockDurationMs,
      business_key: t.businessKey ?? null,
      process_names: t.processNames ?? null,
    })));
    const names = [...new Set(topics.map((t) => t.topic))];
    const signal = opts.signal;
    const claim = async (): Promise<ExternalTask[]> => {
      const rows = await this.#engine.driver.query<Row>(this.#engine.queries.get("ExternalFetchAndLock"), [
        spec, names, opts.maxTasks, opts.workerId, opts.tags ?? null, filtered,
      ]);
      const tasks = rows.map(externalTaskFromRow);
      // The client left while we claimed: nobody will work on these, so hand them back now
      // rather than when their lock expires.
      if (tasks.length && signal?.aborted) {
        await Promise.all(tasks.map((t) => this.unlock(t.id).catch(() => undefined)));
        return [];
      }
      return tasks;
    };

    let tasks = await claim();
    if (tasks.length || opts.longPollMs === 0 || signal?.aborted) return tasks;
    const deadline = Date.now() + opts.longPollMs;
    // Registered (and listening) before the second claim: a task made ready between the first
    // claim and the LISTEN is found by that claim, one made ready after it wakes the waiter.
    const waiter = await this.#ready.register(names);
    try {
      for (;;) {
        tasks = await claim();
        const left = deadline - Date.now();
        if (tasks.length || left <= 0 || signal?.aborted || this.#closed) return tasks;
        await waiter.next(Math.min(left, pollFallbackMs), signal);
        if (this.#closed) return [];
      }
    } finally {
      waiter.dispose();
    }
  }

  /**
   * Sets the lock of a task `workerId` holds to end `durationMs` from now.
   *
   * @returns when the lock now ends.
   */
  async extendLock(id: string, workerId: string, durationMs: number): Promise<Date> {
    const ms = parseDuration(durationMs, "durationMs");
    const [row] = await this.#guarded(id, workerId, "extend_lock", "ExternalExtendLock", [ms]);
    return row!.lease_expires_at as Date;
  }

  /**
   * Completes a task `workerId` holds with `result`. A process step's completion advances its
   * process in the same statement.
   */
  async complete(id: string, workerId: string, result: unknown = null): Promise<void> {
    const json = safeJson(result ?? null);
    if (json === undefined) throw new ValidationError("complete: result is not JSON-serialisable", { field: "result" });
    assertStorableJson(result, json, "result");
    if (Buffer.byteLength(json) > this.#maxResultBytes) {
      throw new ValidationError(`complete: result is larger than maxPayloadBytes (${this.#maxResultBytes} bytes)`, { field: "result" });
    }
    await this.#guarded(id, workerId, "complete", "ExternalComplete", [json]);
  }

  /**
   * Reports a technical failure of a task `workerId` holds. Without `retries` the task's retry
   * policy decides (backoff included); with `retries` the worker does (Camunda): 0 fails the
   * task, n > 0 leaves n attempts, the next after `retryTimeoutMs`.
   *
   * @returns `retrying` when the task will run again, `failed` when it ended.
   */
  async fail(id: string, workerId: string, failure: ExternalFailure): Promise<"retrying" | "failed"> {
    const f = parseOptions(failureSchema, failure, "failure");
    const error: Record<string, unknown> = { message: f.message };
    if (f.details !== undefined) error.details = f.details;
    if (f.errorCode !== undefined) error.errorCode = f.errorCode;
    const [row] = await this.#guarded(id, workerId, "failure", "ExternalFail", [
      this.#errorJson(error), true, f.retries ?? null, f.retryTimeoutMs ?? null,
    ]);
    return row!.state === "failed" ? "failed" : "retrying";
  }

  /**
   * Reports a business (BPMN) error: the work was done and the answer is "no". Not retried: the
   * task fails with `{ code: "BUSINESS", businessCode }`, and a process step follows its
   * `onFailure` policy.
   */
  async bpmnError(id: string, workerId: string, businessCode: string, message?: string, extra: Record<string, unknown> = {}): Promise<void> {
    if (typeof businessCode !== "string" || businessCode.trim() === "") {
      throw new ValidationError("bpmnError: the error code must be a non-empty string", { field: "errorCode" });
    }
    if (message !== undefined && typeof message !== "string") throw new ValidationError("bpmnError: message must be a string", { field: "errorMessage" });
    const error = { ...extra, message: message || businessCode, code: "BUSINESS", businessCode };
    await this.#guarded(id, workerId, "bpmn_error", "ExternalFail", [this.#errorJson(error), false, null, null]);
  }

  /**
   * Locks one ready task by id for `workerId` (Camunda `lock`), or renews the lock this worker
   * already holds.
   */
  async lock(id: string, workerId: string, durationMs: number): Promise<ExternalTask> {
    const ms = parseDuration(durationMs, "durationMs");
    const [row] = await this.#guarded(id, workerId, "lock", "ExternalLock", [ms]);
    return externalTaskFromRow(row!);
  }

  /**
   * Gives a running task back (Camunda `unlock`): ready at once, the attempt not counted. A task
   * that is not running is left as it is.
   *
   * @throws NotFoundError when there is no such task.
   * @returns whether a lock was released.
   */
  async unlock(id: string): Promise<boolean> {
    this.#assertOpen();
    const taskId = parseTaskId(id);
    if (taskId === null) throw new NotFoundError(`no task with id ${String(id)}`, { id });
    const { driver, queries } = this.#engine;
    const rows = await driver.query(queries.get("ExternalUnlock"), [taskId]);
    if (rows.length) return true;
    if (!(await this.get(taskId))) throw new NotFoundError(`no task with id ${taskId}`, { id: taskId });
    return false;
  }

  /** The task with that id, whatever its state; null when there is none. */
  async get(id: string): Promise<ExternalTask | null> {
    this.#assertOpen();
    const taskId = parseTaskId(id);
    if (taskId === null) return null;
    const [row] = await this.#engine.driver.query<Row>(this.#engine.queries.get("ExternalGet"), [taskId]);
    return row ? externalTaskFromRow(row) : null;
  }

  /**
   * Tasks that are external tasks in Camunda's sense: ready, running, suspended or failed
   * (incidents). Offset-paged; for operators.
   */
  async list(filter: ExternalTaskFilter & ExternalTaskPage = {}): Promise<ExternalTask[]> {
    this.#assertOpen();
    const f = parseOptions(listSchema, filter, "external task filter");
    const rows = await this.#engine.driver.query<Row>(this.#engine.queries.get("ExternalList"), [
      ...this.#filterParams(f), f.sortBy ?? "id", f.descending ?? false, f.offset ?? 0, f.limit ?? 100,
    ]);
    return rows.map(externalTaskFromRow);
  }

  /** How many tasks {@link ExternalTasks.list} would find without paging. */
  async count(filter: ExternalTaskFilter = {}): Promise<number> {
    this.#assertOpen();
    const f = parseOptions(listSchema, filter, "external task filter");
    const [row] = await this.#engine.driver.query<{ count: number }>(this.#engine.queries.get("ExternalCount"), this.#filterParams(f));
    return Number(row?.count ?? 0);
  }

  /** @internal Ends every long poll (they answer with no task) and drops the LISTEN. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#ready.close();
  }

  /**
   * Runs a write guarded by the lock holder; when it changes nothing, finds out why and throws.
   * Rejections are recorded as STALE_RESULT_REJECTED events of the task.
   */
  async #guarded(id: string, workerId: string, operation: string, query: string, params: unknown[]): Promise<Row[]> {
    this.#assertOpen();
    const worker = parseWorkerId(workerId);
    const taskId = parseTaskId(id);
    if (taskId === null) throw new NotFoundError(`no task with id ${String(id)}`, { id });
    const { driver, queries } = this.#engine;
    const rows = await driver.query<Row>(queries.get(query), [taskId, worker, ...params]);
    if (rows.length) return rows;
    const [found] = await driver.query<{ state: TaskState; lease_owner: string | null }>(queries.get("ExternalRejected"), [taskId, worker, operation]);
    if (!found) throw new NotFoundError(`no task with id ${taskId}`, { id: taskId });
    const details = { id: taskId, workerId: worker, state: found.state, lockedBy: found.state === "running" ? found.lease_owner : null };
    if (terminalStates.includes(found.state)) {
      throw new InvalidStateError(`task ${taskId} has already finished (${found.state})`, details);
    }
    if (found.state === "running") {
      throw new LeaseLostError(`task ${taskId} is locked by another worker, not by ${worker}`, details);
    }
    throw new LeaseLostError(`task ${taskId} is not locked by ${worker}: it is ${found.state} (its lock expired or was released)`, details);
  }

  #errorJson(error: Record<string, unknown>): string {
    const json = safeJson(error);
    if (json === undefined) throw new ValidationError("the error details are not JSON-serialisable", { field: "errorDetails" });
    assertStorableJson(error, json, "errorDetails");
    if (Buffer.byteLength(json) > this.#maxResultBytes) {
      throw new ValidationError(`the error is larger than maxPayloadBytes (${this.#maxResultBytes} bytes)`, { field: "errorDetails" });
    }
    return json;
  }

  #filterParams(f: ExternalTaskFilter): unknown[] {
    const ids = (list: string[] | undefined) => (list === undefined ? null : list.map(parseTaskId).filter((x) => x !== null));
    return [
      f.topic ?? null, f.workerId ?? null, f.locked ?? false, f.notLocked ?? false, f.withRetriesLeft ?? false, f.noRetriesLeft ?? false,
      f.active ?? false, f.suspended ?? false, f.priorityAtLeast ?? null, f.priorityAtMost ?? null, ids(f.ids), ids(f.processIds), f.step ?? null,
    ];
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError();
  }
}

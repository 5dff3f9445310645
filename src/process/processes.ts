/**
 * Processes: atomic idempotent start, the whole picture of one process, and operator control.
 * Steps advance in the database (trigger `steps_finished`), never here.
 *
 * @internal
 * @module
 */
import type { Engine } from "../tasklane.js";
import type { Executor } from "../db/driver.js";
import { ConflictError, InvalidStateError, NotFoundError, ValidationError } from "../errors.js";
import { assertStorableJson, storableText } from "../config.js";
import { inEnqueueSpan, pairInserted, type TaskInput } from "../client/enqueue.js";
import { safeJson } from "../task.js";
import { normalizeProcess, type NormalProcess } from "./definition.js";
import { processFromRows, type ProcessView } from "./view.js";

type Row = Record<string, unknown>;

/** One process of a {@link Processes.startMany} batch. */
export interface StartedProcess {
  id: string;
  key: string | null;
  /** False when a process with this key already existed (same definition). */
  created: boolean;
}

/** The step tasks of a new process, in definition order. */
function stepInputs(def: NormalProcess, processId: string): TaskInput[] {
  return def.steps.map((s) => ({
    topic: s.topic,
    payloadJson: s.payload === undefined ? "null" : safeJson(s.payload)!,
    options: {
      ...(s.priority !== undefined && { priority: s.priority }),
      ...(s.tags && { tags: s.tags }),
      ...(s.retry && { retry: s.retry }),
      ...(s.timeouts && { timeouts: s.timeouts }),
    },
    state: s.dependsOn.length ? "pending" : "ready",
    processId,
    step: s.name,
    pendingParents: s.dependsOn.length,
    onFailure: s.onFailure ?? "fail-process",
    isOutput: s.output ?? false,
  }));
}

/**
 * The ConflictError of a start_processes call that found a key taken by another definition
 * (SQLSTATE TL409, the key and process id as JSON in DETAIL); undefined for any other error.
 */
function conflictFrom(err: unknown): ConflictError | undefined {
  const e = err as { code?: unknown; detail?: unknown };
  if (e?.code !== "TL409") return undefined;
  let details: { key?: string; processId?: string } = {};
  try {
    details = JSON.parse(String(e.detail)) as typeof details;
  } catch {
    // no detail: the message still says what happened
  }
  return new ConflictError(
    `a process with key "${details.key}" exists with another definition (name, input, steps or deadline differ); use another key`,
    { key: details.key, processId: details.processId },
  );
}

/** @internal */
export class Processes {
  constructor(private readonly engine: Engine) {}

  /** Starts a process; with a key that exists, returns the existing one (same definition) or throws ConflictError. */
  async start(options: unknown): Promise<{ created: boolean; process: ProcessView }> {
    const [started] = await this.#insert([normalizeProcess(options)]);
    const process = await this.get(started!.id);
    if (!process) throw new ConflictError(`process ${started!.id} was deleted while starting; start again`, { processId: started!.id });
    return { created: started!.created, process };
  }

  /**
   * Starts many processes in one transaction: one statement for the processes, one for all
   * their steps, one for all their edges. All or nothing: an invalid definition or a key taken
   * by another definition writes none of them.
   */
  async startMany(items: unknown): Promise<StartedProcess[]> {
    if (!Array.isArray(items)) throw new ValidationError("startProcessMany expects an array of process definitions", { field: "items" });
    const defs = items.map((item, i) => {
      try {
        return normalizeProcess(item);
      } catch (err) {
        if (err instanceof ValidationError) throw new ValidationError(`startProcessMany: item ${i}: ${err.message}`, { index: i, ...err.details });
        throw err;
      }
    });
    return this.#insert(defs);
  }

  /**
   * Writes the processes that do not exist yet with their steps and edges; answers each one's id,
   * in order. One ProcessStartMany per distinct definition in the batch: without a transaction
   * when there is one (the call is atomic), in one transaction when there are more.
   */
  async #insert(defs: NormalProcess[]): Promise<StartedProcess[]> {
    if (defs.length === 0) return [];
    const groups = new Map<string, number[]>();
    defs.forEach((def, i) => {
      const key = `${def.name}\0${def.deadlineMs ?? ""}\0${def.stepsJson}`;
      const group = groups.get(key);
      if (group) group.push(i);
      else groups.set(key, [i]);
    });
    const out: StartedProcess[] = new Array(defs.length);
    const run = async (db: Executor) => {
      for (const indexes of groups.values()) await this.#startGroup(db, defs, indexes, out);
      return out;
    };
    const { driver } = this.engine;
    try {
      return await (groups.size === 1 ? run(driver) : driver.transaction(run));
    } catch (err) {
      throw conflictFrom(err) ?? err;
    }
  }

  /** Starts the processes `indexes` of `defs`, which share one definition, through ProcessStartMany. */
  async #startGroup(db: Executor, defs: NormalProcess[], indexes: number[], out: StartedProcess[]): Promise<void> {
    const { queries, definitions } = this.engine;
    const first = defs[indexes[0]!]!;
    const steps = stepInputs(first, "0");
    const parents: string[] = [];
    const children: string[] = [];
    for (const s of first.steps) for (const d of s.dependsOn) (parents.push(d), children.push(s.name));
    const rows = await inEnqueueSpan(steps, definitions, (values, trace) => {
      const column = (c: number) => values.map((v) => v[c]);
      return db.query<{ id: string | number; key: string | null; created: boolean }>(queries.get("ProcessStartMany"), [
        indexes.map((i) => defs[i]!.key ?? null),
        indexes.map((i) => defs[i]!.inputJson),
        indexes.map((i) => defs[i]!.hash),
        first.name,
        `{"steps":${first.stepsJson}}`,
        first.deadlineMs ?? null,
        // The steps' columns in rowValues' order: topic, name, payload, priority, attempts, backoff
        // (kind, initial, max, jitter), tags, the four timeouts, parents, failure policy, output.
        ...[0, 13, 1, 2, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 19, 20, 21].map(column),
        parents,
        children,
        trace,
      ]);
    });
    const created = rows.filter((r) => r.created);
    const existing = new Map(rows.filter((r) => !r.created).map((r) => [r.key!, String(r.id)]));
    const paired = pairInserted(indexes.map((i) => defs[i]!.key), created);
    // A key given twice in the batch: the second gets the process the first created.
    const byKey = new Map<string, string>();
    indexes.forEach((i, j) => {
      const row = paired[j];
      if (row) {
        out[i] = { id: String(row.id), key: row.key, created: true };
        if (row.key !== null) byKey.set(row.key, String(row.id));
        return;
      }
      const key = defs[i]!.key!;
      const id = byKey.get(key) ?? existing.get(key);
      // The existing process was deleted (pruned) between the insert and the answer.
      if (id === undefined) throw new ConflictError(`process key "${key}" was taken and released while starting; start again`, { key });
      out[i] = { id, key, created: false };
    });
  }

  /** The process with that id (or key), with every step and why it is not running; null when none. */
  async get(idOrKey: string): Promise<ProcessView | null> {
    const row = await this.#find(idOrKey);
    if (!row) return null;
    const { driver, queries } = this.engine;
    const [steps, edges, events] = await Promise.all([
      driver.query<Row>(queries.get("ProcessSteps"), [row.id]),
      driver.query<Row>(queries.get("ProcessEdges"), [row.id]),
      driver.query<Row>(queries.get("ProcessStepEvents"), [row.id]),
    ]);
    return processFromRows(row, steps, edges, events);
  }

  /** Lists processes, newest first, keyset-paginated. */
  async list(options: { state?: string; name?: string; limit?: number; cursor?: string }): Promise<{ processes: ProcessView[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError("listProcesses: limit must be an integer from 1 to 1000", { field: "limit" });
    const after = options.cursor === undefined ? null : Buffer.from(options.cursor, "base64url").toString();
    if (after !== null && !/^\d{1,19}$/.test(after)) throw new ValidationError("listProcesses: cursor is not one this API returned", { field: "cursor" });
    const rows = await this.engine.driver.query<Row>(this.engine.queries.get("ProcessList"), [options.state ?? null, options.name ?? null, after, limit + 1]);
    const page = rows.slice(0, limit);
    const processes = page.map((r) => processFromRows(r, [], [], []));
    return { processes, nextCursor: rows.length > limit ? Buffer.from(String(page[page.length - 1]!.id)).toString("base64url") : null };
  }

  /** Cancels a running or suspended process: queued steps cancelled, running ones aborted on their node. */
  async cancel(idOrKey: string, actor: string | null): Promise<ProcessView> {
    return this.#transition(idOrKey, "cancelled", ["running", "suspended"], actor, async (tx, id) => {
      await tx.query(this.engine.queries.get("ProcessCancelSteps"), [[id], "PROCESS_CANCELLED", "the process was cancelled"]);
    });
  }

  /** Holds a running process: steps not yet running are suspended; running ones finish. */
  async suspend(idOrKey: string, actor: string | null): Promise<ProcessView> {
    return this.#transition(idOrKey, "suspended", ["running"], actor, async (tx, id) => {
      await tx.query(this.engine.queries.get("ProcessSuspendSteps"), [id, actor]);
    });
  }

  /** Releases a suspended process. */
  async resume(idOrKey: string, actor: string | null): Promise<ProcessView> {
    return this.#transition(idOrKey, "running", ["suspended"], actor, async (tx, id) => {
      await tx.query(this.engine.queries.get("ProcessResumeSteps"), [id, actor]);
      await tx.query(this.engine.queries.get("ProcessCompleteIfDone"), [id]);
    });
  }

  /**
   * Delivers event `name` to the task `id`, or to the steps of process `id`, that wait for it.
   *
   * @returns the ids of the tasks it woke.
   */
  async sendEvent(id: string, name: string, data: unknown, actor: string | null): Promise<string[]> {
    if (typeof name !== "string" || name.trim() === "") throw new ValidationError("sendEvent: the event name must be a non-empty string", { field: "name" });
    const json = data === undefined ? "null" : safeJson(data);
    if (json === undefined) throw new ValidationError("sendEvent: data is not JSON-serialisable", { field: "data" });
    assertStorableJson(data, json, "data");
    if (!storableText(name)) throw new ValidationError("sendEvent: the event name contains a NUL character or an unpaired surrogate", { field: "name" });
    const target = (await this.#find(id))?.id ?? (/^\d{1,19}$/.test(id) ? id : null);
    if (target === null) throw new NotFoundError(`no task or process ${id}`, { id });
    const { driver, queries } = this.engine;
    const woken = await driver.query<Row>(queries.get("TaskSendEvent"), [target, name, json, actor]);
    if (woken.length) return woken.map((r) => String(r.id));
    const waiting = await driver.query<Row>(queries.get("TaskWaiting"), [target]);
    if (waiting.length) {
      const names = [...new Set(waiting.map((w) => `"${w.wait_event}"`))].join(", ");
      throw new InvalidStateError(`${id} waits for event ${names}, not "${name}"`, { id, event: name, waitingFor: waiting.map((w) => w.wait_event) });
    }
    const [task] = await driver.query<Row>(queries.get("TaskGet"), [target]);
    if (!task && !(await this.#find(id))) throw new NotFoundError(`no task or process ${id}`, { id });
    throw new InvalidStateError(`${id} is not waiting for an event${task ? ` (task state: ${task.state})` : ""}`, { id, event: name });
  }

  /** After an operator retried one of its steps: the finished process runs again from there. */
  async reopen(processId: string, db: Executor = this.engine.driver): Promise<void> {
    await db.query(this.engine.queries.get("ProcessReopen"), [processId]);
  }

  async #transition(
    idOrKey: string,
    to: string,
    from: string[],
    actor: string | null,
    steps: (tx: Executor, id: string) => Promise<void>,
  ): Promise<ProcessView> {
    const row = await this.#find(idOrKey);
    if (!row) throw new NotFoundError(`no process ${idOrKey}`, { id: idOrKey });
    const id = String(row.id);
    const { driver, queries } = this.engine;
    const changed = await driver.transaction(async (tx) => {
      const [updated] = await tx.query<Row>(queries.get("ProcessSetState"), [id, to, from]);
      if (!updated) return false;
      await steps(tx, id);
      const kind = { cancelled: "PROCESS_CANCELLED", suspended: "PROCESS_SUSPENDED", running: "PROCESS_RESUMED" }[to] ?? `PROCESS_${to.toUpperCase()}`;
      await tx.query(queries.get("ProcessEvent"), [id, kind, actor, null]);
      return true;
    });
    if (!changed) {
      const current = await this.#find(id);
      throw new InvalidStateError(`cannot make process ${id} ${to}: it is ${current?.state}`, { id, state: current?.state });
    }
    return (await this.get(id))!;
  }

  async #find(idOrKey: string): Promise<Row | undefined> {
    if (typeof idOrKey !== "string" && typeof idOrKey !== "number") return undefined;
    const text = String(idOrKey);
    const { driver, queries } = this.engine;
    if (/^[1-9]\d{0,18}$/.test(text) && BigInt(text) < 2n ** 63n) {
      const [byId] = await driver.query<Row>(queries.get("ProcessGet"), [text]);
      if (byId) return byId;
    }
    const [byKey] = await driver.query<Row>(queries.get("ProcessGetByKey"), [text]);
    return byKey;
  }
}

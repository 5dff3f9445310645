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
import { insertStepIds, pairInserted, type TaskInput } from "../client/enqueue.js";
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

  /** Writes the processes that do not exist yet with their steps; answers each one's id, in order. */
  async #insert(defs: NormalProcess[]): Promise<StartedProcess[]> {
    if (defs.length === 0) return [];
    const { driver, queries, definitions } = this.engine;
    return driver.transaction(async (tx) => {
      const rows = await tx.query<{ id: string; key: string | null }>(queries.get("ProcessInsertMany"), [
        defs.map((d) => d.key ?? null),
        defs.map((d) => d.name),
        defs.map((d) => d.inputJson),
        defs.map((d) => JSON.stringify({ steps: d.steps })),
        defs.map((d) => d.hash),
        defs.map((d) => d.deadlineMs ?? null),
      ]);
      // A def without a row found its key taken, by an existing process or an earlier def.
      const paired = pairInserted(defs.map((d) => d.key), rows);
      const byKey = new Map<string, { id: string; hash: string }>();
      const out: (StartedProcess | undefined)[] = paired.map((row, i) => {
        if (!row) return undefined;
        const key = defs[i]!.key;
        if (key !== undefined) byKey.set(key, { id: String(row.id), hash: defs[i]!.hash });
        return { id: String(row.id), key: row.key, created: true };
      });
      const missing = [...new Set(defs.filter((d, i) => !out[i] && !byKey.has(d.key!)).map((d) => d.key!))];
      if (missing.length) {
        for (const r of await tx.query<Row>(queries.get("ProcessGetByKeys"), [missing])) {
          byKey.set(r.key as string, { id: String(r.id), hash: r.definition_hash as string });
        }
      }
      defs.forEach((def, i) => {
        if (out[i]) return;
        const existing = byKey.get(def.key!);
        if (!existing) throw new ConflictError(`process key "${def.key}" was taken and released while starting; start again`, { key: def.key });
        if (existing.hash !== def.hash) {
          throw new ConflictError(
            `a process with key "${def.key}" exists with another definition (name, input, steps or deadline differ); use another key`,
            { key: def.key, processId: existing.id },
          );
        }
        out[i] = { id: existing.id, key: def.key!, created: false };
      });
      const started = out as StartedProcess[];
      const fresh = defs.flatMap((def, i) => (started[i]!.created ? [{ def, id: started[i]!.id }] : []));
      const stepIds = await insertStepIds(tx, queries, fresh.flatMap(({ def, id }) => stepInputs(def, id)), definitions);
      const parents: string[] = [];
      const children: string[] = [];
      let at = 0;
      for (const { def } of fresh) {
        const idOf = new Map(def.steps.map((s, j) => [s.name, stepIds[at + j]!]));
        for (const s of def.steps) {
          for (const d of s.dependsOn) {
            parents.push(idOf.get(d)!);
            children.push(idOf.get(s.name)!);
          }
        }
        at += def.steps.length;
      }
      if (parents.length) await tx.query(queries.get("EdgeInsertMany"), [parents, children]);
      return started;
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

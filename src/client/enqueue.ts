/**
 * Enqueueing: options resolved against the topic's definition, then one `INSERT … SELECT FROM
 * unnest(…)` for the whole batch. Idempotency keys are handled by the unique index in the same
 * statement: a key that exists returns the existing task with `created: false`.
 *
 * @internal
 * @module
 */
import { assertStorableJson, defaultRetry, enqueueOptionsSchema, parseOptions, parseTopic, type EnqueueOptions } from "../config.js";
import { ConflictError, ValidationError } from "../errors.js";
import type { Executor } from "../db/driver.js";
import type { Queries } from "../db/queries.js";
import { textArray } from "../db/array-literal.js";
import { safeJson, taskFromRow, type EnqueuedTask, type TaskState } from "../task.js";
import type { Definition } from "./definition.js";
import { traceCarrier, withSpan } from "../telemetry.js";

/** One task to insert, after validation. */
export interface TaskInput {
  topic: string;
  payloadJson: string;
  options: Omit<EnqueueOptions, "tx">;
  state?: TaskState;
  processId?: string;
  step?: string;
  pendingParents?: number;
  onFailure?: string;
  isOutput?: boolean;
}

/** Validates one `enqueue` call's arguments into a {@link TaskInput}. */
export function taskInput(topic: unknown, payload: unknown, options: unknown, maxPayloadBytes: number): TaskInput {
  const name = parseTopic(topic);
  // No options (every option of enqueueOptionsSchema is optional and has no default, so its parse
  // of {} is {}): skipped, a third of validating a batch item. Anything else is parsed in full.
  const { tx: _tx, ...parsed } = isEmptyPlainObject(options) ? {} : parseOptions(enqueueOptionsSchema, options, "enqueue options");
  if (parsed.runAt && parsed.delayMs !== undefined) {
    throw new ValidationError("invalid enqueue options: give runAt or delayMs, not both", { field: "runAt" });
  }
  if (parsed.runAt && Number.isNaN(parsed.runAt.getTime())) {
    throw new ValidationError("invalid enqueue options: runAt is an invalid Date", { field: "runAt" });
  }
  const payloadJson = payload === undefined ? "null" : safeJson(payload);
  if (payloadJson === undefined || typeof payload === "function" || typeof payload === "symbol") {
    throw new ValidationError(
      "payload is not JSON-serialisable (BigInt, a cycle, a function?): pass plain objects, arrays, strings, numbers, booleans or null",
      { field: "payload" },
    );
  }
  assertStorableJson(payload, payloadJson, "payload");
  if (Buffer.byteLength(payloadJson) > maxPayloadBytes) {
    throw new ValidationError(`payload is larger than maxPayloadBytes (${maxPayloadBytes} bytes): store large data elsewhere and enqueue a reference`, {
      field: "payload",
      limit: maxPayloadBytes,
    });
  }
  return { topic: name, payloadJson, options: parsed };
}

/** Whether `value` is undefined, null or a plain object without own properties. */
function isEmptyPlainObject(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const _ in value) return false;
  return Object.getOwnPropertySymbols(value).length === 0;
}

/** One task's TaskInsertMany values, its policy resolved against its topic's definition. */
export function rowValues(input: TaskInput, definitions: ReadonlyMap<string, Definition>, trace: string | null): unknown[] {
  const def = definitions.get(input.topic)?.options;
  const o = input.options;
  const retry = { ...defaultRetry, ...def?.retry, ...o.retry };
  const timeouts = { ...def?.timeouts, ...o.timeouts };
  return [
    input.topic,
    input.payloadJson,
    o.priority ?? 0,
    o.runAt ? o.runAt.toISOString() : null,
    o.delayMs ?? null,
    retry.maxAttempts,
    retry.backoff,
    retry.initialDelayMs,
    retry.maxDelayMs,
    retry.jitter,
    textArray(o.tags ?? def?.tags ?? []),
    o.key ?? null,
    input.processId ?? null,
    input.step ?? null,
    timeouts.startToCloseMs ?? null,
    timeouts.heartbeatMs ?? null,
    timeouts.scheduleToStartMs ?? null,
    timeouts.scheduleToCloseMs ?? null,
    input.state ?? "ready",
    input.pendingParents ?? 0,
    input.onFailure ?? null,
    input.isOutput ?? false,
    trace,
  ];
}

/** Columns 2–10 and 14–17 of {@link rowValues}: what TaskInsertUniform sends once per batch. */
const UNIFORM_COLUMNS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17] as const;

/**
 * The batch's shared values when TaskInsertUniform can insert it: no keys, no process steps,
 * and every option the same after each topic's defaults. Undefined otherwise.
 */
function uniformValues(inputs: readonly TaskInput[], rows: readonly unknown[][]): unknown[] | undefined {
  let length = 0;
  for (const input of inputs) {
    if (input.options.key !== undefined || input.processId !== undefined || input.state !== undefined) return undefined;
    length += input.payloadJson.length;
  }
  // TaskInsertUniform sends the payloads as one jsonb, and a jsonb value holds at most 256 MB;
  // a batch that could be larger (3 bytes per UTF-16 unit at most) goes through TaskInsertMany,
  // whose jsonb[] carries up to 1 GB like any parameter.
  if (length * 3 > MAX_UNIFORM_PAYLOAD_BYTES) return undefined;
  return sameOptions(rows) ? UNIFORM_COLUMNS.map((c) => rows[0]![c]) : undefined;
}

/** The most payload bytes TaskInsertUniform takes in one call (below jsonb's 256 MB limit). */
const MAX_UNIFORM_PAYLOAD_BYTES = 192 * 1024 * 1024;

/** Whether every row has the first row's options (the {@link UNIFORM_COLUMNS}). */
function sameOptions(rows: readonly unknown[][]): boolean {
  const first = rows[0]!;
  return rows.every((row) => UNIFORM_COLUMNS.every((c) => row[c] === first[c]));
}

/**
 * Runs an insert of `inputs` in its enqueue span, with each input's values. The values are made
 * inside the span: the tasks carry its context, so their attempts continue this trace.
 */
export function inEnqueueSpan<T>(
  inputs: readonly TaskInput[],
  definitions: ReadonlyMap<string, Definition>,
  insert: (values: unknown[][], trace: string | null) => Promise<T>,
): Promise<T> {
  const span = { "tasklane.topic": inputs[0]!.topic, "tasklane.count": inputs.length };
  return withSpan(`tasklane.enqueue ${inputs[0]!.topic}`, span, () => {
    const trace = traceCarrier();
    return insert(inputs.map((input) => rowValues(input, definitions, trace)), trace);
  });
}

/** Transposes rows of values into the column arrays unnest takes. */
function columns(rows: readonly unknown[][]): unknown[][] {
  const out: unknown[][] = Array.from({ length: rows[0]!.length }, () => new Array(rows.length));
  rows.forEach((row, i) => row.forEach((v, c) => (out[c]![i] = v)));
  return out;
}

/**
 * Inserts a uniform batch (see {@link uniformValues}) and builds its tasks from the inputs: the
 * statement answers only the new ids and its now(), so no row is sent back and parsed.
 */
async function insertUniform(
  db: Executor,
  queries: Queries,
  inputs: readonly TaskInput[],
  definitions: ReadonlyMap<string, Definition>,
  shared: unknown[],
  trace: string | null,
): Promise<EnqueuedTask[]> {
  const [priority, runAt, delayMs, maxAttempts] = shared as [number, string | null, number | null, number];
  const [row] = await db.query<{ ids: string; now: Date }>(queries.get("TaskInsertUniform"), [
    inputs.map((i) => i.topic),
    `[${inputs.map((i) => i.payloadJson).join(",")}]`,
    runAt,
    delayMs,
    ...shared.filter((_, c) => c !== 1 && c !== 2),
    trace,
  ]);
  const ids = row!.ids.split(",");
  const now = row!.now;
  const due = runAt !== null ? new Date(runAt) : new Date(now.getTime() + (delayMs ?? 0));
  return inputs.map((input, i) => createdTask(input, priority, maxAttempts, definitions, ids[i]!, due, now));
}

/** A task just inserted, built from its input and what the insert answered: no row is read back. */
function createdTask(
  input: TaskInput,
  priority: number,
  maxAttempts: number,
  definitions: ReadonlyMap<string, Definition>,
  id: string,
  runAt: Date,
  now: Date,
): EnqueuedTask {
  return {
    id,
    topic: input.topic,
    state: input.state ?? "ready",
    payload: JSON.parse(input.payloadJson) as unknown,
    result: null,
    error: null,
    attempt: 0,
    maxAttempts,
    priority,
    runAt,
    tags: [...(input.options.tags ?? definitions.get(input.topic)?.options.tags ?? [])],
    key: input.options.key ?? null,
    processId: input.processId ?? null,
    step: input.step ?? null,
    progress: null,
    workerId: null,
    heartbeatAt: null,
    leaseExpiresAt: null,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    created: true,
  };
}

interface InsertRow {
  id: string;
  key: string | null;
  run_at: Date;
  now: Date;
  /** TaskInsertOne only: `running` when the task was handed off, to worker `lease_owner`. */
  state?: TaskState;
  lease_owner?: string | null;
}

/**
 * Inserts the tasks and answers one {@link EnqueuedTask} per input, in input order. Throws
 * {@link ConflictError} when a key already belongs to a task of another topic; callers that
 * insert several tasks run this inside a transaction so that nothing is written then.
 */
export async function insertTasks(
  db: Executor,
  queries: Queries,
  inputs: readonly TaskInput[],
  definitions: ReadonlyMap<string, Definition>,
  options: { handoff?: boolean } = {},
): Promise<EnqueuedTask[]> {
  if (inputs.length === 0) return [];
  return inEnqueueSpan(inputs, definitions, (values, trace) => {
    if (inputs.length === 1 && inputs[0]!.processId === undefined && inputs[0]!.state === undefined) {
      return insertOne(db, queries, inputs[0]!, definitions, values[0]!, options.handoff ?? false);
    }
    const shared = uniformValues(inputs, values);
    if (shared) return insertUniform(db, queries, inputs, definitions, shared, trace);
    return insertRows(db, queries, inputs, definitions, values);
  });
}

/**
 * Pairs the rows an `INSERT … ON CONFLICT (key) DO NOTHING` inserted with the inputs (given by
 * their keys) that got them. Rows are inserted in input order, so ascending ids follow it; an
 * input left without a row (undefined) has a key that existed or that an earlier input took.
 */
export function pairInserted<R extends { id: string | number; key: string | null }>(
  keys: readonly (string | undefined)[],
  rows: readonly R[],
): (R | undefined)[] {
  // Usually already in id order (the statements answer it so): then no sort.
  const sorted = rows.every((r, i) => i === 0 || compareIds(rows[i - 1]!.id, r.id) < 0) ? rows : [...rows].sort((a, b) => compareIds(a.id, b.id));
  let next = 0;
  return keys.map((key) => {
    const candidate = sorted[next];
    if (!candidate || (key !== undefined && candidate.key !== key)) return undefined;
    next++;
    return candidate;
  });
}

/**
 * Inserts one plain task through TaskInsertOne: its values as scalars, and handed to an idle
 * worker in the same statement when `handoff` is on and a worker of its topic has an open offer
 * (the task then comes back `running`).
 */
async function insertOne(
  db: Executor,
  queries: Queries,
  input: TaskInput,
  definitions: ReadonlyMap<string, Definition>,
  values: readonly unknown[],
  handoff: boolean,
): Promise<EnqueuedTask[]> {
  // TaskInsertMany's columns without the process ones (12–13 and 18–21), then the handoff switch.
  const rows = await db.query<InsertRow>(queries.get("TaskInsertOne"), [
    ...values.slice(0, 12), ...values.slice(14, 18), values[22], handoff,
  ]);
  return pairedTasks(db, queries, [input], definitions, [values], rows);
}

/** Orders two ids (bigint as text or number) numerically, without BigInt. */
function compareIds(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = String(a);
  const y = String(b);
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}

/** Inserts any batch through TaskInsertMany; keys that exist answer their existing tasks. */
async function insertRows(
  db: Executor,
  queries: Queries,
  inputs: readonly TaskInput[],
  definitions: ReadonlyMap<string, Definition>,
  values: readonly unknown[][],
): Promise<EnqueuedTask[]> {
  const rows = await db.query<InsertRow>(queries.get("TaskInsertMany"), columns(values));
  return pairedTasks(db, queries, inputs, definitions, values, rows);
}

/**
 * The tasks of an insert's inputs from the rows it answered: a new task per inserted row, and for
 * an input whose key existed (no row), that task, read after the insert.
 */
async function pairedTasks(
  db: Executor,
  queries: Queries,
  inputs: readonly TaskInput[],
  definitions: ReadonlyMap<string, Definition>,
  values: readonly (readonly unknown[])[],
  rows: readonly InsertRow[],
): Promise<EnqueuedTask[]> {
  const paired = pairInserted(inputs.map((i) => i.options.key), rows);

  const out: (EnqueuedTask | undefined)[] = [];
  // Keys that exist (or repeat an earlier item's key): their tasks are read after the insert.
  const missing: { index: number; key: string }[] = [];
  inputs.forEach((input, index) => {
    const row = paired[index];
    if (row) {
      const v = values[index]!;
      const task = createdTask(input, v[2] as number, v[5] as number, definitions, String(row.id), row.run_at, row.now);
      // Handed off to a worker by the insert: its first attempt has begun.
      if (row.state === "running") Object.assign(task, { state: "running", attempt: 1, workerId: row.lease_owner, heartbeatAt: row.now, startedAt: row.now });
      out.push(task);
      return;
    }
    missing.push({ index, key: input.options.key! });
    out.push(undefined);
  });
  if (missing.length) {
    // Committed before this statement began (or by this transaction): visible now.
    const late = await db.query<Record<string, unknown>>(queries.get("TaskGetByKeys"), [missing.map((m) => m.key)]);
    const lateByKey = new Map(late.map((r) => [r.key, r]));
    for (const m of missing) {
      const row = lateByKey.get(m.key);
      if (!row) throw new ConflictError(`the task with key "${m.key}" was deleted while this call enqueued it; enqueue again`, { key: m.key });
      out[m.index] = { ...taskFromRow(row), created: false };
    }
  }
  const tasks = out as EnqueuedTask[];
  tasks.forEach((task, i) => {
    const input = inputs[i]!;
    if (!task.created && task.topic !== input.topic) {
      throw new ConflictError(
        `key "${input.options.key}" already belongs to task ${task.id} of topic "${task.topic}"; use another key for topic "${input.topic}"`,
        { key: input.options.key, taskId: task.id, topic: task.topic },
      );
    }
  });
  return tasks;
}

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
  const { tx: _tx, ...parsed } = parseOptions(enqueueOptionsSchema, options, "enqueue options");
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

/** Quotes a string array as a PostgreSQL array literal (tags travel as text through unnest). */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")}}`;
}

/** Builds TaskInsertMany's column arrays, resolving each task's policy against its definition. */
function insertParams(inputs: readonly TaskInput[], definitions: ReadonlyMap<string, Definition>): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 23 }, () => new Array(inputs.length));
  const trace = traceCarrier();
  inputs.forEach((input, i) => {
    const def = definitions.get(input.topic)?.options;
    const o = input.options;
    const retry = { ...defaultRetry, ...def?.retry, ...o.retry };
    const timeouts = { ...def?.timeouts, ...o.timeouts };
    const values = [
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
      arrayLiteral(o.tags ?? def?.tags ?? []),
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
    values.forEach((v, c) => (columns[c]![i] = v));
  });
  return columns;
}

type InsertRow = Record<string, unknown> & { created: boolean; key: string | null; id: string | number };

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
): Promise<EnqueuedTask[]> {
  if (inputs.length === 0) return [];
  const rows = await withSpan(`tasklane.enqueue ${inputs[0]!.topic}`, { "tasklane.topic": inputs[0]!.topic, "tasklane.count": inputs.length }, () =>
    db.query<InsertRow>(queries.get("TaskInsertMany"), insertParams(inputs, definitions)));
  const created = rows.filter((r) => r.created).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  const byKey = new Map<string, InsertRow>();
  for (const r of rows) if (r.key !== null && !byKey.has(r.key)) byKey.set(r.key, r);

  const out: (EnqueuedTask | undefined)[] = [];
  const missing: { index: number; key: string }[] = [];
  let next = 0;
  inputs.forEach((input, index) => {
    const key = input.options.key;
    const candidate = created[next];
    if (candidate && (key === undefined || candidate.key === key)) {
      next++;
      out.push({ ...taskFromRow(candidate), created: true });
      return;
    }
    const existing = key === undefined ? undefined : byKey.get(key);
    if (existing) out.push({ ...taskFromRow(existing), created: false });
    else {
      // A concurrent transaction inserted this key after our statement's snapshot was taken;
      // its row is committed now and a fresh statement sees it.
      missing.push({ index, key: key! });
      out.push(undefined);
    }
  });
  if (missing.length) {
    const late = await db.query<InsertRow>(queries.get("TaskGetByKeys"), [missing.map((m) => m.key)]);
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

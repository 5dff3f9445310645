/**
 * Inline runs (`tl.run`): the handler runs now, in the calling process, and the run is recorded
 * as a task like any other (attempt, result or error, timings), so CLIs and admin actions leave
 * the same trail as queued work. One attempt unless the caller's retry policy says otherwise;
 * if this process dies mid-run, the lease expires and the rescuer treats it as a crash.
 *
 * @internal
 * @module
 */
import type { Engine } from "../tasklane.js";
import { Completer } from "./completer.js";
import { Attempt } from "./attempt.js";
import { insertTasks, type TaskInput } from "../client/enqueue.js";
import { BusinessError, FatalError, LeaseLostError, RetryAfterError, ValidationError } from "../errors.js";
import { errorRecord, runningTaskFromRow, safeJson, taskFromRow, WaitForEvent, type Task, type TaskContext } from "../task.js";

const LEASE_MS = 30_000;

/** Runs `input` inline and resolves to the finished task (completed or failed). */
export async function runInline(engine: Engine, input: TaskInput, signal?: AbortSignal): Promise<Task> {
  const definition = engine.definitions.get(input.topic);
  if (!definition) throw new ValidationError(`run: topic "${input.topic}" is not defined on this instance`, { field: "topic" });
  const owner = `${engine.nodeId}:inline`;
  const retry = { maxAttempts: 1, ...input.options.retry };
  const row = await engine.driver.transaction(async (tx) => {
    const [task] = await insertTasks(tx, engine.queries, [{ ...input, options: { ...input.options, retry } }], engine.definitions);
    if (!task!.created) return null;
    const [claimed] = await tx.query<Record<string, unknown>>(engine.queries.get("TaskClaimById"), [task!.id, owner, LEASE_MS]);
    return claimed ?? null;
  });
  if (!row) throw new ValidationError(`run: key "${input.options.key}" belongs to a task that exists already; inline runs need a fresh key`, { field: "key" });

  const task = runningTaskFromRow(row);
  const completer = new Completer(engine, owner);
  let timedOut: string | null = null;
  const attempt = new Attempt(task, Number(row.lease_token), definition, row, (event) => {
    timedOut = event;
    attempt.abort(event);
  });
  const onAbort = () => attempt.abort("cancelled");
  signal?.addEventListener("abort", onAbort);
  const renew = setInterval(() => {
    void engine.driver.query(engine.queries.get("TaskExtendLeases"), [[task.id], [attempt.token], LEASE_MS]).catch(() => undefined);
  }, LEASE_MS / 3);
  const ctx: TaskContext = {
    signal: attempt.signal,
    log: engine.logger,
    parents: {},
    failedParents: {},
    heartbeat: async (progress) => {
      const json = progress === undefined ? null : safeJson(progress);
      if (json === undefined) throw new ValidationError("heartbeat: progress is not JSON-serialisable", { field: "progress" });
      const rows = await engine.driver.query(engine.queries.get("TaskHeartbeat"), [task.id, attempt.token, json, LEASE_MS]);
      if (rows.length === 0) throw new LeaseLostError(`task ${task.id}: this run lost its lease`, { id: task.id });
      attempt.heartbeat();
    },
    waitForEvent: () => {
      throw new ValidationError("run: an inline run cannot wait for an event; enqueue the task instead", { field: "waitForEvent" });
    },
  };
  engine.events.emit("task:started", task, owner);
  try {
    const result = await definition.handler(task, ctx);
    if (timedOut) throw attempt.signal.reason;
    if (result instanceof WaitForEvent) throw new ValidationError("run: an inline run cannot wait for an event", { field: "waitForEvent" });
    const json = safeJson(result ?? null);
    if (json === undefined) throw new FatalError("the handler's result is not JSON-serialisable");
    if ((await completer.complete(task.id, attempt.token, json)) === "completed") engine.events.emit("task:completed", task, result);
  } catch (err) {
    const record = errorRecord(timedOut ? attempt.signal.reason : err, task.attempt);
    const retryable = !(err instanceof FatalError || err instanceof BusinessError);
    const written = await completer.fail(task.id, attempt.token, JSON.stringify(record), retryable, timedOut, err instanceof RetryAfterError ? err.retryAfterMs : null);
    if (written !== "stale") engine.events.emit("task:failed", task, record, written === "retrying");
  } finally {
    clearInterval(renew);
    attempt.dispose();
    signal?.removeEventListener("abort", onAbort);
  }
  const [finished] = await engine.driver.query<Record<string, unknown>>(engine.queries.get("TaskGet"), [task.id]);
  return taskFromRow(finished!);
}

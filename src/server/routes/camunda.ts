/**
 * The Camunda 7 external-task REST API (base `/engine-rest`), so that existing Camunda external
 * task clients (Java, JavaScript, …) work against Tasklane unchanged. Answers use Camunda's own
 * shapes: tasks as Camunda's DTOs, typed variables, errors as `{ type, message }`, 204 for
 * actions, and Camunda's status codes (404 unknown or finished task, 400 bad input or a worker
 * that does not hold the lock).
 *
 * @module
 */
import { Hono, type Context, type ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { parseOptions } from "../../config.js";
import { ClosedError, InvalidStateError, LeaseLostError, NotFoundError, ValidationError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { Tasklane } from "../../tasklane.js";
import type { ExternalTask, FetchTopic } from "../../external/types.js";
import { camundaTask, errorDetailsOf, taskVariables, variablesToResult, type TypedValue } from "../../external/camunda.js";
import {
  bpmnErrorBody, completeBody, extendLockBody, failureBody, fetchAndLockBody, lockBody, pagingParam, parseTaskQuery, queryParamsToBody,
  type FetchTopicBody,
} from "../../external/camunda-requests.js";
import { defaultBodyLimitBytes, limitBody } from "../body.js";
import { HttpError } from "../errors.js";

/** Options of {@link camundaRoutes}. */
export interface CamundaRoutesOptions {
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimitBytes?: number;
  /** Where unexpected errors are logged (default: the instance's logger). */
  logger?: Logger;
}

/** States in which a task exists as a Camunda external task (finished ones are deleted there). */
const visible = new Set(["ready", "running", "suspended", "failed"]);

/** Most rows a query answers when it names no `maxResults`. */
const defaultMaxResults = 1000;

/**
 * The Camunda 7 external-task routes, to mount under `/engine-rest`. Authentication, when the
 * server has it, wraps this app from outside.
 */
export function camundaRoutes(tl: Tasklane, options: CamundaRoutesOptions = {}): Hono {
  const app = new Hono();
  app.onError(camundaErrors(options.logger ?? tl.engine.logger));
  app.use("*", limitBody(options.bodyLimitBytes ?? defaultBodyLimitBytes));

  app.post("/external-task/fetchAndLock", async (c) => {
    const body = parseOptions(fetchAndLockBody, await readBody(c), "request body");
    const signal = c.req.raw.signal;
    const wanted = new Map<string, FetchTopicBody>();
    const topics: FetchTopic[] = [];
    for (const t of body.topics ?? []) {
      // Tasklane has no tenants: a topic asked for some tenants' tasks only matches none.
      if (t.tenantIdIn?.length) continue;
      wanted.set(t.topicName, t);
      const names = [t.processDefinitionKey, ...(t.processDefinitionKeyIn ?? []), t.processDefinitionId, ...(t.processDefinitionIdIn ?? [])]
        .filter((n): n is string => typeof n === "string");
      topics.push({
        topic: t.topicName,
        ...(t.lockDuration != null && { lockDurationMs: t.lockDuration }),
        ...(t.businessKey != null && { businessKey: t.businessKey }),
        ...(names.length > 0 && { processNames: names }),
      });
    }
    const longPollMs = body.asyncResponseTimeout ?? 0;
    if (topics.length === 0) {
      // Nothing can match: answer empty, but only when the long poll is over, or the client
      // would ask again at once, in a loop.
      await sleep(longPollMs, signal);
      return c.json([]);
    }
    const tasks = await tl.external.fetchAndLock({
      workerId: body.workerId,
      topics,
      maxTasks: Math.min(body.maxTasks ?? 10, 1000),
      longPollMs,
      signal,
    });
    return c.json(tasks.map((task) => camundaTask(task, { variables: lockedVariables(task, wanted.get(task.topic)) })));
  });

  // Static paths before `/:id`, which would take "count".
  app.get("/external-task/count", async (c) => c.json({ count: await tl.external.count(parseTaskQuery(queryParamsToBody(c.req.query()))) }));
  app.post("/external-task/count", async (c) => c.json({ count: await tl.external.count(parseTaskQuery(await readBody(c))) }));
  app.get("/external-task", async (c) => c.json(await list(tl, c, queryParamsToBody(c.req.query()))));
  app.post("/external-task", async (c) => c.json(await list(tl, c, await readBody(c))));

  app.get("/external-task/:id", async (c) => c.json(camundaTask(await visibleTask(tl, c.req.param("id")))));

  app.get("/external-task/:id/errorDetails", async (c) => {
    const details = errorDetailsOf(await visibleTask(tl, c.req.param("id")));
    return details === null ? c.body(null, 204) : c.text(details);
  });

  app.post("/external-task/:id/complete", async (c) => {
    const body = parseOptions(completeBody, await readBody(c), "request body");
    await tl.external.complete(c.req.param("id"), body.workerId, variablesToResult(body.variables, body.localVariables));
    return c.body(null, 204);
  });

  app.post("/external-task/:id/failure", async (c) => {
    const body = parseOptions(failureBody, await readBody(c), "request body");
    // Checked (a wrong type is a 400) but not kept: a failed attempt has no result.
    variablesToResult(body.variables, body.localVariables);
    await tl.external.fail(c.req.param("id"), body.workerId, {
      message: body.errorMessage ?? "the external task failed",
      ...(body.errorDetails != null && { details: body.errorDetails }),
      ...(body.retries != null && { retries: body.retries, retryTimeoutMs: body.retryTimeout ?? 0 }),
      ...(body.retries == null && body.retryTimeout != null && { retryTimeoutMs: body.retryTimeout }),
    });
    return c.body(null, 204);
  });

  app.post("/external-task/:id/bpmnError", async (c) => {
    const body = parseOptions(bpmnErrorBody, await readBody(c), "request body");
    const variables = variablesToResult(body.variables);
    await tl.external.bpmnError(c.req.param("id"), body.workerId, body.errorCode, body.errorMessage ?? undefined, variables ? { variables } : {});
    return c.body(null, 204);
  });

  app.post("/external-task/:id/extendLock", async (c) => {
    const body = parseOptions(extendLockBody, await readBody(c), "request body");
    await tl.external.extendLock(c.req.param("id"), body.workerId, body.newDuration);
    return c.body(null, 204);
  });

  app.post("/external-task/:id/lock", async (c) => {
    const body = parseOptions(lockBody, await readBody(c), "request body");
    await tl.external.lock(c.req.param("id"), body.workerId, body.lockDuration);
    return c.body(null, 204);
  });

  app.post("/external-task/:id/unlock", async (c) => {
    await readBody(c);
    const id = c.req.param("id");
    // Camunda's unlock names no worker; a task that is not locked is left alone, unless it is
    // one Camunda would have deleted (finished): then 404.
    if (!(await tl.external.unlock(id))) await visibleTask(tl, id);
    return c.body(null, 204);
  });

  return app;
}

/** The variables of a fetched task, restricted to the names its topic asked for. */
function lockedVariables(task: ExternalTask, topic: FetchTopicBody | undefined): Record<string, TypedValue> {
  return taskVariables(task, topic?.variables ?? null);
}

async function list(tl: Tasklane, c: Context, input: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  const query = c.req.query();
  const { firstResult: _f, maxResults: _m, ...rest } = input;
  const tasks = await tl.external.list({
    ...parseTaskQuery(rest),
    offset: pagingParam(query, "firstResult") ?? 0,
    limit: Math.min(pagingParam(query, "maxResults") ?? defaultMaxResults, defaultMaxResults),
  });
  return tasks.map((t) => camundaTask(t));
}

async function visibleTask(tl: Tasklane, id: string): Promise<ExternalTask> {
  const task = await tl.external.get(id);
  if (!task || !visible.has(task.state)) throw notFound(id);
  return task;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`External task with id ${id} does not exist`, { id });
}

/** The request body as a JSON object; none at all counts as `{}` (Camunda's `unlock` sends none). */
async function readBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, "BAD_JSON", `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ValidationError("request body must be a JSON object");
  return value as Record<string, unknown>;
}

/** Waits `ms` or until `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Errors in Camunda's shape `{ type, message, code? }`, with Camunda's status codes. */
function camundaErrors(logger: Logger): ErrorHandler {
  const answer = (c: Context, status: ContentfulStatusCode, type: string, message: string, code?: number) =>
    c.json(code === undefined ? { type, message } : { type, message, code }, status);
  return (err, c) => {
    if (err instanceof ValidationError || (err instanceof HttpError && err.status < 500)) {
      return answer(c, err instanceof HttpError ? err.status : 400, "InvalidRequestException", err.message);
    }
    if (err instanceof NotFoundError) return answer(c, 404, "RestException", err.message);
    if (err instanceof InvalidStateError) {
      // Camunda deletes finished tasks; a failed one (an incident) still exists but is not locked.
      const state = err.details?.state;
      if (state === "failed") return answer(c, 400, "BadUserRequestException", err.message, 0);
      return answer(c, 404, "RestException", `External task with id ${String(err.details?.id)} does not exist (${String(state)})`);
    }
    if (err instanceof LeaseLostError) return answer(c, 400, "BadUserRequestException", err.message, 0);
    if (err instanceof ClosedError) return answer(c, 503, "ProcessEngineException", err.message);
    if (err instanceof HTTPException && err.status < 500) {
      // Raised by middleware: keep its status, in Camunda's shape.
      return answer(c, err.status as ContentfulStatusCode, "InvalidRequestException", err.message || "bad request");
    }
    logger.error({ err, method: c.req.method, path: c.req.path }, "HTTP request failed");
    return answer(c, 500, "ProcessEngineException", "internal server error; the server log has the details", 0);
  };
}

/**
 * The 5Minds ProcessEngine ExternalTask API (base `/api/external_task/v1`), for the 5Minds worker
 * clients (TypeScript, .NET, Python). Shapes and status codes follow that API: 200 with an array
 * of tasks from `fetch_and_lock`, 204 from every action, 404 unknown task, 410 task already
 * finished, 423 task not locked by the calling worker. Error bodies use Tasklane's envelope (the
 * 5Minds clients read only the status and take the body as the message).
 *
 * @module
 */
import { Hono, type Context, type ErrorHandler } from "hono";
import { z } from "zod";
import { parseOptions, storableString, topicSchema } from "../../config.js";
import { InvalidStateError, LeaseLostError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { Tasklane } from "../../tasklane.js";
import type { ExternalTask } from "../../external/types.js";
import { durationSchema, maxFetchTasks, maxLongPollMs, workerIdSchema } from "../../external/schemas.js";
import { readJsonObject } from "../body.js";
import { errorHandler, errorResponse } from "../errors.js";

// Lenient like the protocol: every field its clients send is accepted (null too), fields
// Tasklane has no use for are ignored, and only a wrong type is a 400.

const fetchBody = z.object({
  workerId: workerIdSchema,
  // One topic in the protocol; a list is accepted as well.
  topicName: z.union([topicSchema, z.array(topicSchema).min(1).max(100)]),
  maxTasks: z.number().int().min(0).nullish(),
  longPollingTimeout: z.number().int().min(0).max(maxLongPollMs).nullish(),
  lockDuration: durationSchema("lockDuration").nullish(),
});

const extendLockBody = z.object({ workerId: workerIdSchema, additionalDuration: durationSchema("additionalDuration") });

const finishBody = z.object({ workerId: workerIdSchema, result: z.unknown().optional() });

const bpmnErrorBody = z.object({
  workerId: workerIdSchema,
  errorCode: storableString().min(1, "errorCode must not be empty").max(1000),
  errorMessage: storableString().max(100_000).nullish(),
});

const serviceErrorBody = z.object({
  workerId: workerIdSchema,
  errorMessage: storableString().max(100_000).nullish(),
  errorDetails: z.unknown().optional(),
  errorCode: storableString().max(1000).nullish(),
});

/** Options of {@link fiveMindsRoutes}. */
export interface FiveMindsRoutesOptions {
  /** Where unexpected errors are logged (default: the instance's logger). */
  logger?: Logger;
}

/**
 * The 5Minds external-task routes, to mount under `/api/external_task/v1` (where the app's JSON
 * body checks apply). Authentication, when the server has it, wraps this app from outside.
 */
export function fiveMindsRoutes(tl: Tasklane, options: FiveMindsRoutesOptions = {}): Hono {
  const app = new Hono();
  const fallback = errorHandler(options.logger ?? tl.engine.logger);
  app.onError(fiveMindsErrors(fallback));

  app.post("/fetch_and_lock", async (c) => {
    const body = parseOptions(fetchBody, await readJsonObject(c), "request body");
    const tasks = await tl.external.fetchAndLock({
      workerId: body.workerId,
      topics: Array.isArray(body.topicName) ? body.topicName : [body.topicName],
      maxTasks: Math.min(body.maxTasks ?? 10, maxFetchTasks),
      lockDurationMs: body.lockDuration ?? 30_000,
      longPollMs: body.longPollingTimeout ?? 0,
      signal: c.req.raw.signal,
    });
    return c.json(tasks.map(fiveMindsTask));
  });

  app.post("/task/:id/extend_lock", async (c) => {
    const body = parseOptions(extendLockBody, await readJsonObject(c), "request body");
    await tl.external.extendLock(c.req.param("id"), body.workerId, body.additionalDuration);
    return c.body(null, 204);
  });

  app.post("/task/:id/finish", async (c) => {
    const body = parseOptions(finishBody, await readJsonObject(c), "request body");
    await tl.external.complete(c.req.param("id"), body.workerId, body.result ?? null);
    return c.body(null, 204);
  });

  app.post("/task/:id/handle_bpmn_error", async (c) => {
    const body = parseOptions(bpmnErrorBody, await readJsonObject(c), "request body");
    await tl.external.bpmnError(c.req.param("id"), body.workerId, body.errorCode, body.errorMessage ?? undefined);
    return c.body(null, 204);
  });

  const serviceError = async (c: Context) => {
    const body = parseOptions(serviceErrorBody, await readJsonObject(c), "request body");
    await tl.external.fail(c.req.param("id")!, body.workerId, {
      message: body.errorMessage ?? "service error",
      ...(body.errorDetails != null && { details: body.errorDetails }),
      ...(body.errorCode != null && { errorCode: body.errorCode }),
    });
    return c.body(null, 204);
  };
  app.post("/task/:id/handle_service_error", serviceError);
  // The name the 5Minds documentation uses for the same call.
  app.post("/task/:id/handle_system_error", serviceError);

  return app;
}

/**
 * A task in the 5Minds shape. `state` is `pending` (5Minds' only state before `finished`) for
 * every task a worker holds; `flowNodeInstanceId` is the step (the task id for a plain task) and
 * `correlationId` the process key (else the task key, else the process or task id).
 */
export function fiveMindsTask(task: ExternalTask): Record<string, unknown> {
  return {
    id: task.id,
    workerId: task.workerId,
    topic: task.topic,
    flowNodeInstanceId: task.step ?? task.id,
    correlationId: task.processKey ?? task.key ?? task.processId ?? task.id,
    processInstanceId: task.processId,
    lockExpirationTime: task.lockExpiresAt?.toISOString() ?? null,
    payload: task.payload,
    state: ["completed", "failed", "cancelled", "expired"].includes(task.state) ? "finished" : "pending",
    createdAt: task.createdAt.toISOString(),
  };
}

/** 410 for a finished task, 423 for one the worker does not hold; the rest as everywhere else. */
function fiveMindsErrors(fallback: ErrorHandler): ErrorHandler {
  return (err, c) => {
    if (err instanceof InvalidStateError) return errorResponse(c, 410, "GONE", err.message, err.details);
    if (err instanceof LeaseLostError) return errorResponse(c, 423, "LOCKED", err.message, err.details);
    return fallback(err, c);
  };
}

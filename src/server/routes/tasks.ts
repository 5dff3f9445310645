/**
 * `/api/v1/tasks`: enqueue, list and search, read one with its history and failure, and the
 * operator actions (NAV `launch`/retry, `retryall`, `setferdig`/complete, cancel, suspend,
 * resume) and events.
 *
 * @module
 */
import { z } from "zod";
import { topicSchema } from "../../config.js";
import { NotFoundError } from "../../errors.js";
import type { Tasklane } from "../../tasklane.js";
import type { Api, OperatorAction as Action } from "../api.js";
import { actorOf } from "../auth.js";
import { idParam, limitQuery, taskCursorQuery, taskStateQuery, textQuery } from "../params.js";
import {
  enqueuedResponse, failureResponse, retriedResponse, taskDetailResponse, taskPageResponse, taskResponse, wokenResponse,
} from "../responses.js";
import { enqueueBodySchema, jsonValueSchema, noInputBody, storable } from "../schemas.js";

const listQuery = z.strictObject({
  state: taskStateQuery.optional(),
  topic: textQuery(200).optional(),
  tag: textQuery(100).optional(),
  search: textQuery(200).optional().describe(
    "a task id, the start of a key (exact case), or a part of the topic, key or error message (any case). Id and key-prefix matches come first, found anywhere; the other matches come from a scan of at most 20,000 tasks per request, newest first (see the response's `search`)",
  ),
  limit: limitQuery.optional(),
  cursor: taskCursorQuery.optional(),
  createdAfter: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional().describe("only tasks created at or after (ISO 8601)"),
  createdBefore: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional().describe("only tasks created before (ISO 8601)"),
});


const completeBody = z.strictObject({ result: jsonValueSchema.optional().describe("stored as the task's result (default null)") });

/** Body of `POST …/events`. */
export const eventBody = z.strictObject({
  name: storable(z.string().trim().min(1, "an event needs a name").max(200)),
  data: jsonValueSchema.optional(),
});

const retryAllBody = z.strictObject({
  state: z.enum(["failed", "cancelled", "expired"]).optional().describe("default failed"),
  topic: topicSchema.optional(),
});

const idDoc = { id: "task id" };

/** Declares the task routes on `api`. */
export function taskRoutes(api: Api, tl: Tasklane): void {
  const tag = "tasks";

  // 201 when this request created the task, 200 when its key already existed: a client retrying
  // after a lost response can tell the two apart and gets the same task either way.
  api.add({
    method: "post", path: "/tasks", scope: "start", tag, operationId: "enqueueTask",
    summary: "Enqueue a task (NAV create)",
    description: "Arguments of `tl.enqueue(topic, payload, options)` in one object. With a `key` that exists, answers the existing task with 200.",
    body: enqueueBodySchema,
    responses: { 201: { description: "created", schema: enqueuedResponse }, 200: { description: "a task with this key existed", schema: enqueuedResponse } },
    handler: async (c, { body: { topic, payload, ...options } }) => {
      // Over a back-pressure limit the answer is 429 at once: holding the request open while the
      // queue drains would only tie up connections; the client retries after Retry-After.
      const task = await tl.enqueue(topic, payload, { backpressureWaitMs: 0, ...options });
      c.header("Location", `/api/v1/tasks/${task.id}`);
      return c.json(task, task.created ? 201 : 200);
    },
  });

  api.add({
    method: "get", path: "/tasks", scope: "read", tag, operationId: "listTasks",
    summary: "List and search tasks, newest first (NAV list/{status}, search)",
    description:
      "Keyset pagination: pass `nextCursor` as `cursor` for the next page; `null` on the last page. No count. " +
      "With `search`, the answer has `search` too, and a page can hold fewer tasks than `limit` (even none) and still have a `nextCursor`: " +
      "the scan stopped after 20,000 tasks (`search.bounded`) and the next page searches the older ones.",
    query: listQuery,
    responses: { 200: { description: "a page of tasks", schema: taskPageResponse } },
    handler: async (c, { query }) => c.json(await tl.listTasks(query)),
  });

  api.add({
    method: "post", path: "/tasks/retry-all", scope: "admin", tag, operationId: "retryAllTasks",
    summary: "Retry every failed (or cancelled, or expired) task, optionally of one topic (NAV retryall)",
    body: retryAllBody, bodyRequired: false,
    responses: { 200: { description: "how many tasks were retried", schema: retriedResponse } },
    handler: async (c, { body }) => c.json({ retried: await tl.retryAll({ ...body, ...actorOf(c) }) }),
  });

  api.add({
    method: "get", path: "/tasks/:id", scope: "read", tag, operationId: "getTask", params: idDoc,
    summary: "A task with its failed attempts and its events (recovery events, operator actions)",
    responses: { 200: { description: "the task", schema: taskDetailResponse } },
    handler: async (c) => {
      const id = idParam(c, "task");
      const task = await tl.getTask(id);
      if (!task) throw new NotFoundError(`no task with id ${id}`, { id });
      const { attempts, events } = await tl.getTaskHistory(id);
      return c.json({ ...task, attempts, events });
    },
  });

  api.add({
    method: "get", path: "/tasks/:id/failure", scope: "read", tag, operationId: "getTaskFailure", params: idDoc,
    summary: "Why a task failed: its latest error with the stack, and every attempt that did not succeed (NAV feil)",
    responses: { 200: { description: "the failure detail (error null when the task never failed)", schema: failureResponse } },
    handler: async (c) => {
      const id = idParam(c, "task");
      const task = await tl.getTask(id);
      if (!task) throw new NotFoundError(`no task with id ${id}`, { id });
      const { attempts } = await tl.getTaskHistory(id);
      const { topic, state, attempt, maxAttempts, error } = task;
      return c.json({ id, topic, state, attempt, maxAttempts, error, failedAttempts: attempts.filter((a) => a.error !== null) });
    },
  });

  const actions: Action[] = [
    { name: "retry", operationId: "retryTask", summary: "Run a failed, cancelled or expired task once more (NAV launch)", run: (id, actor) => tl.retry(id, actor) },
    { name: "cancel", operationId: "cancelTask", summary: "Cancel a task that has not finished (a running one is aborted on its node)", run: (id, actor) => tl.cancel(id, actor) },
    { name: "suspend", operationId: "suspendTask", summary: "Hold a pending, ready or waiting task", run: (id, actor) => tl.suspend(id, actor) },
    { name: "resume", operationId: "resumeTask", summary: "Release a suspended task", run: (id, actor) => tl.resume(id, actor) },
  ];
  for (const action of actions) {
    api.add({
      method: "post", path: `/tasks/:id/${action.name}`, scope: "admin", tag, operationId: action.operationId, params: idDoc,
      summary: action.summary,
      body: noInputBody, bodyRequired: false,
      responses: { 200: { description: "the task after the action", schema: taskResponse } },
      handler: async (c) => c.json(await action.run(idParam(c, "task"), actorOf(c))),
    });
  }

  api.add({
    method: "post", path: "/tasks/:id/complete", scope: "admin", tag, operationId: "completeTask", params: idDoc,
    summary: "Mark a task completed with a result (NAV setferdig); a running attempt is aborted",
    body: completeBody, bodyRequired: false,
    responses: { 200: { description: "the completed task", schema: taskResponse } },
    handler: async (c, { body }) => c.json(await tl.complete(idParam(c, "task"), body.result ?? null, actorOf(c))),
  });

  api.add({
    method: "post", path: "/tasks/:id/events", scope: "start", tag, operationId: "sendTaskEvent", params: idDoc,
    summary: "Deliver an event to a task waiting for it (ctx.waitForEvent)",
    body: eventBody,
    responses: { 200: { description: "the tasks it woke", schema: wokenResponse } },
    handler: async (c, { body }) => c.json({ woken: await tl.sendEvent(idParam(c, "task"), body.name, body.data, actorOf(c)) }),
  });
}

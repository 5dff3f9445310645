/**
 * `/api/v1/workers` and `/api/v1/stats`: what runs, and how many tasks are where.
 *
 * @module
 */
import { z } from "zod";
import type { Tasklane } from "../../tasklane.js";
import { auditCursorQuery, limitQuery } from "../params.js";
import { pushEndpointSchema } from "../../push/endpoints.js";
import { NotFoundError } from "../../errors.js";
import { storableText } from "../../config.js";

const pushEndpointResponse = z.object({
  topic: z.string(), url: z.string(), method: z.string(), headers: z.record(z.string(), z.string()),
  timeoutMs: z.number().int(), signed: z.boolean(), created: z.boolean().optional(),
});
import type { Api } from "../api.js";
import { statsResponse, workersResponse } from "../responses.js";
import type { TaskStats } from "../stats.js";

/** Declares the operations routes on `api`; `stats` reads the counts. */
export function operationRoutes(api: Api, tl: Tasklane, stats: () => Promise<TaskStats>): void {
  const tag = "operations";

  api.add({
    method: "get", path: "/workers", scope: "read", tag, operationId: "listWorkers",
    summary: "Workers that run, or ran in the last day, on this database",
    responses: { 200: { description: "the workers registry", schema: workersResponse } },
    handler: async (c) => c.json({ workers: await tl.listWorkers() }),
  });

  api.add({
    method: "post", path: "/push-endpoints", scope: "admin", tag, operationId: "createPushEndpoint",
    summary: "Store (or replace) a push endpoint: tasks of the topic are POSTed to its URL, signed with its secret",
    body: pushEndpointSchema,
    responses: {
      201: { description: "created", schema: pushEndpointResponse },
      200: { description: "replaced", schema: pushEndpointResponse },
    },
    handler: async (c, { body }) => {
      const endpoint = await tl.createPushEndpoint(body);
      return c.json(endpoint, endpoint.created ? 201 : 200);
    },
  });

  api.add({
    method: "get", path: "/push-endpoints", scope: "read", tag, operationId: "listPushEndpoints",
    summary: "The stored push endpoints (without their secrets)",
    responses: { 200: { description: "the endpoints", schema: z.object({ endpoints: z.array(pushEndpointResponse) }) } },
    handler: async (c) => c.json({ endpoints: await tl.listPushEndpoints() }),
  });

  api.add({
    method: "delete", path: "/push-endpoints/:topic", scope: "admin", tag, operationId: "deletePushEndpoint",
    summary: "Delete a topic's push endpoint",
    responses: { 200: { description: "deleted", schema: z.object({ deleted: z.boolean() }) } },
    handler: async (c) => {
      // Hono decodes the path parameter; a topic the database could not hold names no endpoint.
      const topic = c.req.param("topic") ?? "";
      if (!storableText(topic) || !(await tl.deletePushEndpoint(topic))) throw new NotFoundError("no push endpoint for that topic", { topic: storableText(topic) ? topic : undefined });
      return c.json({ deleted: true });
    },
  });

  api.add({
    method: "get", path: "/whoami", scope: "read", tag, operationId: "whoami",
    summary: "The token this request carries: its name and scopes (what the dashboard may show)",
    responses: { 200: { description: "the token", schema: z.object({ id: z.string(), name: z.string(), scopes: z.array(z.string()) }) } },
    handler: async (c) => {
      const { id, name, scopes } = c.get("token");
      return c.json({ id, name, scopes });
    },
  });

  api.add({
    method: "get", path: "/events", scope: "read", tag, operationId: "listEvents",
    summary: "The audit log: recovery events and operator actions across tasks, processes and schedules, newest first",
    description:
      "Events of tasks and processes (`taskId`, `processId`, `topic`) and of schedules (`schedule`; their ids count apart), merged by time. " +
      "Keyset pagination: pass `nextCursor` as `cursor` for the next page.",
    query: z.strictObject({
      limit: limitQuery.optional(),
      cursor: auditCursorQuery.optional(),
      operatorOnly: z.enum(["true", "false"]).transform((v) => v === "true").optional().describe("only entries with an actor"),
    }),
    responses: { 200: { description: "a page of events", schema: z.object({ events: z.array(z.record(z.string(), z.unknown())), nextCursor: z.string().nullable() }) } },
    handler: async (c, { query }) => c.json(await tl.listEvents(query)),
  });

  api.add({
    method: "get", path: "/stats", scope: "read", tag, operationId: "getStats",
    summary: "Tasks by state and by topic, and processes by state",
    description:
      "Exact counts for every state but completed. Completed tasks are counted exactly up to 10,000; beyond that the count is the planner's estimate (completedEstimated: true) and is left out of the per-topic counts, so the request costs the same however long the history.",
    responses: { 200: { description: "the counts", schema: statsResponse } },
    handler: async (c) => c.json(await stats()),
  });
}

/**
 * `/api/v1/schedules`: cron schedules created at runtime, and operator control of every
 * schedule (those declared in code too).
 *
 * @module
 */
import { z } from "zod";
import { NotFoundError } from "../../errors.js";
import { scheduleNameSchema, scheduleOptionsSchema, schedulePatchSchema } from "../../schedules/spec.js";
import type { Tasklane } from "../../tasklane.js";
import type { Api, OperatorAction as Action } from "../api.js";
import { actorOf } from "../auth.js";
import { countQuery, scheduleParam } from "../params.js";
import { scheduleResponse, schedulesResponse } from "../responses.js";
import { jsonValueSchema, noInputBody } from "../schemas.js";

// The library's own option schemas, with the payload held to what PostgreSQL stores as it is.
const createBody = z.strictObject({
  name: scheduleNameSchema,
  ...scheduleOptionsSchema.shape,
  payload: jsonValueSchema.optional(),
});
const patchBody = schedulePatchSchema.extend({ payload: jsonValueSchema.optional() });

const listQuery = z.strictObject({
  nextRuns: countQuery.optional().describe("upcoming ticks to compute (default 5)"),
  recentRuns: countQuery.optional().describe("latest runs to include (default 5, 10 for one schedule)"),
});
const getQuery = listQuery.extend({ events: countQuery.optional().describe("latest events to include (default 50)") });

const nameDoc = { name: "schedule name" };

/** Declares the schedule routes on `api`. */
export function scheduleRoutes(api: Api, tl: Tasklane): void {
  const tag = "schedules";

  api.add({
    method: "get", path: "/schedules", scope: "read", tag, operationId: "listSchedules",
    summary: "Every schedule with its next ticks and latest runs",
    query: listQuery,
    responses: { 200: { description: "the schedules, by name", schema: schedulesResponse } },
    handler: async (c, { query }) => c.json({ schedules: await tl.listSchedules(query) }),
  });

  api.add({
    method: "get", path: "/schedules/:name", scope: "read", tag, operationId: "getSchedule", params: nameDoc,
    summary: "A schedule with its next ticks, latest runs and latest events",
    query: getQuery,
    responses: { 200: { description: "the schedule", schema: scheduleResponse } },
    handler: async (c, { query }) => {
      const name = scheduleParam(c);
      const schedule = await tl.getSchedule(name, query);
      if (!schedule) throw new NotFoundError(`no schedule named "${name}"`, { name });
      return c.json(schedule);
    },
  });

  api.add({
    method: "post", path: "/schedules", scope: "admin", tag, operationId: "createSchedule",
    summary: "Create a schedule at runtime; an existing name is 409 CONFLICT",
    body: createBody,
    responses: { 201: { description: "created", schema: scheduleResponse } },
    handler: async (c, { body: { name, ...options } }) => {
      const schedule = await tl.createSchedule(name, options, actorOf(c));
      c.header("Location", `/api/v1/schedules/${encodeURIComponent(schedule.name)}`);
      return c.json(schedule, 201);
    },
  });

  api.add({
    method: "patch", path: "/schedules/:name", scope: "admin", tag, operationId: "updateSchedule", params: nameDoc,
    summary: "Change some options of a schedule; null clears an optional limit",
    body: patchBody,
    responses: { 200: { description: "the schedule after the change", schema: scheduleResponse } },
    handler: async (c, { body }) => c.json(await tl.updateSchedule(scheduleParam(c), body, actorOf(c))),
  });

  api.add({
    method: "delete", path: "/schedules/:name", scope: "admin", tag, operationId: "deleteSchedule", params: nameDoc,
    summary: "Delete a schedule; its runs that have not started are cancelled",
    responses: { 200: { description: "the runs it cancelled", schema: z.object({ cancelledRuns: z.array(z.string()) }) } },
    handler: async (c) => c.json(await tl.deleteSchedule(scheduleParam(c), actorOf(c))),
  });

  const actions: Action[] = [
    { name: "pause", operationId: "pauseSchedule", summary: "Stop a schedule's ticks until resumed", run: (id, actor) => tl.pauseSchedule(id, actor) },
    { name: "resume", operationId: "resumeSchedule", summary: "Enable a paused or disabled schedule from its next tick", run: (id, actor) => tl.resumeSchedule(id, actor) },
  ];
  for (const action of actions) {
    api.add({
      method: "post", path: `/schedules/:name/${action.name}`, scope: "admin", tag, operationId: action.operationId, params: nameDoc,
      summary: action.summary,
      body: noInputBody, bodyRequired: false,
      responses: { 200: { description: "the schedule after the action", schema: scheduleResponse } },
      handler: async (c) => c.json(await action.run(scheduleParam(c), actorOf(c))),
    });
  }
}

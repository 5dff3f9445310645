/**
 * `/api/v1/processes`: idempotent start, read, list, operator control and events.
 *
 * @module
 */
import { z } from "zod";
import { retryPolicySchema, tagsSchema, timeoutsSchema, topicSchema } from "../../config.js";
import { NotFoundError } from "../../errors.js";
import type { Tasklane } from "../../tasklane.js";
import type { Api, OperatorAction as Action } from "../api.js";
import { actorOf } from "../auth.js";
import { cursorQuery, limitQuery, processParam, textQuery } from "../params.js";
import { processPageResponse, processResponse, startedResponse, wokenResponse } from "../responses.js";
import { jsonValueSchema, noInputBody, storable } from "../schemas.js";
import { eventBody } from "./tasks.js";

const INT32_MAX = 2_147_483_647;

const stepName = storable(z.string().trim().min(1, "a step needs a name").max(200));

/** A step, as `tl.startProcess` takes it. */
const stepBody = z.strictObject({
  name: stepName,
  topic: topicSchema,
  dependsOn: z.array(stepName).max(1000).optional(),
  payload: jsonValueSchema.optional(),
  retry: retryPolicySchema.optional(),
  timeouts: timeoutsSchema.optional(),
  tags: tagsSchema.optional(),
  priority: z.number().int().min(-INT32_MAX).max(INT32_MAX).optional(),
  onFailure: z.enum(["fail-process", "continue", "skip-dependents"]).optional(),
  output: z.boolean().optional(),
});

/** `sequence(…)` / `parallel(…)` as JSON: `{ kind, items }`, nested freely. */
interface GroupBody {
  kind: "sequence" | "parallel";
  items: (z.infer<typeof stepBody> | GroupBody)[];
}
const groupBody: z.ZodType<GroupBody> = z.lazy(() =>
  z.strictObject({
    kind: z.enum(["sequence", "parallel"]),
    items: z.array(z.union([stepBody, groupBody])).min(1).max(1000),
  }),
);

/** Body of `POST /processes`: the options of `tl.startProcess`. */
export const startProcessBody = z.strictObject({
  key: storable(z.string().min(1).max(255)).optional().describe("the caller's id (customId): a second start with it is idempotent"),
  name: storable(z.string().trim().min(1, "a process needs a name").max(200)),
  input: jsonValueSchema.optional(),
  steps: z.union([z.array(stepBody).min(1).max(1000), groupBody]),
  deadlineMs: z.number().int().min(1).max(INT32_MAX).optional(),
});

const listQuery = z.strictObject({
  state: z.enum(["running", "completed", "failed", "cancelled", "timed_out", "suspended"]).optional(),
  name: textQuery(200).optional(),
  limit: limitQuery.optional(),
  cursor: cursorQuery.optional(),
});

const idDoc = { idOrKey: "process id or key" };

/** Declares the process routes on `api`. */
export function processRoutes(api: Api, tl: Tasklane): void {
  const tag = "processes";

  api.add({
    method: "post", path: "/processes", scope: "start", tag, operationId: "startProcess",
    summary: "Start a process (idempotent by key)",
    description:
      "201 when this request created the process; 200 with the existing one when a process with the same key and the same definition exists; 409 CONFLICT when the key belongs to another definition.",
    body: startProcessBody,
    responses: { 201: { description: "created", schema: startedResponse }, 200: { description: "the process with this key and definition existed", schema: startedResponse } },
    handler: async (c, { body }) => {
      const { created, process } = await tl.startProcess(body);
      c.header("Location", `/api/v1/processes/${process.id}`);
      return c.json({ ...process, created }, created ? 201 : 200);
    },
  });

  api.add({
    method: "get", path: "/processes", scope: "read", tag, operationId: "listProcesses",
    summary: "List processes, newest first (without their steps)",
    query: listQuery,
    responses: { 200: { description: "a page of processes", schema: processPageResponse } },
    handler: async (c, { query }) => c.json(await tl.listProcesses(query)),
  });

  api.add({
    method: "get", path: "/processes/:idOrKey", scope: "read", tag, operationId: "getProcess", params: idDoc,
    summary: "A process with every step: state, attempts, result or error, and why it is not running",
    responses: { 200: { description: "the process", schema: processResponse } },
    handler: async (c) => c.json(await existing(tl, processParam(c))),
  });

  const actions: Action[] = [
    { name: "cancel", operationId: "cancelProcess", summary: "Cancel a process: queued steps cancelled, running ones aborted", run: (id, actor) => tl.cancelProcess(id, actor) },
    { name: "suspend", operationId: "suspendProcess", summary: "Hold a process: steps not yet running are suspended", run: (id, actor) => tl.suspendProcess(id, actor) },
    { name: "resume", operationId: "resumeProcess", summary: "Release a suspended process", run: (id, actor) => tl.resumeProcess(id, actor) },
  ];
  for (const action of actions) {
    api.add({
      method: "post", path: `/processes/:idOrKey/${action.name}`, scope: "admin", tag, operationId: action.operationId, params: idDoc,
      summary: action.summary,
      body: noInputBody, bodyRequired: false,
      responses: { 200: { description: "the process after the action", schema: processResponse } },
      handler: async (c) => c.json(await action.run(processParam(c), actorOf(c))),
    });
  }

  api.add({
    method: "post", path: "/processes/:idOrKey/events", scope: "start", tag, operationId: "sendProcessEvent", params: idDoc,
    summary: "Deliver an event to the steps of a process that wait for it",
    body: eventBody,
    responses: { 200: { description: "the steps it woke", schema: wokenResponse } },
    handler: async (c, { body }) => {
      // Resolved here, so the event goes to the process's id: a key that looks like an id must
      // not be read as a task id.
      const process = await existing(tl, processParam(c));
      return c.json({ woken: await tl.sendEvent(process.id, body.name, body.data, actorOf(c)) });
    },
  });
}

async function existing(tl: Tasklane, idOrKey: string) {
  const process = await tl.getProcess(idOrKey);
  if (!process) throw new NotFoundError(`no process ${JSON.stringify(idOrKey)}`, { id: idOrKey });
  return process;
}

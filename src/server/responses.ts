/**
 * Shapes of the API's answers, for `/openapi.json`. Requests are validated with their own
 * schemas (next to each route); these describe what comes back, as the library returns it
 * serialised to JSON (dates as ISO 8601 strings, ids as strings).
 *
 * @module
 */
import { z } from "zod";
import { scopes } from "../auth/tokens.js";
import { taskStates } from "../task.js";

const id = z.string().regex(/^\d+$/).describe("a bigint id, as a string");
const date = z.iso.datetime();
const json = z.unknown();

/** The error envelope of every 4xx and 5xx. */
export const errorResponse = z
  .object({
    error: z.object({
      code: z.string().describe("stable code: VALIDATION, NOT_FOUND, CONFLICT, INVALID_STATE, UNAUTHORIZED, FORBIDDEN, BAD_JSON, …"),
      message: z.string(),
      details: z.record(z.string(), json).optional(),
    }),
  })
  .meta({ id: "Error" });

const taskError = z.object({
  message: z.string(),
  name: z.string().optional(),
  stack: z.string().optional(),
  code: z.string().optional(),
  businessCode: z.string().optional(),
  attempt: z.number().int(),
});

/** A task as `getTask` returns it. */
export const taskResponse = z
  .object({
    id,
    topic: z.string(),
    state: z.enum(taskStates as unknown as [string, ...string[]]),
    payload: json,
    result: json,
    error: taskError.nullable(),
    attempt: z.number().int(),
    maxAttempts: z.number().int(),
    priority: z.number().int(),
    runAt: date,
    tags: z.array(z.string()),
    key: z.string().nullable(),
    processId: id.nullable(),
    step: z.string().nullable(),
    progress: json,
    workerId: z.string().nullable(),
    heartbeatAt: date.nullable(),
    leaseExpiresAt: date.nullable(),
    createdAt: date,
    startedAt: date.nullable(),
    finishedAt: date.nullable(),
  })
  .meta({ id: "Task" });

/** `POST /tasks`: the task and whether this request created it. */
export const enqueuedResponse = taskResponse.extend({ created: z.boolean() });

const attempt = z.object({
  attempt: z.number().int(),
  workerId: z.string().nullable(),
  startedAt: date.nullable(),
  finishedAt: date,
  outcome: z.string(),
  error: taskError.nullable(),
});

const event = z.object({ id, kind: z.string(), actor: z.string().nullable(), data: json, at: date });

/** `GET /tasks/:id`: the task, its attempts that did not succeed, and its events. */
export const taskDetailResponse = taskResponse.extend({ attempts: z.array(attempt), events: z.array(event) });

/** `GET /tasks/:id/failure`. */
export const failureResponse = z.object({
  id,
  topic: z.string(),
  state: z.string(),
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  error: taskError.nullable().describe("the latest error, with its stack"),
  failedAttempts: z.array(attempt),
});

/** A page of tasks. */
export const taskPageResponse = z.object({
  tasks: z.array(taskResponse),
  nextCursor: z.string().nullable(),
  search: z
    .object({
      indexed: z.number().int().describe("tasks on this page found through an index: the task whose id is the text, tasks whose key starts with it"),
      scannedTo: z.string().nullable().describe("the text scan of this page read every task below the cursor down to this id; null when it did not run"),
      bounded: z.boolean().describe("the scan stopped after its 20,000 tasks with older ones unread: nextCursor searches them"),
    })
    .optional()
    .describe("only with `search`: what this page searched"),
});

const step = z.object({
  name: z.string(),
  taskId: id,
  topic: z.string(),
  state: z.string(),
  dependsOn: z.array(z.string()),
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  result: json,
  error: taskError.nullable(),
  runAt: date,
  startedAt: date.nullable(),
  finishedAt: date.nullable(),
  why: z.string().nullable(),
});

/** A process with its steps. */
export const processResponse = z
  .object({
    id,
    key: z.string().nullable(),
    name: z.string(),
    state: z.enum(["running", "completed", "failed", "cancelled", "timed_out", "suspended"]),
    input: json,
    output: z.record(z.string(), json).nullable(),
    error: z.record(z.string(), json).nullable(),
    deadlineAt: date.nullable(),
    createdAt: date,
    finishedAt: date.nullable(),
    steps: z.array(step),
  })
  .meta({ id: "Process" });

/** `POST /processes`: the process and whether this request created it. */
export const startedResponse = processResponse.extend({ created: z.boolean() });

/** A page of processes (their `steps` are empty: read one process for them). */
export const processPageResponse = z.object({ processes: z.array(processResponse), nextCursor: z.string().nullable() });

/** `POST /tasks/:id/events`, `POST /processes/:idOrKey/events`. */
export const wokenResponse = z.object({ woken: z.array(id).describe("the tasks the event woke") });

/** `POST /tasks/retry-all`. */
export const retriedResponse = z.object({ retried: z.number().int() });

/** `GET /workers`. */
export const workersResponse = z.object({
  workers: z.array(
    z.object({
      id: z.string(),
      host: z.string(),
      pid: z.number().int(),
      topics: z.array(z.string()),
      tags: z.array(z.string()),
      concurrency: z.number().int(),
      state: z.enum(["running", "stopped", "lost"]),
      running: z.number().int(),
      startedAt: date,
      lastSeenAt: date,
      stoppedAt: date.nullable(),
    }),
  ),
});

const counts = z.record(z.string(), z.number().int());

/** `GET /stats`. */
export const statsResponse = z.object({
  tasks: counts.describe("tasks by state; completed may be an estimate (see completedEstimated)"),
  completedEstimated: z.boolean(),
  topics: z.record(z.string(), counts).describe("tasks by topic and state; completed only when counted exactly"),
  processes: counts.describe("processes that are not completed, by state"),
  at: date,
});

/** A schedule (with next runs and recent runs). */
export const scheduleResponse = z.record(z.string(), json).meta({ id: "Schedule" });

/** `GET /schedules`. */
export const schedulesResponse = z.object({ schedules: z.array(scheduleResponse) });

/** A token without its secret. */
export const tokenResponse = z
  .object({
    id,
    name: z.string(),
    scopes: z.array(z.enum(scopes as unknown as [string, ...string[]])),
    createdBy: z.string().nullable(),
    createdAt: date,
    lastUsedAt: date.nullable(),
    revokedAt: date.nullable(),
    revokedBy: z.string().nullable(),
  })
  .meta({ id: "Token" });

/** `POST /tokens`: the only answer with the secret. */
export const createdTokenResponse = z.object({
  id,
  name: z.string(),
  scopes: z.array(z.string()),
  token: z.string().describe("the bearer secret; shown once"),
});

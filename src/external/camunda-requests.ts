/**
 * Camunda 7 external-task request bodies and query parameters. Lenient like the protocol's own
 * clients expect: every field they send is accepted (null as well as absent), what Tasklane has
 * no use for is ignored, and only a wrong type is a 400.
 *
 * @internal
 * @module
 */
import { z } from "zod";
import { parseOptions, storableString, topicSchema } from "../config.js";
import { ValidationError } from "../errors.js";
import { durationSchema, INT32_MAX, maxLongPollMs, workerIdSchema } from "./schemas.js";
import type { ExternalTaskFilter, ExternalTaskPage } from "./types.js";

const strings = z.array(storableString()).max(10_000);
const int = z.number().int().min(-INT32_MAX).max(INT32_MAX);

/** One topic of `fetchAndLock`. */
const fetchTopic = z.object({
  topicName: topicSchema,
  lockDuration: durationSchema("lockDuration").nullish(),
  variables: strings.nullish(),
  localVariables: z.boolean().nullish(),
  deserializeValues: z.boolean().nullish(),
  includeExtensionProperties: z.boolean().nullish(),
  businessKey: storableString().nullish(),
  processDefinitionId: storableString().nullish(),
  processDefinitionIdIn: strings.nullish(),
  processDefinitionKey: storableString().nullish(),
  processDefinitionKeyIn: strings.nullish(),
  processDefinitionVersionTag: z.string().nullish(),
  tenantIdIn: z.array(z.string()).nullish(),
  withoutTenantId: z.boolean().nullish(),
  processVariables: z.record(z.string(), z.unknown()).nullish(),
});

/** Body of `POST /external-task/fetchAndLock`. */
export const fetchAndLockBody = z.object({
  workerId: workerIdSchema,
  maxTasks: z.number().int().min(0).nullish(),
  usePriority: z.boolean().nullish(),
  asyncResponseTimeout: z.number().int().min(0).max(maxLongPollMs).nullish(),
  topics: z.array(fetchTopic).max(1000).nullish(),
  sorting: z.array(z.object({ sortBy: z.string().nullish(), sortOrder: z.string().nullish() })).nullish(),
});

/** A parsed {@link fetchAndLockBody} topic. */
export type FetchTopicBody = z.output<typeof fetchTopic>;

/** Variables as a worker sends them; each one is checked by `plainValue`. */
const variables = z.record(z.string(), z.unknown()).nullish();

/** Body of `complete`. */
export const completeBody = z.object({ workerId: workerIdSchema, variables, localVariables: variables });

/** Body of `failure`. */
export const failureBody = z.object({
  workerId: workerIdSchema,
  errorMessage: storableString().max(100_000).nullish(),
  errorDetails: z.unknown().optional(),
  retries: z.number().int().min(0, "retries must be 0 or more").max(INT32_MAX).nullish(),
  retryTimeout: durationSchema("retryTimeout", 0).nullish(),
  variables,
  localVariables: variables,
});

/** Body of `bpmnError`. */
export const bpmnErrorBody = z.object({
  workerId: workerIdSchema,
  errorCode: storableString().min(1, "errorCode must not be empty").max(1000),
  errorMessage: storableString().max(100_000).nullish(),
  variables,
});

/** Body of `extendLock`. */
export const extendLockBody = z.object({ workerId: workerIdSchema, newDuration: durationSchema("newDuration") });

/** Body of `lock`. */
export const lockBody = z.object({ workerId: workerIdSchema, lockDuration: durationSchema("lockDuration") });

/** Camunda's sort keys and the ones Tasklane sorts by (tenant and definition fall back to id). */
const sortKeys: Record<string, ExternalTaskPage["sortBy"]> = {
  id: "id",
  taskPriority: "priority",
  createTime: "createTime",
  lockExpirationTime: "lockExpirationTime",
  processInstanceId: "processInstanceId",
  processDefinitionId: "id",
  processDefinitionKey: "id",
  tenantId: "id",
};

/** The query of `GET/POST /external-task` and `/count`, typed (query strings converted first). */
const queryBody = z.object({
  externalTaskId: z.string().nullish(),
  externalTaskIdIn: z.array(z.string()).max(10_000).nullish(),
  topicName: storableString().nullish(),
  workerId: storableString().nullish(),
  locked: z.boolean().nullish(),
  notLocked: z.boolean().nullish(),
  withRetriesLeft: z.boolean().nullish(),
  noRetriesLeft: z.boolean().nullish(),
  active: z.boolean().nullish(),
  suspended: z.boolean().nullish(),
  priorityHigherThanOrEquals: int.nullish(),
  priorityLowerThanOrEquals: int.nullish(),
  processInstanceId: z.string().nullish(),
  processInstanceIdIn: z.array(z.string()).max(10_000).nullish(),
  activityId: storableString().nullish(),
  sortBy: z.string().nullish(),
  sortOrder: z.string().nullish(),
  sorting: z.array(z.object({ sortBy: z.string().nullish(), sortOrder: z.string().nullish() })).nullish(),
});

const booleanParams = ["locked", "notLocked", "withRetriesLeft", "noRetriesLeft", "active", "suspended"];
const integerParams = ["priorityHigherThanOrEquals", "priorityLowerThanOrEquals"];
const listParams = ["externalTaskIdIn", "processInstanceIdIn"];

/** Converts query-string values to the JSON types of the POST body (`true`, `5`, `a,b`). */
export function queryParamsToBody(params: Record<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = { ...params };
  for (const name of booleanParams) {
    const v = params[name];
    if (v === undefined) continue;
    if (v !== "true" && v !== "false") throw new ValidationError(`query parameter ${name} must be true or false`, { field: name });
    body[name] = v === "true";
  }
  for (const name of integerParams) {
    const v = params[name];
    if (v === undefined) continue;
    if (!/^-?\d{1,10}$/.test(v)) throw new ValidationError(`query parameter ${name} must be an integer`, { field: name });
    body[name] = Number(v);
  }
  for (const name of listParams) if (params[name] !== undefined) body[name] = params[name]!.split(",").filter((s) => s !== "");
  return body;
}

/** A non-negative integer query parameter (`firstResult`, `maxResults`), or undefined. */
export function pagingParam(params: Record<string, string>, name: string): number | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v) || Number(v) > INT32_MAX) throw new ValidationError(`query parameter ${name} must be a non-negative integer`, { field: name });
  return Number(v);
}

/** The library filter (and sort) of a Camunda external-task query. */
export function parseTaskQuery(input: Record<string, unknown>): ExternalTaskFilter & Pick<ExternalTaskPage, "sortBy" | "descending"> {
  const q = parseOptions(queryBody, input, "query");
  const filter: ExternalTaskFilter & Pick<ExternalTaskPage, "sortBy" | "descending"> = {};
  if (q.topicName != null) filter.topic = q.topicName;
  if (q.workerId != null) filter.workerId = q.workerId;
  for (const name of ["locked", "notLocked", "withRetriesLeft", "noRetriesLeft", "active", "suspended"] as const) {
    if (q[name] === true) filter[name] = true;
  }
  if (q.priorityHigherThanOrEquals != null) filter.priorityAtLeast = q.priorityHigherThanOrEquals;
  if (q.priorityLowerThanOrEquals != null) filter.priorityAtMost = q.priorityLowerThanOrEquals;
  // Ids that cannot be task ids match nothing (not everything): "-1" stays in the list.
  const ids = [...(q.externalTaskId != null ? [q.externalTaskId] : []), ...(q.externalTaskIdIn ?? [])];
  if (q.externalTaskId != null || q.externalTaskIdIn != null) filter.ids = ids.length ? ids : ["-1"];
  const processIds = [...(q.processInstanceId != null ? [q.processInstanceId] : []), ...(q.processInstanceIdIn ?? [])];
  if (q.processInstanceId != null || q.processInstanceIdIn != null) filter.processIds = processIds.length ? processIds : ["-1"];
  if (q.activityId != null) filter.step = q.activityId;
  const sort = q.sorting?.[0] ?? (q.sortBy != null || q.sortOrder != null ? { sortBy: q.sortBy, sortOrder: q.sortOrder } : undefined);
  if (sort) {
    // Camunda's rule: both or neither, from its lists of values.
    const sortBy = sort.sortBy == null ? undefined : sortKeys[sort.sortBy];
    if (!sortBy) throw new ValidationError(`sortBy must be one of ${Object.keys(sortKeys).join(", ")}`, { field: "sortBy" });
    if (sort.sortOrder !== "asc" && sort.sortOrder !== "desc") throw new ValidationError("sortOrder must be asc or desc", { field: "sortOrder" });
    filter.sortBy = sortBy;
    filter.descending = sort.sortOrder === "desc";
  }
  return filter;
}

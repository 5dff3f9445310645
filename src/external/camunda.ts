/**
 * Camunda 7's shapes: typed variables (`{ name: { value, type, valueInfo } }`), its external
 * task JSON, and its date format. Pure functions, shared by the Camunda routes and tests.
 *
 * @module
 */
import { ValidationError } from "../errors.js";
import type { ExternalTask } from "./types.js";

/** One Camunda typed variable. */
export interface TypedValue {
  value: unknown;
  type: string;
  valueInfo: Record<string, unknown>;
}

/** Camunda's Integer range; larger integers are Longs. */
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * The typed form of a JSON value, as the Camunda engine would report a variable holding it:
 * String, Boolean, Integer (32-bit), Long, Double, Null, and Json for objects and arrays (whose
 * value Camunda sends as serialized JSON text).
 */
export function typedValue(value: unknown): TypedValue {
  const typed = (type: string, v: unknown): TypedValue => ({ type, value: v, valueInfo: {} });
  if (value === null || value === undefined) return typed("Null", null);
  if (typeof value === "string") return typed("String", value);
  if (typeof value === "boolean") return typed("Boolean", value);
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return typed("Double", value);
    if (value >= INT32_MIN && value <= INT32_MAX) return typed("Integer", value);
    // A Long is 64-bit; JSON integers beyond it can only be Doubles.
    return typed(Math.abs(value) < 2 ** 63 ? "Long" : "Double", value);
  }
  return typed("Json", JSON.stringify(value));
}

/**
 * The variables a fetched task offers: a step sees its process input, then its completed
 * parents' results, then its own payload (later ones win), each object spread into one variable
 * per top-level key. A payload that is not an object is one variable named `payload`.
 * `names` keeps only those variables (Camunda's `variables` of a topic).
 */
export function taskVariables(task: ExternalTask, names?: readonly string[] | null): Record<string, TypedValue> {
  // Null prototypes: a variable named "__proto__" is a variable, not the object's prototype.
  const merged: Record<string, unknown> = Object.create(null);
  const spread = (value: unknown) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) Object.assign(merged, value);
  };
  spread(task.processInput);
  for (const result of task.parentResults ?? []) spread(result);
  if (task.payload !== null && (typeof task.payload !== "object" || Array.isArray(task.payload))) merged.payload = task.payload;
  else spread(task.payload);
  const wanted = names ? new Set(names) : null;
  const out: Record<string, TypedValue> = Object.create(null);
  for (const [name, value] of Object.entries(merged)) if (!wanted || wanted.has(name)) out[name] = typedValue(value);
  return out;
}

/**
 * The plain value of one typed variable a worker sent. Json (and Object serialized as
 * `application/json`) arrive as JSON text and are parsed; numbers and booleans sent as text are
 * converted; other types (Date, Bytes, File, Xml, Object in other formats) keep their value.
 *
 * @throws ValidationError when the value does not match its type.
 */
export function plainValue(name: string, variable: unknown): unknown {
  if (variable === null || typeof variable !== "object" || Array.isArray(variable)) {
    throw new ValidationError(`variable "${name}" must be an object { value, type }`, { field: `variables.${name}` });
  }
  const { value, type, valueInfo } = variable as { value?: unknown; type?: unknown; valueInfo?: unknown };
  if (type !== undefined && type !== null && typeof type !== "string") {
    throw new ValidationError(`variable "${name}": type must be a string`, { field: `variables.${name}.type` });
  }
  const bad = (expected: string) =>
    new ValidationError(`variable "${name}" of type ${String(type)} needs ${expected}`, { field: `variables.${name}.value` });
  const format = (valueInfo as { serializationDataFormat?: unknown } | null | undefined)?.serializationDataFormat;
  switch (typeof type === "string" ? type.toLowerCase() : "") {
    case "null":
      return null;
    case "json":
    case "object":
      if (typeof value !== "string" || (type!.toLowerCase() === "object" && format !== "application/json")) return value ?? null;
      try {
        return JSON.parse(value);
      } catch {
        throw bad("a JSON text as its value");
      }
    case "integer":
    case "short":
    case "long":
    case "double": {
      if (value === null || value === undefined) return null;
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isFinite(n)) throw bad("a number");
      return n;
    }
    case "boolean":
      if (value === "true" || value === "false") return value === "true";
      if (value !== null && value !== undefined && typeof value !== "boolean") throw bad("a boolean");
      return value ?? null;
    case "string":
      if (value !== null && value !== undefined && typeof value !== "string") throw bad("a string");
      return value ?? null;
    default:
      return value ?? null;
  }
}

/**
 * Merges typed variable maps (`variables`, then `localVariables`) into one plain JSON object,
 * the task's result. Null when the worker sent none.
 */
export function variablesToResult(...maps: unknown[]): Record<string, unknown> | null {
  let result: Record<string, unknown> | null = null;
  for (const map of maps) {
    if (map === undefined || map === null) continue;
    if (typeof map !== "object" || Array.isArray(map)) throw new ValidationError("variables must be an object of { name: { value, type } }", { field: "variables" });
    result ??= Object.create(null) as Record<string, unknown>;
    for (const [name, variable] of Object.entries(map)) result[name] = plainValue(name, variable);
  }
  return result;
}

/** A date as Camunda writes it (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`, e.g. `2024-05-01T10:00:00.000+0000`). */
export function camundaDate(date: Date | null): string | null {
  return date ? date.toISOString().replace(/Z$/, "+0000") : null;
}

/** Attempts that remain, the running one included: Camunda's `retries` (0: an incident). */
export function retriesOf(task: ExternalTask): number {
  if (task.state === "failed") return 0;
  return Math.max(0, task.maxAttempts - task.attempt + (task.state === "running" ? 1 : 0));
}

/** The error details a failure stored, as the text Camunda's `errorDetails` is. */
export function errorDetailsOf(task: ExternalTask): string | null {
  const details = (task.error as { details?: unknown } | null)?.details;
  if (details === undefined || details === null) return null;
  return typeof details === "string" ? details : JSON.stringify(details);
}

/** Camunda's external task JSON (`GET /external-task/{id}`); `locked` adds the fetchAndLock fields. */
export function camundaTask(task: ExternalTask, locked?: { variables: Record<string, TypedValue> }): Record<string, unknown> {
  const activityId = task.step ?? task.topic;
  const json: Record<string, unknown> = {
    id: task.id,
    topicName: task.topic,
    workerId: task.state === "running" || task.state === "failed" ? task.workerId : null,
    lockExpirationTime: camundaDate(task.lockExpiresAt),
    createTime: camundaDate(task.createdAt),
    retries: retriesOf(task),
    errorMessage: task.state === "completed" ? null : (task.error?.message ?? null),
    suspended: task.state === "suspended",
    priority: task.priority,
    processInstanceId: task.processId,
    processDefinitionId: task.processName,
    processDefinitionKey: task.processName,
    processDefinitionVersionTag: null,
    activityId,
    activityInstanceId: `${activityId}:${task.id}`,
    executionId: task.id,
    businessKey: task.processKey ?? task.key,
    tenantId: null,
  };
  if (locked) {
    json.errorDetails = errorDetailsOf(task);
    json.variables = locked.variables;
    json.extensionProperties = {};
  }
  return json;
}

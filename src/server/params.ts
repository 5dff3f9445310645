/**
 * Path parameters and query-string fields shared by the routes. A path parameter that cannot
 * name anything (`abc` as a task id, a 20-digit number, text with NUL) answers 404 like an id
 * that names nothing, without reaching the database, where it would be an error.
 *
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import { taskStates, type TaskState } from "../task.js";
import { NotFoundError } from "../errors.js";
import { scheduleNameSchema } from "../schedules/spec.js";
import { storable } from "./schemas.js";

/** Whether `text` is a positive PostgreSQL `bigint` in canonical form. */
export function isDatabaseId(text: string): boolean {
  return /^[1-9]\d{0,18}$/.test(text) && BigInt(text) < 2n ** 63n;
}

/** The `:id` of a task (or token) route. */
export function idParam(c: Context, what: string, name = "id"): string {
  const id = c.req.param(name) ?? "";
  if (!isDatabaseId(id)) throw new NotFoundError(`no ${what} with id ${id}`, { id });
  return id;
}

/** The `:idOrKey` of a process route: an id, or a process key (text PostgreSQL can store, ≤ 255 characters). */
export function processParam(c: Context): string {
  const idOrKey = c.req.param("idOrKey") ?? "";
  if (!storable(z.string().min(1).max(255)).safeParse(idOrKey).success) {
    throw new NotFoundError(`no process ${JSON.stringify(idOrKey)}`, { id: idOrKey });
  }
  return idOrKey;
}

/** The `:name` of a schedule route. */
export function scheduleParam(c: Context): string {
  const name = c.req.param("name") ?? "";
  if (!scheduleNameSchema.safeParse(name).success) throw new NotFoundError(`no schedule named ${JSON.stringify(name)}`, { name });
  return name;
}

/** `limit`: a page size from 1 to 1000, as query-string text. */
export const limitQuery = z
  .string()
  .regex(/^\d{1,4}$/, "limit must be an integer from 1 to 1000")
  .transform(Number)
  .pipe(z.number().int().min(1, "limit must be an integer from 1 to 1000").max(1000, "limit must be an integer from 1 to 1000"));

/** `cursor`: the `nextCursor` of a previous page, checked so that a forged one is a 400, not a database error. */
export const cursorQuery = z
  .string()
  .max(40)
  .refine((cursor) => /^[A-Za-z0-9_-]+$/.test(cursor) && isDatabaseId(Buffer.from(cursor, "base64url").toString()), "cursor is not one this API returned");

/** `cursor` of the task list: an id, or a search's cursor (the id after `h`, `s` or `b`). */
export const taskCursorQuery = z
  .string()
  .max(40)
  .refine((cursor) => {
    const text = Buffer.from(cursor, "base64url").toString();
    return /^[A-Za-z0-9_-]+$/.test(cursor) && isDatabaseId(/^[hsb]/.test(text) ? text.slice(1) : text);
  }, "cursor is not one this API returned");

/** `cursor` of the audit log: where each of its two streams stopped (`<id>.<id>`), or one id. */
export const auditCursorQuery = z
  .string()
  .max(60)
  .refine((cursor) => {
    const parts = Buffer.from(cursor, "base64url").toString().split(".");
    return /^[A-Za-z0-9_-]+$/.test(cursor) && parts.length <= 2 && parts.every(isDatabaseId);
  }, "cursor is not one this API returned");

/** A short query-string filter (a topic, a tag, a name): text PostgreSQL can store. */
export const textQuery = (max: number) => storable(z.string().min(1).max(max));

/** `state` of a task. */
export const taskStateQuery = z.enum(taskStates as unknown as [TaskState, ...TaskState[]]);

/** A count of history items to include, 0–100, as query-string text. */
export const countQuery = z
  .string()
  .regex(/^\d{1,3}$/, "must be an integer from 0 to 100")
  .transform(Number)
  .pipe(z.number().int().min(0).max(100, "must be an integer from 0 to 100"));

/**
 * The route table of `/api/v1`. Each route is declared once, with its scope and its zod schemas:
 * the same declaration registers the Hono handler (which validates with those schemas) and
 * describes the route in `/openapi.json`, so the document cannot drift from what is enforced.
 *
 * @module
 */
import type { Context } from "hono";
import { Hono } from "hono";
import type { z } from "zod";
import type { Scope } from "../auth/tokens.js";
import { parseOptions } from "../config.js";
import { ValidationError } from "../errors.js";
import { requireScope, type AppEnv } from "./auth.js";
import { hasBody, readJsonObject } from "./body.js";
import { maxPayloadDepth } from "./schemas.js";

/** Methods the API uses. */
export type Method = "get" | "post" | "patch" | "delete";

/** A documented response: a description and, when it has a JSON body, its schema. */
export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
}

/** One route of the API. */
export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType> {
  method: Method;
  /** Hono path relative to `/api/v1`, e.g. `/tasks/:id`. */
  path: string;
  /** The scope a token needs (`admin` implies every scope). */
  scope: Scope;
  operationId: string;
  summary: string;
  description?: string;
  /** OpenAPI tag (the group the route is listed under). */
  tag: string;
  /** Descriptions of the path parameters, by name. */
  params?: Record<string, string>;
  /** Query string schema (a strict object of strings). Without one, any query parameter is refused. */
  query?: Q;
  /** Body schema (a JSON object). */
  body?: B;
  /** Whether a body must be sent (default true); when false, no body reads as `{}`. */
  bodyRequired?: boolean;
  /** Successful responses by status; the error responses are documented for every route. */
  responses: Record<number, ResponseDoc>;
  handler(c: Context<AppEnv>, input: { body: z.output<B>; query: z.output<Q> }): Response | Promise<Response>;
}

/** An operator action of the library on one object (a task, process or schedule), declared as a `POST …/:id/<name>` route. */
export interface OperatorAction {
  name: string;
  operationId: string;
  summary: string;
  run(id: string, actor: { actor: string }): Promise<unknown>;
}

/** What `/openapi.json` needs of a route. */
export type RouteDoc = Omit<RouteSpec<z.ZodType, z.ZodType>, "handler">;

/** Deepest nesting a request body may have: a payload's limit plus room for the fields around it. */
const maxBodyDepth = maxPayloadDepth + 8;

/**
 * True when a JSON value nests deeper than `max`. Iterative: a hostile body nested 100,000 deep
 * parses fine but would overflow the stack of a recursive validator.
 */
function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [v, depth] = item;
    if (typeof v !== "object" || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Reads the query string as one string per name; a name given twice is refused. */
function queryObject(c: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (values.length > 1) throw new ValidationError(`invalid query string: ${name} is given ${values.length} times`, { field: name });
    out[name] = values[0]!;
  }
  return out;
}

/** The registered routes of `/api/v1` and the Hono app that serves them. */
export class Api {
  /** The sub-app, to mount at `/api/v1`. */
  readonly app = new Hono<AppEnv>();
  readonly #routes: RouteDoc[] = [];

  /** Every route declared so far, for the OpenAPI document. */
  get routes(): readonly RouteDoc[] {
    return this.#routes;
  }

  /** Declares a route: registers its handler behind its scope check and records its description. */
  add<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<B, Q>): void {
    const { handler, ...doc } = spec;
    this.#routes.push(doc as RouteDoc);
    this.app.on(spec.method.toUpperCase(), spec.path, requireScope(spec.scope), async (c) => {
      const query = spec.query ? parseOptions(spec.query, queryObject(c), "query string") : undefined;
      if (!spec.query) {
        const names = Object.keys(c.req.queries());
        if (names.length) throw new ValidationError(`invalid query string: this route takes no query parameters (got ${names.join(", ")})`, { field: names[0] });
      }
      let body: unknown;
      if (spec.body) {
        const raw = spec.bodyRequired === false && !(await sendsBody(c)) ? {} : await readJsonObject(c);
        if (deeperThan(raw, maxBodyDepth)) throw new ValidationError(`request body nests deeper than ${maxBodyDepth} levels`, { field: "body" });
        body = parseOptions(spec.body, raw, "request body");
      }
      return handler(c, { body: body as z.output<B>, query: query as z.output<Q> });
    });
  }
}

/** Whether the client sent a body with content: none, or an empty one, reads as `{}` where allowed. */
async function sendsBody(c: Context): Promise<boolean> {
  if (!hasBody(c.req.raw)) return false;
  // Reading caches the text, so readJsonObject reads the same bytes afterwards.
  return (await c.req.text()).trim() !== "";
}

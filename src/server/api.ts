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
import { jsonProblem, maxPayloadDepth } from "./schemas.js";

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

/** Deepest nesting of a request body: a payload's limit plus room for the fields around it. */
const maxBodyDepth = maxPayloadDepth + 8;

/**
 * Refuses a body that nests too deep, or holds text or numbers PostgreSQL would refuse, before
 * zod sees it: a body nested 100,000 deep parses fine but would overflow the stack of zod's
 * recursive validation. The schemas check the same rules field by field afterwards.
 */
function assertStorableBody(body: unknown): void {
  const problem = jsonProblem(body, maxBodyDepth);
  if (!problem) return;
  const path = problem.path.join(".");
  throw new ValidationError(`invalid request body: ${path ? `${path}: ` : ""}${problem.message}`, { issues: [{ path, message: problem.message }] });
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
      const params = queryObject(c);
      const names = Object.keys(params);
      if (!spec.query && names.length) {
        throw new ValidationError(`invalid query string: this route takes no query parameters (got ${names.join(", ")})`, { field: names[0] });
      }
      const query = spec.query ? parseOptions(spec.query, params, "query string") : undefined;
      let body: unknown;
      if (spec.body) {
        const raw = spec.bodyRequired === false && !(await sendsBody(c)) ? {} : await readJsonObject(c);
        assertStorableBody(raw);
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

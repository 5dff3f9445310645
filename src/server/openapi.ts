/**
 * `GET /openapi.json`: an OpenAPI 3.1 document of every route, generated from the route table
 * of `/api/v1` (the zod schemas the routes validate with, through zod's `z.toJSONSchema`) plus
 * the server's own routes and the external-task dialects, described at the path level.
 *
 * @module
 */
import { z } from "zod";
import type { Scope } from "../auth/tokens.js";
import type { Method, RouteDoc } from "./api.js";
import { errorResponse } from "./responses.js";

type Json = Record<string, unknown>;

/** A route described by hand: the server's own routes and the external-task dialects. */
export interface PathDoc {
  method: Method;
  /** Full path in OpenAPI form (`/engine-rest/external-task/{id}/complete`). */
  path: string;
  /** Needed scope; null for an open route. */
  scope: Scope | null;
  operationId: string;
  summary: string;
  tag: string;
  /** A JSON body (described as a generic object). */
  body?: boolean;
  /** The success status and what it carries. */
  ok?: { status: number; description: string; contentType?: string };
}

/**
 * Converts zod schemas to JSON Schema 2020-12 (the dialect of OpenAPI 3.1). Each schema is
 * converted on its own; the definitions zod hoists into `$defs` (named schemas such as `Task`,
 * and recursive ones) move to `components.schemas`, and their references with them, because a
 * `#/$defs/…` reference inside an OpenAPI document would resolve against the document root.
 */
class Schemas {
  readonly components: Record<string, Json> = {};

  convert(schema: z.ZodType, io: "input" | "output", context: string): Json {
    const out = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Json;
    const defs = (out.$defs ?? {}) as Record<string, Json>;
    delete out.$defs;
    delete out.$schema;
    // Named definitions keep their name (the same name is the same schema); anonymous ones,
    // which zod numbers per conversion, get the route's name in front.
    const rename = (name: string) => (name.startsWith("__") ? `${context}${name.replace(/^_+/, "_")}` : name);
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (typeof value !== "object" || value === null) return value;
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) =>
          k === "$ref" && typeof v === "string" && v.startsWith("#/$defs/") ? [k, `#/components/schemas/${rename(v.slice(8))}`] : [k, rewrite(v)],
        ),
      );
    };
    for (const [name, def] of Object.entries(defs)) this.components[rename(name)] = rewrite(def) as Json;
    return rewrite(out) as Json;
  }
}

const errorRef = (description: string) => ({ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });

const commonResponses: Record<string, Json> = {
  BadRequest: errorRef("Bad input (VALIDATION, BAD_JSON): nothing was changed"),
  Unauthorized: errorRef("No valid bearer token (UNAUTHORIZED); WWW-Authenticate: Bearer"),
  Forbidden: errorRef("The token lacks the scope the route needs (FORBIDDEN)"),
  NotFound: errorRef("No such task, process, schedule or token (NOT_FOUND)"),
  Conflict: errorRef("CONFLICT or INVALID_STATE: the action does not fit what exists; nothing was changed"),
  PayloadTooLarge: errorRef("The body is larger than the server's limit (PAYLOAD_TOO_LARGE)"),
  UnsupportedMediaType: errorRef("The body is not application/json in UTF-8 (UNSUPPORTED_MEDIA_TYPE)"),
};

const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });

/** `:name` → `{name}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:(\w+)/g, "{$1}");
}

function pathParams(path: string, descriptions: Record<string, string> = {}): Json[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name, in: "path", required: true, schema: { type: "string" }, ...(descriptions[name!] && { description: descriptions[name!] }),
  }));
}

function errorResponses(scope: Scope | null, hasInput: boolean, hasParams: boolean, hasBody: boolean, canConflict: boolean): Json {
  return {
    ...(hasInput && { 400: ref("BadRequest") }),
    ...(scope && { 401: ref("Unauthorized"), 403: ref("Forbidden") }),
    ...(hasParams && { 404: ref("NotFound") }),
    ...(canConflict && { 409: ref("Conflict") }),
    ...(hasBody && { 413: ref("PayloadTooLarge"), 415: ref("UnsupportedMediaType") }),
  };
}

const security = (scope: Scope | null) => (scope ? { security: [{ bearer: [] }], "x-required-scope": scope } : { security: [] });

/** Builds the document. */
export function openApiDocument(version: string, routes: readonly RouteDoc[], extra: readonly PathDoc[]): Json {
  const schemas = new Schemas();
  const paths: Record<string, Record<string, Json>> = {};
  const put = (path: string, method: Method, op: Json) => ((paths[path] ??= {})[method] = op);

  for (const r of routes) {
    const path = `/api/v1${openApiPath(r.path)}`;
    const parameters = pathParams(path, r.params);
    if (r.query) {
      const q = schemas.convert(r.query, "input", `${r.operationId}Query`);
      const required = (q.required ?? []) as string[];
      for (const [name, schema] of Object.entries((q.properties ?? {}) as Record<string, Json>)) {
        const { description, ...rest } = schema;
        parameters.push({ name, in: "query", required: required.includes(name), schema: rest, ...(description !== undefined && { description }) });
      }
    }
    const responses: Json = {};
    for (const [status, doc] of Object.entries(r.responses)) {
      responses[status] = {
        description: doc.description,
        ...(doc.schema && { content: { "application/json": { schema: schemas.convert(doc.schema, "output", `${r.operationId}${status}`) } } }),
      };
    }
    const hasParams = parameters.some((p) => p.in === "path");
    put(path, r.method, {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description && { description: r.description }),
      tags: [r.tag],
      ...security(r.scope),
      ...(parameters.length && { parameters }),
      ...(r.body && {
        requestBody: {
          required: r.bodyRequired !== false,
          content: { "application/json": { schema: schemas.convert(r.body, "input", `${r.operationId}Body`) } },
        },
      }),
      responses: { ...responses, ...errorResponses(r.scope, true, hasParams, Boolean(r.body), r.scope === "admin" || r.method === "post") },
    });
  }

  for (const e of extra) {
    const parameters = pathParams(e.path);
    const ok = e.ok ?? { status: 200, description: "success" };
    put(e.path, e.method, {
      operationId: e.operationId,
      summary: e.summary,
      tags: [e.tag],
      ...security(e.scope),
      ...(parameters.length && { parameters }),
      ...(e.body && { requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } } }),
      responses: {
        [ok.status]: { description: ok.description, ...(ok.contentType && { content: { [ok.contentType]: { schema: {} } } }) },
        ...errorResponses(e.scope, Boolean(e.body), parameters.length > 0, Boolean(e.body), false),
      },
    });
  }

  schemas.convert(errorResponse, "output", "Error");
  return {
    openapi: "3.1.0",
    info: {
      title: "Tasklane",
      version,
      description:
        "Durable tasks, processes and schedules on PostgreSQL. Every route but /healthz, /readyz and /openapi.json needs `Authorization: Bearer <token>` with the scope in `x-required-scope` (`admin` implies every scope).",
    },
    servers: [{ url: "/" }],
    paths,
    components: {
      schemas: schemas.components,
      responses: commonResponses,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A Tasklane API token (tl_…), created with `tasklane token create`." } },
    },
  };
}

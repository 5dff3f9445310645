/**
 * A real server on loopback for the HTTP tests, on either backend, with one token per scope and
 * small request helpers.
 */
import { describe, expect, inject } from "vitest";
import type { Scope } from "../../src/auth/tokens.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { serve, type RunningServer } from "../../src/server/serve.js";
import { freshSchema } from "../support/backends.js";

/** A running server and what the tests need around it. */
export interface TestServer {
  server: RunningServer;
  url: string;
  /** A token per scope, named `test-<scope>`. */
  tokens: Record<Scope, string>;
  /** What the server logged as errors: a request that reaches one is a server fault. */
  logged: unknown[];
  /** Sends a request with the admin token (or `token`; null for none). */
  call(method: string, path: string, options?: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> }): Promise<Response>;
}

/** Starts a server on the given backend; the caller closes `server`. */
export async function startServer(kind: "pglite" | "postgres"): Promise<TestServer> {
  const logged: unknown[] = [];
  const logger: Logger = { ...silentLogger, error: (obj: unknown) => void logged.push(obj) };
  const server =
    kind === "pglite"
      ? await serve({ database: "memory://", port: 0, logger })
      : await serve({ database: inject("pgUrl")!, schema: freshSchema(), port: 0, logger });
  const tokens = {} as Record<Scope, string>;
  for (const scope of ["work", "start", "read", "admin"] as const) {
    tokens[scope] = (await server.tl.createToken({ name: `test-${scope}`, scopes: [scope] })).token;
  }
  return {
    server,
    url: server.url,
    tokens,
    logged,
    call(method, path, options = {}) {
      const token = options.token === undefined ? tokens.admin : options.token;
      const headers: Record<string, string> = { ...(token && { authorization: `Bearer ${token}` }) };
      let body: string | undefined;
      if (options.raw !== undefined || options.body !== undefined) {
        headers["content-type"] = "application/json";
        body = options.raw ?? JSON.stringify(options.body);
      }
      return fetch(`${server.url}${path}`, { method, headers: { ...headers, ...options.headers }, body });
    },
  };
}

/** `describe` once per backend; PostgreSQL is skipped without a server (never in CI). */
export function describeServers(title: string, suite: (kind: "pglite" | "postgres") => void): void {
  for (const kind of ["pglite", "postgres"] as const) {
    describe.skipIf(kind === "postgres" && !inject("pgUrl"))(`${title} [${kind}]`, () => suite(kind));
  }
}

/** The error body of a response, after checking its status and code. */
export async function expectError(res: Response, status: number, code: string): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  const body = (await res.json()) as { error: { code: string; message: string; details?: Record<string, unknown> } };
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

/** The JSON body of a response, after checking its status. */
export async function expectJson<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect({ status: res.status, body: text.slice(0, 500) }).toMatchObject({ status });
  return JSON.parse(text) as T;
}

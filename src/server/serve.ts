/**
 * Runs the HTTP API on a Node.js HTTP server.
 *
 * @module
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { ValidationError } from "../errors.js";
import type { Logger } from "../logger.js";
import { Tokens } from "../auth/tokens.js";
import { Tasklane } from "../tasklane.js";
import { createApp } from "./app.js";

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Database URL, as `Tasklane.open` takes it (default `pglite://./.tasklane/db`). */
  database?: string;
  /** TCP port; 0 picks a free one (default 3000). */
  port?: number;
  /**
   * Interface to listen on (default `127.0.0.1`). Every route but the probes needs a token, but
   * traffic is plain HTTP: listen beyond loopback only behind TLS.
   */
  host?: string;
  /** PostgreSQL schema of Tasklane's tables (default `tasklane`). */
  schema?: string;
  /** Logger for the instance and the server (default: pino to standard error). */
  logger?: Logger;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimitBytes?: number;
  /**
   * Create an `admin` token when the database has never had one, and return its secret in
   * {@link RunningServer.createdToken}. Default: true on an embedded database (`pglite://`,
   * `memory://`), whose only user is its own process, false on a PostgreSQL server, where
   * operators create tokens with `tasklane token create`.
   */
  bootstrapToken?: boolean;
}

/** A running server, returned by {@link serve}. */
export interface RunningServer {
  /** Base URL with the port actually bound, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The instance the server runs on. */
  tl: Tasklane;
  /** The admin token this start created (see {@link ServeOptions.bootstrapToken}): shown once, stored only as a hash. */
  createdToken: { id: string; token: string } | null;
  /** Whether a live token exists: without one, no request but the probes can succeed. */
  hasTokens: boolean;
  /** Stops accepting connections, lets requests in flight finish, then closes the instance. Idempotent. */
  close(): Promise<void>;
}

/** How long `close()` lets requests in flight finish before it drops their connections. */
const closeGraceMs = 10_000;

/**
 * Opens Tasklane and serves the HTTP API.
 *
 * @example
 * const server = await serve({ database: "memory://", port: 0 });
 * console.log(server.url);
 * await server.close();
 */
export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  const port = options.port ?? 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ValidationError(`port must be an integer from 0 to 65535, got ${String(port)}`, { field: "port" });
  }
  const host = options.host ?? "127.0.0.1";
  // Node reads an empty host as "every interface": exactly what the loopback default avoids.
  if (host.trim() === "") throw new ValidationError("host must not be empty", { field: "host" });
  const tl = await Tasklane.open({ database: options.database, schema: options.schema, logger: options.logger });
  let server: Server;
  let createdToken: RunningServer["createdToken"] = null;
  let hasTokens: boolean;
  try {
    const tokens = new Tokens(tl.engine);
    if (options.bootstrapToken ?? tl.backend === "pglite") {
      createdToken = await tokens.createFirst({ name: "admin", scopes: ["admin"] }, "tasklane serve");
    }
    hasTokens = createdToken !== null || (await tokens.anyLive());
    server = await start(tl, options, port, host);
  } catch (err) {
    await tl.close();
    throw err;
  }
  const { port: bound } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`,
    tl,
    createdToken,
    hasTokens,
    // Long polls end first (answering []), so the HTTP server is not held open by them.
    close: () => (closing ??= tl.external.close().catch(() => undefined).then(() => stop(server)).finally(() => tl.close())),
  };
}

/** Creates the server and listens; on failure nothing is left listening. */
async function start(tl: Tasklane, options: ServeOptions, port: number, host: string): Promise<Server> {
  const app = createApp(tl, { bodyLimitBytes: options.bodyLimitBytes, logger: options.logger });
  // The adapter's default replaces the global Request with a subclass of it: keep it, as
  // middleware that copies a request (`new Request(c.req.raw, …)` in bodyLimit) needs it.
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await listen(server, port, host);
  try {
    // A server is a long-lived node, so it takes its turn at maintenance (rescuing expired
    // leases, enforcing deadlines) even when no worker runs in this process.
    tl.startMaintenance();
    // And it delivers the push endpoints stored over the API (POST /api/v1/push-endpoints).
    await tl.startPushRunner();
  } catch (err) {
    server.close();
    throw err;
  }
  return server;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Closes the server; connections still busy after the grace period are dropped. */
function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), closeGraceMs).unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    // Keep-alive connections with no request in flight would hold close() open until they time out.
    server.closeIdleConnections();
  });
}

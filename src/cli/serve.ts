/**
 * `tasklane serve`: runs the HTTP API until the process is asked to stop.
 *
 * @module
 */
import { describeDatabase } from "../db/open.js";
import type { Logger } from "../logger.js";
import { serve, type RunningServer } from "../server/serve.js";
import type { CliEnv, Output } from "./io.js";
import { databaseSetting, nonEmpty, parsePort, schemaSetting, setting } from "./settings.js";

/** `parseArgs` options of `tasklane serve`. */
export const serveArgs = {
  database: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  schema: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Usage text of `tasklane serve`. */
export const serveUsage = `Usage: tasklane serve [--database URL] [--port N] [--host H] [--schema S]

Runs the HTTP API. Every route but /healthz, /readyz and /openapi.json needs a bearer token.
On an embedded database (pglite://, memory://) the first start creates an admin token and
prints it once; on PostgreSQL, create tokens with "tasklane token create".

Options:
  --database URL  postgres://…, pglite://path or memory://
                  (env DATABASE_URL; default pglite://./.tasklane/db)
  --port N        TCP port, 0 for any free one (env PORT; default 3000)
  --host H        interface to listen on (env HOST; default 127.0.0.1). Requests need a
                  bearer token, but travel as plain HTTP: expose the port only behind TLS.
  --schema S      PostgreSQL schema of Tasklane's tables (env TASKLANE_SCHEMA; default tasklane)
`;

/** Resolved settings of `tasklane serve`. */
export interface ServeSettings {
  database: string;
  port: number;
  host: string;
  schema: string | undefined;
}

/** Resolves flags and environment into {@link ServeSettings}, checking each. */
export function serveSettings(values: { database?: string; port?: string; host?: string; schema?: string }, env: CliEnv): ServeSettings {
  const port = setting("port", values.port, env, "PORT");
  return {
    database: databaseSetting(values.database, env),
    port: port ? parsePort(port) : 3000,
    host: nonEmpty(setting("host", values.host, env, "HOST")) ?? "127.0.0.1",
    schema: schemaSetting(values.schema, env),
  };
}

/**
 * The start message: where it listens, and what to know about tokens. A token created at this
 * start is printed here, once, on the last line; it is stored only as a hash.
 */
export function startMessage(server: Pick<RunningServer, "url" | "createdToken" | "hasTokens">, settings: Pick<ServeSettings, "database" | "schema">): string {
  const lines = [`Tasklane listening on ${server.url} (database: ${describeDatabase(settings.database)})`];
  lines.push(`Dashboard: ${server.url}/ (sign in with an API token)`);
  if (server.createdToken) {
    lines.push("Created an admin token for this database. It is shown only now (only its hash is stored); keep it:");
    lines.push(server.createdToken.token);
  } else if (!server.hasTokens) {
    const schema = settings.schema ? ` --schema ${settings.schema}` : "";
    lines.push(
      `No API token exists yet: every request but /healthz, /readyz and /openapi.json gets 401. Create one with:`,
      `  tasklane token create --scope admin --name ops --database <URL>${schema}`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * Serves until `stop` aborts, then closes gracefully.
 *
 * @returns the exit code (0).
 */
export async function serveCommand(settings: ServeSettings, out: Output, stop: AbortSignal, logger?: Logger): Promise<number> {
  const server = await serve({ ...settings, logger });
  out.write(startMessage(server, settings));
  await new Promise<void>((resolve) => {
    if (stop.aborted) resolve();
    else stop.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.close();
  return 0;
}

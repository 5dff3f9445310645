/**
 * `tasklane serve`: runs the HTTP API until the process is asked to stop.
 *
 * @module
 */
import { describeDatabase } from "../db/open.js";
import type { Logger } from "../logger.js";
import { serve } from "../server/serve.js";
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

Runs the HTTP API.

Options:
  --database URL  postgres://…, pglite://path or memory://
                  (env DATABASE_URL; default pglite://./.tasklane/db)
  --port N        TCP port, 0 for any free one (env PORT; default 3000)
  --host H        interface to listen on (env HOST; default 127.0.0.1). The API has no
                  authentication yet: expose it beyond this machine only behind one.
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
 * Serves until `stop` aborts, then closes gracefully.
 *
 * @returns the exit code (0).
 */
export async function serveCommand(settings: ServeSettings, out: Output, stop: AbortSignal, logger?: Logger): Promise<number> {
  const server = await serve({ ...settings, logger });
  out.write(`Tasklane listening on ${server.url} (database: ${describeDatabase(settings.database)})\n`);
  await new Promise<void>((resolve) => {
    if (stop.aborted) resolve();
    else stop.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.close();
  return 0;
}

/**
 * `tasklane migrate`: applies pending migrations, or prints them all as one SQL script for teams
 * that run migrations with their own tool.
 *
 * @module
 */
import { openOptionsSchema, parseOptions } from "../config.js";
import { migrations, printMigrations } from "../db/migrator.js";
import { describeDatabase } from "../db/open.js";
import { defaultLogger, type Logger } from "../logger.js";
import { Tasklane } from "../tasklane.js";
import { UsageError, type CliEnv, type Output } from "./io.js";
import { databaseSetting, schemaSetting } from "./settings.js";

/** `parseArgs` options of `tasklane migrate`. */
export const migrateArgs = {
  database: { type: "string" },
  schema: { type: "string" },
  print: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Usage text of `tasklane migrate`. */
export const migrateUsage = `Usage: tasklane migrate [--database URL] [--schema S]
       tasklane migrate --print [--schema S]

Applies the migrations the database lacks, or with --print writes them all to standard output
as one SQL script (nothing is connected to).

Options:
  --database URL  postgres://…, pglite://path or memory://
                  (env DATABASE_URL; default pglite://./.tasklane/db)
  --schema S      PostgreSQL schema of Tasklane's tables (env TASKLANE_SCHEMA; default tasklane)
  --print         print the SQL instead of applying it
`;

/** Resolved settings of `tasklane migrate`. */
export interface MigrateSettings {
  /** Where to apply; undefined with `print`. */
  database: string | undefined;
  schema: string;
  print: boolean;
}

/** Resolves flags and environment into {@link MigrateSettings}, checking each. */
export function migrateSettings(values: { database?: string; schema?: string; print?: boolean }, env: CliEnv): MigrateSettings {
  const print = values.print ?? false;
  if (print && values.database !== undefined) throw new UsageError("--print connects to no database; drop --database");
  // The library's own rule for schema names: --print interpolates the name into SQL unchecked.
  const { schema } = parseOptions(openOptionsSchema.pick({ schema: true }), { schema: schemaSetting(values.schema, env) }, "settings");
  return { database: print ? undefined : databaseSetting(values.database, env), schema, print };
}

/**
 * Prints or applies the migrations.
 *
 * @returns the exit code (0).
 */
export async function migrateCommand(settings: MigrateSettings, out: Output, logger: Logger = defaultLogger()): Promise<number> {
  if (settings.print || settings.database === undefined) {
    out.write(printMigrations(settings.schema));
    return 0;
  }
  const seen = appliedVersions(logger);
  const tl = await Tasklane.open({ database: settings.database, schema: settings.schema, logger: seen.logger });
  await tl.close();
  const where = `schema "${settings.schema}" (database: ${describeDatabase(settings.database)})`;
  const names = new Map(migrations().map((m) => [m.version, m.name]));
  if (seen.applied.length === 0) {
    out.write(`Nothing to apply: ${where} is up to date\n`);
  } else {
    const list = seen.applied.map((v) => `${v} (${names.get(v) ?? "?"})`).join(", ");
    out.write(`Applied migration${seen.applied.length > 1 ? "s" : ""} ${list} to ${where}\n`);
  }
  return 0;
}

/**
 * A logger that passes everything on and notes the versions `Tasklane.open` reports applying:
 * the library logs them (`{ applied: [1, 2] }`) but does not return them.
 */
function appliedVersions(base: Logger): { logger: Logger; applied: number[] } {
  const seen = { applied: [] as number[], logger: base };
  seen.logger = {
    debug: base.debug.bind(base),
    warn: base.warn.bind(base),
    error: base.error.bind(base),
    info: ((obj: object | string, msg?: string) => {
      const applied = typeof obj === "object" && obj !== null ? (obj as { applied?: unknown }).applied : undefined;
      if (Array.isArray(applied)) seen.applied.push(...applied.filter((v): v is number => typeof v === "number"));
      if (typeof obj === "string") base.info(obj);
      else if (msg === undefined) base.info(obj);
      else base.info(obj, msg);
    }) as Logger["info"],
  };
  return seen;
}

/**
 * Turns a `database` URL into a driver.
 *
 * - `postgres://…` / `postgresql://…`: a PostgreSQL server (node-postgres).
 * - `pglite://./rel/path`, `pglite:///abs/path`: embedded PGlite on disk.
 * - `memory://`: embedded PGlite in memory (gone when the process ends).
 * - omitted: `pglite://./.tasklane/db`.
 * - a PGlite instance the application already has: used as it is, and left open at close.
 *
 * @internal
 * @module
 */
import { resolve } from "node:path";
import type { Driver } from "./driver.js";
import { PgDriver } from "./pg-driver.js";
import type { PGlite } from "@electric-sql/pglite";
import { PgliteDriver, isPglite } from "./pglite-driver.js";
import { ValidationError } from "../errors.js";
import type { Logger } from "../logger.js";

/** The database used when none is given. */
export const defaultDatabase = "pglite://./.tasklane/db";

/** Describes a database URL without its password, for start-up messages. */
export function describeDatabase(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

/** Opens the driver a database URL names. */
export async function openDriver(url: string | PGlite, options: { poolSize: number; logger: Logger }): Promise<Driver> {
  if (isPglite(url)) return PgliteDriver.wrap(url);
  if (/^postgres(ql)?:\/\//.test(url)) {
    return new PgDriver({ connectionString: url, poolSize: options.poolSize, logger: options.logger });
  }
  if (url === "memory://" || url === "memory:") return PgliteDriver.open(undefined);
  if (url.startsWith("pglite://")) {
    const path = url.slice("pglite://".length);
    if (!path) throw new ValidationError("database: pglite:// needs a path, e.g. pglite://./.tasklane/db", { field: "database" });
    return PgliteDriver.open(resolve(path));
  }
  throw new ValidationError(
    `database: unsupported URL "${describeDatabase(url)}"; use postgres://…, pglite://path or memory://`,
    { field: "database" },
  );
}

/**
 * Applies the numbered, append-only migrations in `sql/migrations/` at `open()`. Safe when many
 * processes open one fresh database at once: every migrator takes the same transaction-scoped
 * advisory lock first, so exactly one applies each version and the others find it recorded.
 *
 * @internal
 * @module
 */
import { readFileSync, readdirSync } from "node:fs";
import type { Driver } from "./driver.js";
import { adHoc, renderSchema, sqlDir } from "./queries.js";
import { MigrationError } from "../errors.js";

/** One migration file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The SQL with `{schema}` still in it. */
  readonly template: string;
}

/** Advisory lock class for migrations ("TL" in ASCII); the second key is the schema's hash. */
const LOCK_CLASS = 0x544c;

/** Every shipped migration, in order. File names are `NNNN_name.sql`. */
export function migrations(): Migration[] {
  const dir = `${sqlDir}migrations/`;
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      template: readFileSync(dir + file, "utf8"),
    }));
}

/** The full script a team with its own migration tool runs instead (`tasklane migrate --print`). */
export function printMigrations(schema: string): string {
  const parts = [`CREATE SCHEMA IF NOT EXISTS ${schema};`, versionTableSql(schema)];
  for (const m of migrations()) {
    parts.push(`-- migration ${m.version}: ${m.name}`, renderSchema(m.template, schema).trim());
    parts.push(`INSERT INTO ${schema}.migration (version, name) VALUES (${m.version}, '${m.name}');`);
  }
  return parts.join("\n\n") + "\n";
}

function versionTableSql(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${schema}.migration (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);`;
}

function schemaHash(schema: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < schema.length; i++) h = Math.imul(h ^ schema.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * Applies what is missing, all in one transaction (a failed migration leaves nothing half-done).
 * Versions in the database that this release does not know are left alone: a newer release
 * migrated it, and an older worker keeps running against it during a rolling upgrade.
 */
export async function migrate(driver: Driver, schema: string): Promise<number[]> {
  try {
    return await driver.transaction(async (tx) => {
      await tx.query(adHoc("SELECT pg_advisory_xact_lock($1::int, $2::int)"), [LOCK_CLASS, schemaHash(schema)]);
      await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schema};\n${versionTableSql(schema)}`);
      const rows = await tx.query<{ version: number }>(adHoc(`SELECT version FROM ${schema}.migration`));
      const applied = new Set(rows.map((r) => Number(r.version)));
      const done: number[] = [];
      for (const m of migrations()) {
        if (applied.has(m.version)) continue;
        await tx.exec(renderSchema(m.template, schema));
        await tx.query(adHoc(`INSERT INTO ${schema}.migration (version, name) VALUES ($1, $2)`), [m.version, m.name]);
        done.push(m.version);
      }
      return done;
    });
  } catch (err) {
    throw new MigrationError(`migrating schema "${schema}" failed: ${(err as Error).message}`, { schema }, { cause: err });
  }
}

/** Throws when the schema lacks migrations this release needs (used with `{ migrate: false }`). */
export async function assertMigrated(driver: Driver, schema: string): Promise<void> {
  const rows = await driver
    .query<{ version: number }>(adHoc(`SELECT version FROM ${schema}.migration`))
    .catch(() => [] as { version: number }[]);
  const applied = new Set(rows.map((r) => Number(r.version)));
  const missing = migrations().filter((m) => !applied.has(m.version)).map((m) => m.version);
  if (missing.length) {
    throw new MigrationError(
      `schema "${schema}" lacks migrations ${missing.join(", ")}: open with { migrate: true } or apply \`tasklane migrate --print\``,
      { schema, missing },
    );
  }
}

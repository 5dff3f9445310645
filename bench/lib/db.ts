/**
 * Databases for the benchmarks: a PostgreSQL server (a throwaway cluster at default settings, or
 * the one `TASKLANE_BENCH_PG_URL` names) or embedded PGlite. Every measurement works in a fresh
 * schema (PostgreSQL) or a fresh in-memory database (PGlite), so no run sees another's rows.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { Tasklane, silentLogger, type OpenOptions } from "./library.js";
import { startPgCluster, type PgCluster } from "../../test/support/pg-cluster.js";

export type BackendKind = "pg" | "pglite";

/** The database the benchmarks create on a PostgreSQL server. */
export const BENCH_DB = "tasklane_bench";

/** A fresh schema name. */
export const freshSchema = (): string => `bench_${randomBytes(4).toString("hex")}`;

/**
 * A PostgreSQL server for a benchmark run: `TASKLANE_BENCH_PG_URL` when set (used as is, never
 * stopped), else a throwaway cluster at PostgreSQL's default settings. Resolves to the URL of a
 * database made for the benchmarks on it.
 */
export async function pgServer(log: (line: string) => void = () => {}): Promise<{ url: string; adminUrl: string; stop(): Promise<void> }> {
  let cluster: PgCluster | undefined;
  let adminUrl = process.env.TASKLANE_BENCH_PG_URL;
  if (!adminUrl) {
    cluster = await startPgCluster({ log });
    adminUrl = cluster.url;
  }
  const url = await ensureDatabase(adminUrl, BENCH_DB);
  return { url, adminUrl, stop: async () => void (await cluster?.stop()) };
}

/** Creates database `name` on the server of `url` when missing; returns its URL. */
export async function ensureDatabase(url: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!found.rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The settings the peers' harness records, so results say what they ran against. */
export async function pgServerInfo(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting || coalesce(unit, '') AS setting FROM pg_settings
        WHERE name IN ('server_version', 'shared_buffers', 'synchronous_commit', 'fsync', 'max_connections',
                       'work_mem', 'max_wal_size', 'wal_level', 'autovacuum')`,
    );
    return Object.fromEntries(rows.map((r) => [r.name === "server_version" ? "version" : r.name, r.setting]));
  } finally {
    await client.end();
  }
}

/** One measurement's database: Tasklane instances in fresh schemas, and raw SQL for checks. */
export interface BenchDb {
  readonly kind: BackendKind;
  /** The PostgreSQL URL (null on PGlite). */
  readonly url: string | null;
  /** Opens Tasklane in `schema` (default: a fresh one); closed by `close()`. */
  open(schema?: string, options?: OpenOptions): Promise<Tasklane>;
  /** Runs one statement outside Tasklane (setup, checks, EXPLAIN). */
  sql<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Closes every instance, drops the schemas it made (PostgreSQL) and the database (PGlite). */
  close(): Promise<void>;
}

export async function openBenchDb(kind: BackendKind, url: string | null): Promise<BenchDb> {
  const instances: Tasklane[] = [];
  const schemas: string[] = [];
  if (kind === "pg") {
    if (!url) throw new Error("the pg backend needs a PostgreSQL URL");
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    return {
      kind,
      url,
      async open(schema = freshSchema(), options = {}) {
        schemas.push(schema);
        const tl = await Tasklane.open({ database: url, schema, logger: silentLogger, ...options });
        instances.push(tl);
        return tl;
      },
      async sql<R>(text: string, params: unknown[] = []) {
        return (await pool.query(text, params)).rows as R[];
      },
      async close() {
        await Promise.all(instances.splice(0).map((tl) => tl.close({ graceMs: 0 })));
        for (const s of schemas.splice(0)) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
        await pool.end();
      },
    };
  }
  const db = await PGlite.create("memory://");
  return {
    kind,
    url: null,
    async open(schema = freshSchema(), options = {}) {
      const tl = await Tasklane.open({ database: db, schema, logger: silentLogger, ...options });
      instances.push(tl);
      return tl;
    },
    async sql<R>(text: string, params: unknown[] = []) {
      return (await db.query<R>(text, params)).rows;
    },
    async close() {
      await Promise.all(instances.splice(0).map((tl) => tl.close({ graceMs: 0 })));
      await db.close();
    },
  };
}

/** Tasks of `schema` not yet in a terminal state (0 = the queue is empty and every outcome is written). */
export async function unfinished(db: BenchDb, schema: string): Promise<number> {
  const [row] = await db.sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM "${schema}".task WHERE state IN ('pending', 'ready', 'running')`,
  );
  return Number(row?.n ?? 0);
}

/** Tasks of `schema` by state. */
export async function countByState(db: BenchDb, schema: string): Promise<Record<string, number>> {
  const rows = await db.sql<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM "${schema}".task GROUP BY state`);
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/**
 * E. The raw ceiling: what the database itself does on this machine, with hand-written SQL and
 * no engine, the way the peers' harness measures it (a fresh table per measurement, then
 * `CHECKPOINT`; each measurement runs `eDurationS` seconds):
 *
 * - PostgreSQL: pgbench single-row `UPDATE` transactions at 1 and 8 clients; the same single-row
 *   UPDATE through node-postgres; `UPDATE … FROM unnest($1::bigint[])` of 100 and 1,000 rows per
 *   statement from 1 and 2 clients; `INSERT … SELECT FROM unnest` of 1,000 rows;
 * - both backends: a task-shaped claim + complete loop (a `FOR UPDATE SKIP LOCKED` claim of
 *   1,000 ready rows through a partial index, then one `UPDATE … FROM unnest` completing them),
 *   the ceiling scenario B is measured against, and on PGlite the batched insert and update too.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { findPgBin } from "../../test/support/pg-cluster.js";
import { freshSchema, type BenchDb } from "../lib/db.js";
import { now, round } from "../lib/timing.js";
import type { MeasureConfig, MeasureResult } from "./types.js";

const run = promisify(execFile);
const ROWS = 100_000;

interface Conn {
  query(name: string, text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;
  close(): Promise<void>;
}

export async function scenarioE(db: BenchDb, cfg: MeasureConfig): Promise<MeasureResult> {
  const schema = freshSchema();
  const out: MeasureResult = { rows: ROWS, duration_s: cfg.eDurationS };
  let pglite: PGlite | undefined;
  const connect = async (): Promise<Conn> => {
    if (db.kind === "pglite") {
      pglite ??= await PGlite.create("memory://");
      const p = pglite;
      return {
        async query(_name, text, params = []) {
          const r = await p.query<Record<string, unknown>>(text, params);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
        },
        close: async () => {},
      };
    }
    const c = new pg.Client({ connectionString: db.url! });
    await c.connect();
    await c.query(`SET search_path TO "${schema}"`);
    return {
      async query(name, text, params = []) {
        const r = await c.query({ name, text, values: params });
        return { rows: r.rows, rowCount: r.rowCount ?? 0 };
      },
      close: () => c.end(),
    };
  };
  const admin = await connect();
  const sql = (text: string) => admin.query("", text);
  if (db.kind === "pg") await sql(`CREATE SCHEMA "${schema}"`);

  async function freshTables(taskRows = 0): Promise<void> {
    await sql("DROP TABLE IF EXISTS kv, q, tq");
    await sql("CREATE TABLE kv (id bigint PRIMARY KEY, v bigint NOT NULL DEFAULT 0)");
    await sql(`INSERT INTO kv (id) SELECT g FROM generate_series(1, ${ROWS}) g`);
    await sql("CREATE TABLE q (id bigserial PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
    // Task-shaped: the columns a claim and a completion touch, a partial index on runnable rows.
    await sql(`CREATE TABLE tq (id bigserial PRIMARY KEY, topic text NOT NULL, state text NOT NULL, payload jsonb,
      run_at timestamptz NOT NULL DEFAULT now(), lease_owner text, lease_token integer NOT NULL DEFAULT 0,
      result jsonb, finished_at timestamptz)`);
    await sql("CREATE INDEX tq_claim ON tq (run_at, id) WHERE state = 'ready'");
    if (taskRows > 0) {
      await sql(`INSERT INTO tq (topic, state, payload, run_at)
                 SELECT 'noop', 'ready', jsonb_build_object('i', g), now() - interval '1 minute' FROM generate_series(1, ${taskRows}) g`);
    }
    await sql("VACUUM ANALYZE kv");
    if (taskRows > 0) await sql("VACUUM ANALYZE tq");
    if (db.kind === "pg") await sql("CHECKPOINT");
  }

  /** Runs `body` on `clients` connections for the duration; returns units per second. */
  async function timed(clients: number, body: (c: Conn, k: number) => Promise<number>): Promise<number> {
    const cs = await Promise.all(Array.from({ length: clients }, () => connect()));
    let units = 0;
    const t0 = now();
    const end = t0 + cfg.eDurationS * 1000;
    await Promise.all(cs.map(async (c, k) => {
      while (now() < end) units += await body(c, k);
    }));
    const dt = now() - t0;
    await Promise.all(cs.map((c) => c.close()));
    return (units / dt) * 1000;
  }

  const sortedIds = (n: number, k: number, clients: number) => {
    const s = new Set<number>();
    const slice = Math.floor(ROWS / clients);
    while (s.size < n) s.add(1 + k * slice + Math.floor(Math.random() * slice));
    return [...s].sort((a, b) => a - b);
  };

  try {
    if (db.kind === "pg") {
      const bin = findPgBin();
      const pgbench = bin ? join(bin, "pgbench") : "pgbench";
      const u = new URL(db.url!);
      const script = `\\set id random(1, ${ROWS})\nUPDATE "${schema}".kv SET v = v + 1 WHERE id = :id;\n`;
      const { writeFile, mkdtemp, rm } = await import("node:fs/promises");
      const { tmpdir } = await import("node:os");
      const dir = await mkdtemp(join(tmpdir(), "tasklane-e-"));
      try {
        await writeFile(join(dir, "update.sql"), script);
        for (const c of [1, 8]) {
          await freshTables();
          const { stdout } = await run(pgbench, [
            "-h", u.hostname, "-p", u.port || "5432", "-U", decodeURIComponent(u.username || "postgres"), "-n", "-M", "prepared",
            "-c", String(c), "-j", String(Math.min(c, 2)), "-T", String(Math.max(1, Math.round(cfg.eDurationS))), "-f", join(dir, "update.sql"), u.pathname.slice(1),
          ]);
          out[`pgbench_update_c${c}_tps`] = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }

    await freshTables();
    out.update_single_c1_tps = await timed(1, async (c) => {
      await c.query("u1", "UPDATE kv SET v = v + 1 WHERE id = $1", [1 + Math.floor(Math.random() * ROWS)]);
      return 1;
    });
    for (const batch of [100, 1000]) {
      for (const clients of db.kind === "pg" ? [1, 2] : [1]) {
        await freshTables();
        out[`update_unnest_b${batch}_c${clients}_rows_per_s`] = await timed(clients, async (c, k) => {
          const r = await c.query("ub", "UPDATE kv SET v = kv.v + 1 FROM unnest($1::bigint[]) AS u(id) WHERE kv.id = u.id", [sortedIds(batch, k, clients)]);
          return r.rowCount;
        });
      }
    }
    await freshTables();
    out.insert_unnest_b1000_c1_rows_per_s = await timed(1, async (c) => {
      const payloads = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ i }));
      const r = await c.query("ib", "INSERT INTO q (payload) SELECT p FROM unnest($1::jsonb[]) AS u(p)", [payloads]);
      return r.rowCount;
    });
    // Enough ready rows that the loop never runs dry within the duration.
    const taskRows = Math.min(2_000_000, Math.max(20_000, cfg.eDurationS * (db.kind === "pg" ? 90_000 : 40_000)));
    for (const clients of db.kind === "pg" ? [1, 2] : [1]) {
      await freshTables(taskRows);
      let ranDry = false;
      const rate = await timed(clients, async (c, k) => {
        const claimed = await c.query(
          "claim",
          `WITH picked AS (SELECT id FROM tq WHERE state = 'ready' AND run_at <= now() ORDER BY run_at, id LIMIT 1000 FOR UPDATE SKIP LOCKED)
           UPDATE tq SET state = 'running', lease_owner = $1, lease_token = tq.lease_token + 1 FROM picked WHERE tq.id = picked.id
           RETURNING tq.id, tq.lease_token, tq.payload`,
          [`w${k}`],
        );
        if (claimed.rows.length === 0) {
          ranDry = true;
          return 0;
        }
        const done = await c.query(
          "complete",
          `UPDATE tq SET state = 'completed', result = u.result, finished_at = now()
             FROM unnest($1::bigint[], $2::integer[], $3::jsonb[]) AS u(id, token, result)
            WHERE tq.id = u.id AND tq.lease_token = u.token AND tq.state = 'running'`,
          [claimed.rows.map((r) => r.id), claimed.rows.map((r) => r.lease_token), claimed.rows.map(() => "null")],
        );
        return done.rowCount;
      });
      out[`claim_complete_b1000_c${clients}_tasks_per_s`] = rate;
      if (ranDry) out[`claim_complete_b1000_c${clients}_ran_dry`] = true;
    }
    for (const [k, v] of Object.entries(out)) if (typeof v === "number" && k.endsWith("_s")) out[k] = round(v, 1);
    return out;
  } finally {
    await sql("DROP TABLE IF EXISTS kv, q, tq").catch(() => undefined);
    if (db.kind === "pg") await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.close();
    await pglite?.close();
  }
}

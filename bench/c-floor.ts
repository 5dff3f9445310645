/**
 * The floor of scenario C in bare SQL on this machine: an insert that sends `pg_notify`, a
 * `LISTEN` connection, and a one-row `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`
 * claim, with C's 5–15 ms pause between tasks, all in one process. It tells how much of C's
 * latency is the machine (waking processes, committing) and how much is the engine.
 *
 *   node --import tsx bench/c-floor.ts [--listener] [--handoff]
 *     --listener: claim on the LISTEN connection; --handoff: the insert leases the task and its
 *     NOTIFY carries the row, so the handler starts on the notification (no claim statement)
 *
 * PostgreSQL: the server `TASKLANE_BENCH_PG_URL` names, else a throwaway cluster.
 */
import pg from "pg";
import { pgServer } from "./lib/db.js";

const onListener = process.argv.includes("--listener");
// --handoff: the insert itself leases the task to the listening worker and its NOTIFY carries the
// row, so the handler starts on the notification (no claim statement): the floor of handoff.
const handoff = process.argv.includes("--handoff");
const server = await pgServer();
const connect = async () => {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  return c;
};
const [producer, listener, claimer] = await Promise.all([connect(), connect(), connect()]);
const table = `c_floor_${Math.random().toString(36).slice(2, 8)}`;
try {
  await producer.query(`CREATE TABLE ${table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, state text NOT NULL DEFAULT 'ready',
    payload jsonb, run_at timestamptz NOT NULL DEFAULT now(), lease integer NOT NULL DEFAULT 0)`);
  await producer.query(`CREATE INDEX ON ${table} (run_at, id) WHERE state = 'ready'`);
  await listener.query(`LISTEN ${table}`);
  let started: (t: number) => void = () => {};
  listener.on("notification", (msg) => {
    if (handoff) {
      JSON.parse(msg.payload ?? "null");
      started(performance.now());
      return;
    }
    const c = onListener ? listener : claimer;
    void c
      .query({
        name: "claim",
        text: `UPDATE ${table} SET state = 'running', lease = lease + 1 WHERE id IN (SELECT id FROM ${table}
                WHERE state = 'ready' AND run_at <= now() ORDER BY run_at, id LIMIT 10 FOR UPDATE SKIP LOCKED) RETURNING id, payload`,
      })
      .then((r) => r.rows.length && started(performance.now()));
  });
  const latency: number[] = [];
  const insert: number[] = [];
  for (let i = 0; i < 1_020; i++) {
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
    const handled = new Promise<number>((r) => (started = r));
    const t0 = performance.now();
    await producer.query({
      name: "insert",
      text: handoff
        ? `WITH i AS (INSERT INTO ${table} (payload, state, lease) VALUES ($1, 'running', 1) RETURNING id, payload)
           SELECT id, pg_notify('${table}', json_build_object('id', id, 'payload', payload)::text) FROM i`
        : `WITH i AS (INSERT INTO ${table} (payload) VALUES ($1) RETURNING id) SELECT id, pg_notify('${table}', '') FROM i`,
      values: [JSON.stringify({ i })],
    });
    const t1 = performance.now();
    const t2 = await handled;
    if (i < 20) continue; // warm-up, as in C
    latency.push(t2 - t0);
    insert.push(t1 - t0);
  }
  const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.floor(a.length * p)]!.toFixed(2);
  const mode = handoff ? "handed off by the insert, no claim" : `claim on ${onListener ? "the LISTEN connection" : "its own connection"}`;
  console.log(`C floor, bare SQL (${mode}): ` +
    `p50 ${q(latency, 0.5)} · p99 ${q(latency, 0.99)} ms; insert + commit p50 ${q(insert, 0.5)} ms (${latency.length} tasks)`);
} finally {
  await producer.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await Promise.all([producer.end(), listener.end(), claimer.end()]);
  await server.stop();
}

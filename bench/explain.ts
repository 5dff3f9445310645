/**
 * Where the time of the hot statements goes: runs `EXPLAIN (ANALYZE, BUFFERS)` of the engine's own
 * statements (from sql/queries, through the engine's query registry) against a loaded table, and
 * times the same statements end to end from the driver, so the database's share and the client's
 * share of each can be told apart.
 *
 *   node --import tsx bench/explain.ts [--backlog 100000] [--history 0] [--batch 1000] [--backend pg|pglite]
 *                                      [--drop-index task_state_idx …]
 *
 * Each EXPLAIN ANALYZE runs inside a transaction that is rolled back, so the table stays as loaded.
 */
import { parseArgs } from "node:util";
import { openBenchDb, pgServer, type BackendKind } from "./lib/db.js";
import { seedHistory } from "./scenarios/b-drain.js";
import { chunks, median, now, round } from "./lib/timing.js";
import { insertTasks, taskInput } from "../src/client/enqueue.js";
import type { Executor } from "../src/db/driver.js";
import type { Query } from "../src/db/queries.js";

const { values } = parseArgs({
  options: {
    backlog: { type: "string", default: "100000" },
    history: { type: "string", default: "0" },
    batch: { type: "string", default: "1000" },
    backend: { type: "string", default: "pg" },
    repeat: { type: "string", default: "20" },
    drained: { type: "string", default: "0" },
    "no-analyze": { type: "boolean", default: false },
    set: { type: "string", multiple: true, default: [] },
    "drop-index": { type: "string", multiple: true, default: [] },
  },
});
/** TaskCompleteMany's parameters completing `rows` (as a claim answered them) with a null result each. */
const completion = (rows: Record<string, unknown>[]) => [rows.map((x) => x.id), rows.map((x) => x.lease_token), rows.map(() => "null")];
const backend = values.backend as BackendKind;
const backlog = Number(values.backlog);
const batch = Number(values.batch);
const repeat = Number(values.repeat);

const server = backend === "pg" ? await pgServer() : undefined;
const db = await openBenchDb(backend, server?.url ?? null);
try {
  // --set name=value: a planner setting for every connection (an experiment, e.g. enable_bitmapscan=off).
  if (values.set.length && backend === "pg" && process.env.TASKLANE_BENCH_PG_URL) throw new Error("--set alters the database: only on the throwaway cluster, not on TASKLANE_BENCH_PG_URL");
  for (const kv of values.set) {
    const [name, value] = kv.split("=");
    if (!/^[a-z_]+$/.test(name ?? "") || !/^[a-z0-9_.]+$/i.test(value ?? "")) throw new Error(`--set ${kv}: name=value`);
    await db.sql(backend === "pg" ? `ALTER DATABASE "${new URL(server!.url).pathname.slice(1)}" SET ${name} = ${value}` : `SET ${name} = ${value}`);
  }
  const tl = await db.open();
  const { queries, driver } = tl.engine;
  if (Number(values.history) > 0) console.log("history", await seedHistory(tl, db, Number(values.history), 1000));
  for (const b of chunks(backlog, 1000, (i) => ({ topic: "bench.noop", payload: { i } }))) await tl.enqueueMany(b);
  // --no-analyze: leave the table as enqueueing left it (no statistics yet), as a drain that starts
  // right after a bulk enqueue sees it before autovacuum's ANALYZE (PGlite never runs one).
  // --drop-index NAME: measure without one of the task table's indexes (an experiment: what an
  // index costs the claim, the completion and the insert).
  for (const name of values["drop-index"]) {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`--drop-index ${name}: an index name`);
    await db.sql(`DROP INDEX "${tl.schema}".${name}`);
  }
  if (!values["no-analyze"]) await db.sql(`VACUUM ANALYZE "${tl.schema}".task`);
  // --drained N: claim and complete N of the backlog first, without VACUUM, as a drain in
  // progress leaves the table (dead entries at the head of the claim index).
  const drained = Number(values.drained);
  for (let done = 0; done < drained; done += 1000) {
    const rows = await driver.query<Record<string, unknown>>(queries.get("TaskClaim"), [["bench.noop"], [], 1000, "drainer", 30_000, null]);
    await driver.query(queries.get("TaskCompleteMany"), completion(rows));
  }
  console.log(`${backend}: ${backlog - drained} ready tasks (${drained} drained before, not vacuumed), ${values.history} finished; batches of ${batch}\n`);

  /** Substitutes $n in the query text so EXPLAIN can run it as a plain statement. */
  const literal = (v: unknown): string => {
    if (v === null || v === undefined) return "NULL";
    if (Array.isArray(v)) return `ARRAY[${v.map(literal).join(",")}]`;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return `'${String(v).replaceAll("'", "''")}'`;
  };
  const inline = (text: string, params: unknown[]) => text.replace(/\$(\d+)/g, (_, n: string) => literal(params[Number(n) - 1]));
  const explain = async (title: string, name: string, params: unknown[]) => {
    const text = inline(queries.get(name).text, params);
    await db.sql("BEGIN");
    try {
      const rows = await db.sql<Record<string, string>>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`);
      console.log(`--- ${title}\n${rows.map((r) => Object.values(r)[0]).join("\n")}\n`);
    } finally {
      await db.sql("ROLLBACK");
    }
  };
  const claimParams = (n: number) => [["bench.noop"], [], n, "explain-worker", 30_000, null];
  await explain(`TaskClaim, LIMIT ${batch}`, "TaskClaim", claimParams(batch));

  // End-to-end, from the driver: claim a batch, complete it; repeat; report medians.
  const claimMs: number[] = [];
  const completeMs: number[] = [];
  const insertMs: number[] = [];
  const enqueueManyMs: number[] = [];
  const insertTotalMs: number[] = [];
  let lastClaim: Record<string, unknown>[] = [];
  for (let r = 0; r < repeat; r++) {
    let t = now();
    const rows = await driver.query<Record<string, unknown>>(queries.get("TaskClaim"), claimParams(batch));
    claimMs.push(now() - t);
    lastClaim = rows;
    t = now();
    await driver.query(queries.get("TaskCompleteMany"), completion(rows));
    completeMs.push(now() - t);
    const items = Array.from({ length: batch }, (_, i) => ({ topic: "bench.other", payload: { i } }));
    t = now();
    await tl.enqueueMany(items);
    enqueueManyMs.push(now() - t);
  }
  // The insert statement alone (what enqueueMany sends), timed inside the driver call, so the
  // JavaScript around it (validation, parameter arrays, building the returned tasks) is apart.
  let lastInsertParams: unknown[] = [];
  let lastInsertQuery = "TaskInsertMany";
  const timedDriver: Executor = {
    async query<R>(q: Query, params: readonly unknown[] = []) {
      lastInsertParams = [...params];
      lastInsertQuery = q.name.replace(/^tl_.*?_(Task\w+)$/, "$1");
      const t = now();
      const rows = await driver.query<R>(q, params);
      insertMs.push(now() - t);
      return rows;
    },
    exec: (script: string) => driver.exec(script),
  };
  for (let r = 0; r < repeat; r++) {
    const inputs = Array.from({ length: batch }, (_, i) => taskInput("bench.other", { i }, {}, 4 * 2 ** 20));
    const t = now();
    await insertTasks(timedDriver, queries, inputs, tl.engine.definitions);
    insertTotalMs.push(now() - t);
  }
  const row = (what: string, xs: number[]) => console.log(`${what.padEnd(44)} median ${round(median(xs), 2)} ms  → ${Math.round((batch / median(xs)!) * 1000).toLocaleString("en-US")} rows/s`);
  row(`TaskClaim (${batch}) via driver`, claimMs);
  // The claim the worker makes where answers are cheaper as JSON (PGlite): the same statement,
  // each row one JSON text, timed with the parsing of that text.
  if (driver.capabilities.rowsAsJson) {
    const jsonMs: number[] = [];
    for (let r = 0; r < repeat; r++) {
      const t = now();
      const rows = (await driver.query<{ j: string }>(queries.get("TaskClaimJson"), claimParams(batch))).map((x) => JSON.parse(x.j) as Record<string, unknown>);
      jsonMs.push(now() - t);
      await driver.query(queries.get("TaskCompleteMany"), completion(rows));
    }
    row(`TaskClaimJson (${batch}) via driver, parsed`, jsonMs);
  }
  row(`TaskCompleteMany (${batch}) via driver`, completeMs);
  row(`TaskInsertMany (${batch}) via driver`, insertMs);
  row(`insertTasks (${batch}) incl. JS around it`, insertTotalMs);
  row(`enqueueMany (${batch}) end to end`, enqueueManyMs);
  // The same claim and completion with the task table's user triggers disabled (the process
  // trigger is a statement trigger with transition tables: it fires on every UPDATE of task).
  const triggers = db.kind === "pg" || db.kind === "pglite"
    ? await db.sql<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE tgrelid = '"${tl.schema}".task'::regclass AND NOT tgisinternal`)
    : [];
  if (triggers.length) {
    await db.sql(`ALTER TABLE "${tl.schema}".task DISABLE TRIGGER USER`);
    const c2: number[] = [];
    const d2: number[] = [];
    for (let r = 0; r < repeat; r++) {
      let t = now();
      const rows = await driver.query<Record<string, unknown>>(queries.get("TaskClaim"), claimParams(batch));
      c2.push(now() - t);
      t = now();
      await driver.query(queries.get("TaskCompleteMany"), completion(rows));
      d2.push(now() - t);
    }
    await db.sql(`ALTER TABLE "${tl.schema}".task ENABLE TRIGGER USER`);
    console.log(`without trigger(s) ${triggers.map((x) => x.tgname).join(", ")}:`);
    row(`TaskClaim (${batch}) via driver`, c2);
    row(`TaskCompleteMany (${batch}) via driver`, d2);
  }
  console.log();
  const ids = lastClaim.map((x) => x.id);
  const claimed = await driver.query<Record<string, unknown>>(queries.get("TaskClaim"), claimParams(batch));
  await explain(`TaskCompleteMany, ${batch} rows`, "TaskCompleteMany", completion(claimed));
  // The statement enqueueMany picked (TaskInsertUniform for a batch like this one).
  await explain(`${lastInsertQuery}, ${batch} rows`, lastInsertQuery, lastInsertParams);
  void ids;
} finally {
  await db.close();
  await server?.stop();
}

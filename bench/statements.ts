/**
 * The drain's ceiling in the engine's own statements: `TaskClaim` and `TaskCompleteMany` of 1,000
 * tasks with no worker code around them (no handlers, no attempts, no bookkeeping), so B can be
 * read as a share of what its SQL alone allows on this machine. Four ways to run them:
 *
 * - `sequential`: claim, then complete, on one connection;
 * - `pipelined`: the next claim runs while the last batch's completion does, on two connections
 *   (what the worker does: its claims and completions overlap);
 * - `two-loops`: two independent claim-then-complete loops, on two connections;
 * - `fused`: one statement completes the last batch and claims the next (DESIGN §7's "a batch's
 *   completion and the next claim share one statement"); an experiment built here from the two
 *   statements' texts, not a query the engine has.
 *
 *   node --import tsx bench/statements.ts [--tasks 100000] [--modes sequential,pipelined,two-loops,fused]
 *
 * PostgreSQL only (PGlite has one connection). Each mode runs on a fresh schema with the backlog
 * enqueued and analysed first.
 */
import { parseArgs } from "node:util";
import { openBenchDb, pgServer } from "./lib/db.js";
import { chunks, now } from "./lib/timing.js";

const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "100000" },
    modes: { type: "string", default: "sequential,pipelined,two-loops,fused" },
  },
});
const tasks = Number(values.tasks);
const modes = values.modes.split(",");

type Row = Record<string, unknown>;

const server = await pgServer();
const db = await openBenchDb("pg", server.url);
try {
  for (const mode of modes) {
    const tl = await db.open();
    const { queries, driver } = tl.engine;
    const schema = tl.schema;
    for (const b of chunks(tasks, 1000, (i) => ({ topic: "bench.noop", payload: { i } }))) await tl.enqueueMany(b);
    await db.sql(`VACUUM ANALYZE "${schema}".task`);
    const claimQ = queries.get("TaskClaim");
    const claimParams = [["bench.noop"], [], 1000, "bench-worker", 30_000, null];
    const claim = () => driver.query<Row>(claimQ, claimParams);
    const completion = (rows: Row[]) => [rows.map((r) => r.id), rows.map((r) => r.lease_token), rows.map(() => "null")];
    const complete = (rows: Row[]) => driver.query(queries.get("TaskCompleteMany"), completion(rows));
    // The completion as a CTE the claim's update depends on, so both run in one statement.
    const fused = {
      name: "",
      text: claimQ.text
        .replace("WITH picked AS (", `WITH done AS (SELECT count(*) AS n FROM "${schema}".complete_tasks($7::bigint[], $8::integer[], $9::jsonb[])), picked AS (`)
        .replace("WHERE t.id = picked.id", "WHERE t.id = picked.id AND (SELECT n FROM done) >= 0"),
    };
    let done = 0;
    const started = now();
    if (mode === "sequential") {
      for (let rows = await claim(); rows.length; rows = await claim()) {
        await complete(rows);
        done += rows.length;
      }
    } else if (mode === "pipelined") {
      let writing: Promise<unknown> = Promise.resolve();
      for (let rows = await claim(); rows.length; rows = await claim()) {
        await writing;
        writing = complete(rows);
        done += rows.length;
      }
      await writing;
    } else if (mode === "two-loops") {
      await Promise.all([0, 1].map(async () => {
        for (let rows = await claim(); rows.length; rows = await claim()) {
          await complete(rows);
          done += rows.length;
        }
      }));
    } else if (mode === "fused") {
      let last: Row[] = [];
      do {
        const rows = await driver.query<Row>(fused, [...claimParams, ...completion(last)]);
        done += last.length;
        last = rows;
      } while (last.length);
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
    const ms = now() - started;
    const [left] = await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".task WHERE state <> 'completed'`);
    if (done !== tasks || left!.n !== 0) throw new Error(`${mode}: ${done} completed, ${left!.n} left`);
    console.log(`${mode.padEnd(10)} ${Math.round((tasks / ms) * 1000).toLocaleString("en-US").padStart(8)} tasks/s (${tasks.toLocaleString("en-US")} in ${Math.round(ms)} ms)`);
  }
} finally {
  await db.close();
  await server.stop();
}

/**
 * A node for the multi-process schedule test: it declares the `every-second` schedule, runs a
 * worker (and so joins the maintenance election), and with TL_RACE=1 also runs a cron pass
 * every 50 ms whether or not it leads, as if every node believed it were the leader. Environment:
 * TL_DATABASE, TL_SCHEMA; the test creates `<schema>.executions (tick, pid)`, where the handler
 * records each execution. Prints `ready`, and `claimed <n>` (ticks this node claimed) at SIGTERM.
 */
import pg from "pg";
import { Tasklane, scheduledRun } from "../../src/index.js";
import { silentLogger, type Logger } from "../../src/logger.js";

const { TL_DATABASE: database, TL_SCHEMA: schema, TL_RACE: race } = process.env as Record<string, string>;
let claimed = 0;
// Counts the ticks this node's leader passes claimed (the cron service logs them at debug).
const logger: Logger = {
  ...silentLogger,
  debug: (obj: unknown, msg?: string) => {
    if (msg === "cron pass") claimed += (obj as { runs: number }).runs;
  },
};
const tl = await Tasklane.open({ database, schema, logger, maintenance: { intervalMs: 100, leaderTermMs: 1_000 } });
const pool = new pg.Pool({ connectionString: database, max: 2 });

tl.define("tick", async (task) => {
  await pool.query(`INSERT INTO ${schema}.executions (tick, pid) VALUES ($1, $2)`, [scheduledRun(task)!.tickAt, process.pid]);
  return { pid: process.pid };
});
tl.schedule("every-second", { cron: "* * * * * *", topic: "tick", overlap: "allow" });
await tl.syncSchedules();
await tl.worker({ concurrency: 5, pollIntervalMs: 50 }).start();

const racer = race === "1"
  ? setInterval(() => {
      tl.maintenance!.services.cron.evaluate().then((s) => (claimed += s.runs), () => undefined);
    }, 50)
  : undefined;
console.log("ready");

process.on("SIGTERM", async () => {
  clearInterval(racer);
  await tl.close({ graceMs: 5_000 });
  await pool.end();
  console.log(`claimed ${claimed}`);
  process.exit(0);
});

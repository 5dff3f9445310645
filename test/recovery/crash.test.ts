/**
 * What users trust a task engine for, tested by really crashing things: SIGKILL, SIGSTOP and a
 * PostgreSQL restart, with worker processes on one PostgreSQL server.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { Tasklane } from "../../src/index.js";
import { silentLogger } from "../../src/logger.js";
import { deferred, freshSchema, until } from "../support/backends.js";
import { spawnTs, type Child } from "../support/children.js";
import { startPgCluster } from "../support/pg-cluster.js";

const url = inject("pgUrl");
const children: Child[] = [];
const worker = (database: string, schema: string, env: Record<string, string> = {}) => {
  const child = spawnTs("test/fixtures/recovery-worker.ts", { TL_DATABASE: database, TL_SCHEMA: schema, ...env });
  children.push(child);
  return child;
};

afterEach(async () => {
  for (const c of children.splice(0)) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill("SIGKILL");
});

async function count(tl: Tasklane, sql: string): Promise<number> {
  const [row] = await tl.engine.driver.query<{ n: number }>({ name: "", text: sql });
  return Number(row!.n);
}

/** Three recording workers on `schema`, ready; `runs` and `accepted` get a row per handler run and per accepted completion. */
async function recordingPool(tl: Tasklane, schema: string, env: Record<string, string>): Promise<Child[]> {
  await tl.engine.driver.exec(`
    CREATE TABLE ${schema}.runs (task_id bigint NOT NULL, pid integer NOT NULL);
    CREATE TABLE ${schema}.accepted (task_id bigint NOT NULL, pid integer NOT NULL);`);
  const pool = [worker(url!, schema, env), worker(url!, schema, env), worker(url!, schema, env)];
  await Promise.all(pool.map((w) => w.waitFor(/^ready$/)));
  return pool;
}

/** SIGKILLs a random worker of `pool` every second and starts a new one, while `busy()` holds; answers the kills. */
async function killWhile(pool: Child[], busy: () => Promise<boolean>, env: Record<string, string>, schema: string, maxKills: number): Promise<number> {
  let kills = 0;
  while (await busy()) {
    if (kills >= maxKills) throw new Error(`not drained after ${maxKills} kills`);
    await new Promise((r) => setTimeout(r, 1000));
    const victim = Math.floor(Math.random() * pool.length);
    pool[victim]!.process.kill("SIGKILL");
    await pool[victim]!.exited;
    kills++;
    pool[victim] = worker(url!, schema, env);
    await pool[victim]!.waitFor(/^ready$/);
  }
  return kills;
}

/** Every one of `n` tasks completed and ran (at least once, fenced); none had two accepted completions. Stops the pool. */
async function expectEachOnce(tl: Tasklane, schema: string, n: number, pool: Child[]): Promise<void> {
  expect(await count(tl, `SELECT count(*)::int AS n FROM ${schema}.task WHERE state <> 'completed'`)).toBe(0);
  expect(await count(tl, `SELECT count(*)::int AS n FROM ${schema}.task`)).toBe(n);
  expect(await count(tl, `SELECT count(DISTINCT task_id)::int AS n FROM ${schema}.runs`)).toBe(n);
  expect(await count(tl, `SELECT count(*)::int AS n FROM (SELECT task_id FROM ${schema}.accepted GROUP BY task_id HAVING count(*) > 1) d`)).toBe(0);
  for (const w of pool) w.process.kill("SIGTERM");
  await Promise.all(pool.map((w) => w.exited));
}

describe.skipIf(!url)("crash recovery on PostgreSQL", () => {
  it("chaos: 3 workers drain 5,000 tasks while one is SIGKILLed and restarted every second", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, maintenance: { intervalMs: 100 } });
    try {
      const env = { TL_HANDLER_MS: "20", TL_CONCURRENCY: "10", TL_LEASE_MS: "600", TL_RECORD: "1", TL_MAINTENANCE: "0" };
      tl.startMaintenance();
      const pool = await recordingPool(tl, schema, env);
      for (let i = 0; i < 5; i++) await tl.enqueueMany(Array.from({ length: 1000 }, () => ({ topic: "job" })));
      const done = () => count(tl, `SELECT count(*)::int AS n FROM ${schema}.task WHERE state = 'completed'`);
      const kills = await killWhile(pool, async () => (await done()) < 5000, env, schema, 30);
      expect(kills).toBeGreaterThan(0);
      // Every task ran at least once; some ran again after a kill (at least once, fenced); none
      // had two accepted completions.
      await expectEachOnce(tl, schema, 5000, pool);
    } finally {
      await tl.close();
    }
  }, 120_000);

  it("chaos with handoff: 1,500 single enqueues while a worker is SIGKILLed every second; none lost, none accepted twice", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, maintenance: { intervalMs: 100 } });
    try {
      const env = { TL_HANDLER_MS: "5", TL_CONCURRENCY: "4", TL_LEASE_MS: "600", TL_RECORD: "1", TL_MAINTENANCE: "0" };
      tl.startMaintenance();
      const pool = await recordingPool(tl, schema, env);
      let enqueued = 0;
      let handedOff = 0;
      // 5 producers of single enqueues: idle workers get most of them handed off.
      const producer = Promise.all(Array.from({ length: 5 }, async () => {
        while (enqueued < 1500) {
          enqueued++;
          if ((await tl.enqueue("job", null)).state === "running") handedOff++;
        }
      }));
      const done = () => count(tl, `SELECT count(*)::int AS n FROM ${schema}.task WHERE state = 'completed'`);
      await killWhile(pool, async () => enqueued < 1500 || (await done()) < 1500, env, schema, 40);
      await producer;
      expect(handedOff).toBeGreaterThan(0);
      await expectEachOnce(tl, schema, 1500, pool);
    } finally {
      await tl.close();
    }
  }, 120_000);

  it("a worker SIGKILLed with an open offer gets no handoff once its connection is gone", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, maintenance: false });
    try {
      const victim = worker(url!, schema, { TL_MAINTENANCE: "0" });
      const id = (await victim.waitFor(/^worker /)).slice("worker ".length);
      await victim.waitFor(/^ready$/);
      const offer = () => tl.engine.driver.query<{ offer_slots: number; offer_pid: number }>({ name: "", text: `SELECT offer_slots, offer_pid FROM ${schema}.worker WHERE id = $1` }, [id]);
      const [open] = await until("the victim's offer", async () => ((await offer())[0]!.offer_slots > 0 ? offer() : undefined));
      victim.process.kill("SIGKILL");
      await victim.exited;
      await until("its listener's server process to exit", async () =>
        (await tl.engine.driver.query({ name: "", text: "SELECT 1 FROM pg_stat_activity WHERE pid = $1" }, [open!.offer_pid])).length === 0);
      // The offer is still open in the table (nobody closed it), but nothing is handed to a dead worker.
      expect((await offer())[0]!.offer_slots).toBeGreaterThan(0);
      tl.define("job", async () => null);
      const task = await tl.enqueue("job", null);
      expect(task.state).toBe("ready");
    } finally {
      await tl.close();
    }
  }, 60_000);

  it("a worker frozen (SIGSTOP) past its lease loses the task; its late result is rejected", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, maintenance: { intervalMs: 100, workerLostAfterMs: 400 } });
    try {
      const frozen = worker(url!, schema, { TL_HANDLER_MS: "1500", TL_LEASE_MS: "500", TL_MAINTENANCE: "0" });
      await frozen.waitFor(/^ready$/);
      const task = await tl.enqueue("job", null);
      await frozen.waitFor(new RegExp(`^started ${task.id}$`));
      frozen.process.kill("SIGSTOP");
      const crashed = deferred<string>();
      tl.define("job", async () => ({ by: "rerun" }), { onExit: (_t, outcome) => outcome === "crashed" && crashed.resolve(outcome) });
      tl.startMaintenance();
      expect(await crashed.promise).toBe("crashed");
      await tl.worker({ pollIntervalMs: 50 }).start();
      await until("the re-run", async () => (await tl.getTask(task.id))?.state === "completed");
      await until("the frozen worker marked lost", async () => (await tl.listWorkers()).some((w) => w.pid === frozen.process.pid && w.state === "lost"));
      frozen.process.kill("SIGCONT");
      await frozen.waitFor(new RegExp(`^lost ${task.id} `));
      expect(await tl.getTask(task.id)).toMatchObject({ state: "completed", result: { by: "rerun" }, attempt: 2 });
      const history = await tl.getTaskHistory(task.id);
      expect(history.attempts).toMatchObject([{ attempt: 1, outcome: "lease_expired" }]);
      expect(history.events.map((e) => e.kind)).toContain("TASK_HEARTBEAT_TIMEOUT");
    } finally {
      await tl.close();
    }
  }, 60_000);

  it("cancel on one process aborts the handler on another within a second", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, maintenance: false });
    try {
      const remote = worker(url!, schema, { TL_HANDLER_MS: "60000" });
      await remote.waitFor(/^ready$/);
      const task = await tl.enqueue("job", null);
      await remote.waitFor(new RegExp(`^started ${task.id}$`));
      const t0 = Date.now();
      await tl.cancel(task.id, { actor: "test" });
      await remote.waitFor(new RegExp(`^aborted ${task.id} .*cancelled`), 1_000);
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(await tl.getTask(task.id)).toMatchObject({ state: "cancelled", result: null });
      remote.process.kill("SIGTERM");
      expect(await remote.exited).toBe(0);
    } finally {
      await tl.close();
    }
  }, 60_000);
});

describe.skipIf(!url)("a PostgreSQL restart mid-run", () => {
  it("workers reconnect on their own and finish; nothing is lost", async () => {
    const cluster = await startPgCluster();
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: cluster.url, schema, logger: silentLogger, maintenance: false });
    try {
      const w = worker(cluster.url, schema, { TL_HANDLER_MS: "5", TL_LEASE_MS: "2000" });
      await w.waitFor(/^ready$/);
      for (let i = 0; i < 4; i++) await tl.enqueueMany(Array.from({ length: 1000 }, () => ({ topic: "job" })));
      await w.waitFor(/^started /);
      await cluster.pgStop("fast");
      await cluster.pgStart();
      await until("all 4,000 completed", async () => {
        if (w.process.exitCode !== null || w.process.signalCode !== null) throw new Error(`the worker died: ${w.stderr()}`);
        try {
          return (await count(tl, `SELECT count(*)::int AS n FROM ${schema}.task WHERE state = 'completed'`)) === 4000;
        } catch {
          return false; // our own pool reconnects too
        }
      }, 150_000);
      expect(await count(tl, `SELECT count(*)::int AS n FROM ${schema}.task`)).toBe(4000);
      w.process.kill("SIGTERM");
      expect(await w.exited).toBe(0);
    } finally {
      await tl.close();
      await cluster.stop();
    }
  }, 200_000);
});

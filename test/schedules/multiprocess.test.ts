/**
 * Exactly one run per tick across processes, on real wall-clock seconds: three processes on one
 * PostgreSQL database declare the same every-second schedule and all race to claim every tick.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { Tasklane } from "../../src/index.js";
import { silentLogger } from "../../src/logger.js";
import { freshSchema, until } from "../support/backends.js";
import { spawnTs, type Child } from "../support/children.js";

const url = inject("pgUrl");
const children: Child[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill("SIGKILL");
});

describe.skipIf(!url)("cron across processes on PostgreSQL", () => {
  it("three processes, one every-second schedule: one run per tick, no duplicates, no gaps", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, maintenance: false });
    const rows = async <R>(sql: string) => tl.engine.driver.query<R>({ name: "", text: sql });
    try {
      await tl.engine.driver.exec(`CREATE TABLE ${schema}.executions (tick timestamptz NOT NULL, pid integer NOT NULL)`);
      const nodes = [1, 2, 3].map(() => spawnTs("test/schedules/cron-node.ts", { TL_DATABASE: url!, TL_SCHEMA: schema, TL_RACE: "1" }));
      children.push(...nodes);
      await Promise.all(nodes.map((n) => n.waitFor(/^ready$/)));
      const started = Date.now();

      // Real seconds are the point here: let the schedule tick for a window of about six.
      await until("six runs", async () => (await tl.getSchedule("every-second"))!.runs >= 6, 20_000);
      await tl.pauseSchedule("every-second", { actor: "test" });
      const pausedAt = Date.now();
      await until("every run finished", async () => {
        const [r] = await rows<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.task WHERE state <> 'completed'`);
        return r!.n === 0;
      });
      for (const n of nodes) n.process.kill("SIGTERM");
      const claimedLines = await Promise.all(nodes.map((n) => n.waitFor(/^claimed \d+$/)));
      expect(await Promise.all(nodes.map((n) => n.exited))).toEqual([0, 0, 0]);

      const ticks = (await rows<{ tick_at: Date }>(`SELECT tick_at FROM ${schema}.schedule_run ORDER BY tick_at`)).map((r) => r.tick_at.getTime());
      expect(ticks.length).toBeGreaterThanOrEqual(6);
      // No gaps: every second from the first tick to the last has its run.
      expect(ticks).toEqual(Array.from({ length: ticks.length }, (_, i) => ticks[0]! + i * 1000));
      expect(ticks[0]!).toBeLessThanOrEqual(started + 1_000);
      expect(ticks.at(-1)!).toBeGreaterThanOrEqual(pausedAt - 2_500); // ticks ran until the pause
      // One task per tick, each executed once, and every claim counted once across the nodes.
      const [tasks] = await rows<{ n: number; keys: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT key)::int AS keys FROM ${schema}.task WHERE topic = 'tick'`);
      expect(tasks).toEqual({ n: ticks.length, keys: ticks.length });
      const [executions] = await rows<{ n: number; ticks: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT tick)::int AS ticks FROM ${schema}.executions`);
      expect(executions).toEqual({ n: ticks.length, ticks: ticks.length });
      const claimed = claimedLines.map((l) => Number(l.split(" ")[1]));
      expect(claimed.reduce((a, b) => a + b, 0)).toBe(ticks.length);
      const schedule = await tl.getSchedule("every-second", { events: 1000 });
      expect(schedule!.runs).toBe(ticks.length);
      expect(schedule!.events.map((e) => e.kind).filter((k) => k !== "CREATED" && k !== "PAUSED")).toEqual([]);
    } finally {
      await tl.close();
    }
  }, 60_000);
});

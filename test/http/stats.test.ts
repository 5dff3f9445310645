/**
 * The counts behind GET /stats and /metrics: exact below the cap on completed tasks, the
 * planner's estimate above it, so a long history does not make the request slow.
 */
import { expect, it } from "vitest";
import { adHoc } from "../../src/db/queries.js";
import { completedCountCap, readStats } from "../../src/server/stats.js";
import { describeBackends } from "../support/backends.js";

describeBackends("stats", (backend) => {
  it("counts completed tasks exactly up to the cap, then estimates them without per-topic counts", async () => {
    const tl = await backend.open();
    const n = completedCountCap + 50;
    for (let i = 0; i < n; i += 5_000) {
      await tl.enqueueMany(Array.from({ length: Math.min(5_000, n - i) }, (_, j) => ({ topic: (i + j) % 2 ? "odd" : "even" })));
    }
    await tl.enqueue("live", null);
    const exact = await readStats(tl.engine);
    expect(exact).toMatchObject({ completedEstimated: false, tasks: { ready: n + 1, completed: 0 } });
    const { driver } = tl.engine;
    await driver.query(adHoc(`UPDATE ${tl.schema}.task SET state = 'completed', finished_at = now() WHERE topic <> 'live'`));
    await driver.query(adHoc(`ANALYZE ${tl.schema}.task`));
    const estimated = await readStats(tl.engine);
    expect(estimated.completedEstimated).toBe(true);
    expect(estimated.tasks.ready).toBe(1);
    // ANALYZE samples; on a table this small it reads every row, but leave the planner room.
    expect(estimated.tasks.completed).toBeGreaterThanOrEqual(completedCountCap);
    expect(estimated.tasks.completed).toBeLessThan(n * 1.2);
    expect(estimated.topics).toEqual({ live: { ready: 1 } });
    await driver.query(adHoc(`UPDATE ${tl.schema}.task SET state = 'failed' WHERE id IN (SELECT id FROM ${tl.schema}.task WHERE topic <> 'live' LIMIT 100)`));
    const mixed = await readStats(tl.engine);
    expect(mixed.completedEstimated).toBe(false);
    expect(mixed.tasks).toMatchObject({ completed: n - 100, failed: 100 });
    expect(mixed.topics.even!.completed! + mixed.topics.odd!.completed!).toBe(n - 100);
  }, 120_000);
});

import { afterEach, describe, expect, inject, it } from "vitest";
import { Tasklane } from "../src/index.js";
import { silentLogger } from "../src/logger.js";
import { migrations } from "../src/db/migrator.js";
import { freshSchema, until } from "./support/backends.js";
import { spawnTs, type Child } from "./support/children.js";

const url = inject("pgUrl");
const children: Child[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.process.exitCode === null) c.process.kill("SIGKILL");
});

describe.skipIf(!url)("several processes on one PostgreSQL database", () => {
  it("five processes open one fresh schema at once: all succeed, migrations applied once", async () => {
    const schema = freshSchema();
    const opens = Array.from({ length: 5 }, () => spawnTs("test/fixtures/worker.ts", { TL_DATABASE: url!, TL_SCHEMA: schema, TL_MODE: "open" }));
    children.push(...opens);
    expect(await Promise.all(opens.map((c) => c.exited))).toEqual([0, 0, 0, 0, 0]);
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, migrate: false });
    const rows = await tl.engine.driver.query<{ version: number }>({ name: "", text: `SELECT version FROM ${schema}.migration` });
    expect(rows.map((r) => Number(r.version)).sort((a, b) => a - b)).toEqual(migrations().map((m) => m.version));
    await tl.close();
  });

  it("four worker processes drain 20,000 tasks, each run exactly once", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger });
    try {
      await tl.engine.driver.exec(`CREATE TABLE ${schema}.runs (task_id bigint NOT NULL, pid integer NOT NULL)`);
      const workers = Array.from({ length: 4 }, () => spawnTs("test/fixtures/worker.ts", { TL_DATABASE: url!, TL_SCHEMA: schema, TL_MODE: "drain" }));
      children.push(...workers);
      await Promise.all(workers.map((w) => w.waitFor(/^ready$/)));
      for (let i = 0; i < 20; i++) {
        await tl.enqueueMany(Array.from({ length: 1000 }, (_, j) => ({ topic: "count", payload: { n: i * 1000 + j } })));
      }
      const count = async (sql: string) => Number((await tl.engine.driver.query<{ n: number }>({ name: "", text: sql }))[0]!.n);
      await until("20,000 completed", async () => (await count(`SELECT count(*)::int AS n FROM ${schema}.task WHERE state = 'completed'`)) === 20_000, 120_000);
      expect(await count(`SELECT count(*)::int AS n FROM ${schema}.task WHERE state <> 'completed'`)).toBe(0);
      expect(await count(`SELECT count(*)::int AS n FROM ${schema}.runs`)).toBe(20_000);
      expect(await count(`SELECT count(DISTINCT task_id)::int AS n FROM ${schema}.runs`)).toBe(20_000);
      // Every process took part: the claim is shared, not won by one.
      expect(await count(`SELECT count(DISTINCT pid)::int AS n FROM ${schema}.runs`)).toBe(4);
      for (const w of workers) w.process.kill("SIGTERM");
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0, 0]);
    } finally {
      await tl.close();
    }
  }, 180_000);
});

describe("one process on PGlite", () => {
  it("refuses to open a schema without migrations when migrate is false", async () => {
    const err = await Tasklane.open({ database: "memory://", logger: silentLogger, migrate: false }).catch((e) => e);
    expect(err.code).toBe("MIGRATION");
    expect(err.message).toContain("tasklane migrate --print");
  });
});

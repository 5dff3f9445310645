import { access } from "node:fs/promises";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { findPgBin, startPgCluster } from "./pg-cluster.js";

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

// Without PostgreSQL the suite is skipped locally, but in CI it must run: there
// startPgCluster() then fails with its "install PostgreSQL" message.
describe.skipIf(!findPgBin() && !process.env.CI)("startPgCluster", () => {
  it("serves queries, survives pgStop/pgStart and cleans up", { timeout: 120_000 }, async () => {
    const cluster = await startPgCluster();
    try {
      expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
      expect((await query(cluster.url, "select 1 as one")).rows).toEqual([{ one: 1 }]);

      // Default durability settings, so benchmarks measure what users get.
      const settings = await query(
        cluster.url,
        "select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'max_connections') order by name",
      );
      expect(settings.rows).toEqual([
        { name: "fsync", setting: "on" },
        { name: "max_connections", setting: "200" },
        { name: "synchronous_commit", setting: "on" },
      ]);

      await query(cluster.url, "create table kept (v int); insert into kept values (42)");
      await cluster.pgStop();
      await expect(query(cluster.url, "select 1")).rejects.toThrow();
      await cluster.pgStart();
      expect((await query(cluster.url, "select v from kept")).rows).toEqual([{ v: 42 }]);

      await cluster.restart();
      expect((await query(cluster.url, "select 1 as one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await cluster.stop();
    }
    await cluster.stop(); // idempotent
    await expect(access(cluster.dataDir)).rejects.toThrow();
    await expect(query(cluster.url, "select 1")).rejects.toThrow();
  });
});

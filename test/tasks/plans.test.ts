/**
 * The plans of the queries that count tasks in several states at once (GET /stats, back-pressure,
 * Camunda's external-task count). task_state_idx leaves completed, ready and running tasks out
 * (migrations 0016, 0017), so these queries name the ready and running tasks apart and must read
 * task_claim_idx, task_lease_idx and task_state_idx together, never the table with its history. The table is loaded and analysed
 * as a busy deployment's would be: a long history, a backlog, a few failures.
 */
import { expect, it } from "vitest";
import type { Tasklane } from "../../src/index.js";
import { adHoc } from "../../src/db/queries.js";
import { describeBackends } from "../support/backends.js";

/** Inserts `n` tasks in `state` with one statement (the shape of the rows does not matter here). */
async function insertRows(tl: Tasklane, n: number, state: string): Promise<void> {
  await tl.engine.driver.query(
    adHoc(`INSERT INTO "${tl.schema}".task (topic, state, run_at, max_attempts, backoff, backoff_initial_ms, backoff_max_ms, backoff_jitter)
           SELECT 't' || (g % 3), $2, now(), 3, 'constant', 1, 1, false FROM generate_series(1, $1::integer) AS g`),
    [n, state],
  );
}

/** The plan of a named query with these parameters, as text. */
async function plan(tl: Tasklane, name: string, params: unknown[]): Promise<string> {
  const rows = await tl.engine.driver.query<Record<string, string>>(adHoc(`EXPLAIN ${tl.engine.queries.get(name).text}`), params);
  return rows.map((r) => Object.values(r)[0]).join("\n");
}

describeBackends("the plans of the multi-state counts", (backend) => {
  it("read task_claim_idx, task_lease_idx and task_state_idx, not the table", async () => {
    const tl = await backend.open({ maintenance: false });
    await insertRows(tl, 50_000, "completed");
    await insertRows(tl, 2_000, "ready");
    await insertRows(tl, 50, "failed");
    await insertRows(tl, 20, "running");
    await tl.engine.driver.query(adHoc(`ANALYZE "${tl.schema}".task`));
    const external = [null, null, false, false, false, false, false, false, null, null, null, null, null];
    for (const [name, params] of [["TaskStatsLive", []], ["CountUnfinished", [["t1"]]], ["ExternalCount", external]] as const) {
      const text = await plan(tl, name, [...params]);
      expect(text, name).not.toContain("Seq Scan");
      expect(text, name).toContain("task_claim_idx");
      expect(text, name).toContain("task_lease_idx");
      expect(text, name).toContain("task_state_idx");
    }
    // And the counts are right, the ready and running tasks counted through their own indexes.
    const live = await tl.engine.driver.query<{ state: string; n: string }>(tl.engine.queries.get("TaskStatsLive"));
    const byState: Record<string, number> = {};
    for (const row of live) byState[row.state] = (byState[row.state] ?? 0) + Number(row.n);
    expect(byState).toEqual({ ready: 2_000, failed: 50, running: 20 });
    const [unfinished] = await tl.engine.driver.query<{ total: number }>(tl.engine.queries.get("CountUnfinished"), [["t1"]]);
    expect(unfinished!.total).toBe(2_020);
  });
});

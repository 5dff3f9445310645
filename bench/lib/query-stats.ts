/**
 * Per-statement counts and time, for finding what dominates a scenario: wraps the driver's
 * `query` of a Tasklane instance. Enabled with `TASKLANE_BENCH_QUERY_STATS=1`; the result JSON then
 * carries `query_stats` (the producer's instance and, on PostgreSQL, the worker process's). Time is
 * measured around the call, so on PGlite (one connection) it includes waiting for the connection.
 */
import type { Tasklane } from "./library.js";
import { now, round } from "./timing.js";

export const queryStatsEnabled = (): boolean => process.env.TASKLANE_BENCH_QUERY_STATS === "1";

export type QueryStats = Record<string, { calls: number; ms: number; rows: number }>;

export function instrument(tl: Tasklane): () => QueryStats {
  const stats: QueryStats = {};
  const driver = tl.engine.driver as { query: (q: { name: string; text: string }, p?: readonly unknown[]) => Promise<unknown[]> };
  const original = driver.query.bind(driver);
  driver.query = async (q, p) => {
    const key = q.name.replace(/^tl_[a-z0-9_]+?_(?=[A-Z])/, "") || q.text.slice(0, 40);
    const t = now();
    try {
      const rows = await original(q, p);
      const s = (stats[key] ??= { calls: 0, ms: 0, rows: 0 });
      s.calls++;
      s.ms += now() - t;
      s.rows += rows.length;
      return rows;
    } catch (err) {
      (stats[key] ??= { calls: 0, ms: 0, rows: 0 }).calls++;
      throw err;
    }
  };
  return () => Object.fromEntries(Object.entries(stats).sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => [k, { ...v, ms: round(v.ms, 1)! }]));
}

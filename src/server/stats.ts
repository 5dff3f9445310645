/**
 * Counts for operators (`GET /stats`, the `/metrics` gauges) and the readiness check, read with
 * the named queries of `sql/queries/ops.sql`.
 *
 * @module
 */
import { migrations } from "../db/migrator.js";
import type { Engine } from "../tasklane.js";
import { taskStates, type TaskState } from "../task.js";

/** Completed tasks are counted exactly up to this many; beyond it the planner's estimate is used. */
export const completedCountCap = 10_000;

/** What `GET /stats` answers. */
export interface TaskStats {
  /** Tasks by state (every state present; `completed` may be an estimate). */
  tasks: Record<TaskState, number>;
  /** Whether `tasks.completed` is an estimate (more than {@link completedCountCap} completed tasks). */
  completedEstimated: boolean;
  /** Tasks by topic and state; `completed` only when counted exactly. */
  topics: Record<string, Partial<Record<TaskState, number>>>;
  /** Processes that are not completed, by state. */
  processes: Record<string, number>;
  at: Date;
}

type Db = Pick<Engine, "driver" | "queries">;

/** Reads the counts: a few grouped scans of the unfinished tasks and a bounded count of the rest. */
export async function readStats({ driver, queries }: Db): Promise<TaskStats> {
  const [live, [completed], processRows] = await Promise.all([
    driver.query<{ topic: string; state: TaskState; n: string | number }>(queries.get("TaskStatsLive")),
    driver.query<{ counted: string | number; table_estimate: number | null }>(queries.get("TaskStatsCompleted"), [completedCountCap]),
    driver.query<{ state: string; n: string | number }>(queries.get("ProcessStats")),
  ]);
  const tasks = Object.fromEntries(taskStates.map((s) => [s, 0])) as Record<TaskState, number>;
  const topics: TaskStats["topics"] = {};
  const add = (topic: string, state: TaskState, n: number) => {
    tasks[state] += n;
    (topics[topic] ??= {})[state] = n;
  };
  for (const r of live) add(r.topic, r.state, Number(r.n));
  const counted = Number(completed?.counted ?? 0);
  const completedEstimated = counted >= completedCountCap;
  if (completedEstimated) {
    const liveTotal = live.reduce((sum, r) => sum + Number(r.n), 0);
    // reltuples counts every row (and is -1 before the first ANALYZE): the capped count is a floor.
    tasks.completed = Math.max(counted, Math.round(Number(completed?.table_estimate ?? 0)) - liveTotal);
  } else if (counted > 0) {
    const byTopic = await driver.query<{ topic: string; n: string | number }>(queries.get("TaskStatsCompletedByTopic"));
    for (const r of byTopic) add(r.topic, "completed", Number(r.n));
  }
  const processes = Object.fromEntries(processRows.map((r) => [r.state, Number(r.n)]));
  return { tasks, completedEstimated, topics, processes, at: new Date() };
}

/**
 * Why the instance cannot serve, or null when it can: the database answers and has every
 * migration this release ships.
 */
export async function notReadyReason({ driver, queries }: Db, expected: readonly number[]): Promise<{ message: string; missing?: number[] } | null> {
  let applied: Set<number>;
  try {
    const rows = await driver.query<{ version: number | string }>(queries.get("MigrationVersions"));
    applied = new Set(rows.map((r) => Number(r.version)));
  } catch {
    return { message: "the database does not answer" };
  }
  const missing = expected.filter((v) => !applied.has(v));
  return missing.length ? { message: `the database lacks migrations ${missing.join(", ")}`, missing } : null;
}

/** The migration versions this release ships (read once: they are files in the package). */
export function shippedVersions(): number[] {
  return migrations().map((m) => m.version);
}

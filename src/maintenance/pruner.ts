/**
 * Retention: deletes finished tasks and processes past their age (and plain tasks beyond a
 * count), in batches of {@link BATCH} rows with SKIP LOCKED, so it never holds long locks.
 *
 * @internal
 * @module
 */
import { PeriodicService, drainBatches } from "./service.js";
import type { Engine } from "../tasklane.js";

const BATCH = 1_000;
const DAY = 24 * 60 * 60 * 1000;

/** How long finished work is kept. */
export interface RetentionConfig {
  /** Completed tasks and processes, in ms after they finished (default 7 days). */
  completedMs: number;
  /** Failed, cancelled, expired and timed-out ones (default 30 days: they are what operators look at). */
  failedMs: number;
  /** Keep at most this many finished plain tasks (default: no count limit). */
  maxFinished?: number | undefined;
}

/** The defaults of {@link RetentionConfig}. */
export const defaultRetention: RetentionConfig = { completedMs: 7 * DAY, failedMs: 30 * DAY };

/** What a prune deleted (or, dry, would delete). */
export interface PruneReport {
  tasks: number;
  processes: number;
  /** Steps deleted with their processes (0 in a dry run: counted with `processes`). */
  steps: number;
  beyondCount: number;
}

/** @internal */
export class Pruner extends PeriodicService {
  readonly name = "pruner";

  constructor(engine: Engine, intervalMs: number, private readonly retention: RetentionConfig) {
    super(engine, intervalMs);
  }

  protected async pass(): Promise<void> {
    const report = await this.prune();
    const total = report.tasks + report.processes + report.beyondCount;
    if (total) this.engine.logger.info(report, "pruned finished work");
  }

  /** Deletes what retention says should go and reports it. */
  async prune(): Promise<PruneReport> {
    const { driver, queries } = this.engine;
    const { completedMs, failedMs, maxFinished } = this.retention;
    const report: PruneReport = { tasks: 0, processes: 0, steps: 0, beyondCount: 0 };
    await drainBatches(async () => {
      const [row] = await driver.query<{ deleted: number }>(queries.get("PruneTasks"), [completedMs, failedMs, BATCH]);
      report.tasks += row!.deleted;
      return Array.from({ length: row!.deleted });
    }, BATCH, () => undefined);
    await drainBatches(async () => {
      const [row] = await driver.query<{ deleted: number; steps: number }>(queries.get("PruneProcesses"), [completedMs, failedMs, BATCH]);
      report.processes += row!.deleted;
      report.steps += row!.steps;
      return Array.from({ length: row!.deleted });
    }, BATCH, () => undefined);
    if (maxFinished !== undefined) {
      await drainBatches(async () => {
        const [row] = await driver.query<{ deleted: number }>(queries.get("PruneBeyondCount"), [maxFinished, BATCH]);
        report.beyondCount += row!.deleted;
        return Array.from({ length: row!.deleted });
      }, BATCH, () => undefined);
    }
    return report;
  }

  /** What {@link prune} would delete now, without deleting anything. */
  async dryRun(): Promise<PruneReport> {
    const { driver, queries } = this.engine;
    const { completedMs, failedMs, maxFinished } = this.retention;
    const count = async (name: string, params: unknown[]) => (await driver.query<{ n: number }>(queries.get(name), params))[0]!.n;
    return {
      tasks: await count("PruneTasksCount", [completedMs, failedMs]),
      processes: await count("PruneProcessesCount", [completedMs, failedMs]),
      steps: 0,
      beyondCount: maxFinished === undefined ? 0 : await count("PruneBeyondCountCount", [maxFinished]),
    };
  }
}

/**
 * Enforces the timeouts no single worker can: `TASK_ENQUEUE_TO_END_TIMEOUT` (a task's deadline
 * across all its attempts, also for tasks nobody runs right now) and
 * `TASK_SCHEDULE_TO_START_TIMEOUT` (a task no worker started in time ends `expired`), waits for
 * events that did not come (`EVENT_TIMEOUT`) and process deadlines (`PROCESS_START_TO_END_TIMEOUT`). Per-attempt
 * timeouts are enforced by the worker running the attempt, and by the rescuer when it died.
 *
 * @internal
 * @module
 */
import { PeriodicService, drainBatches } from "./service.js";

const BATCH = 500;

/** @internal */
export class TimeoutEnforcer extends PeriodicService {
  readonly name = "timeouts";

  protected async pass(): Promise<void> {
    const { driver, queries, logger } = this.engine;
    await drainBatches(() => driver.query(queries.get("TaskExpireDeadlines"), [BATCH]), BATCH, (rows) =>
      logger.warn({ count: rows.length }, "failed tasks past their deadline (TASK_ENQUEUE_TO_END_TIMEOUT)"),
    );
    await drainBatches(() => driver.query(queries.get("TaskExpireUnstarted"), [BATCH]), BATCH, (rows) =>
      logger.warn({ count: rows.length }, "expired tasks not started in time (TASK_SCHEDULE_TO_START_TIMEOUT)"),
    );
    await drainBatches(() => driver.query(queries.get("TaskExpireWaits"), [BATCH]), BATCH, (rows) =>
      logger.warn({ count: rows.length }, "failed tasks whose event did not arrive in time (EVENT_TIMEOUT)"),
    );
    // A timed-out process and the cancellation of its steps commit together.
    await drainBatches(
      () => driver.transaction(async (tx) => {
        const rows = await tx.query<{ id: string }>(queries.get("ProcessExpireDeadlines"), [BATCH]);
        if (rows.length) await tx.query(queries.get("ProcessCancelSteps"), [rows.map((r) => r.id), "PROCESS_START_TO_END_TIMEOUT", "the process did not finish before its deadline"]);
        return rows;
      }),
      BATCH,
      (rows) => logger.warn({ count: rows.length }, "timed out processes past their deadline (PROCESS_START_TO_END_TIMEOUT)"),
    );
  }
}

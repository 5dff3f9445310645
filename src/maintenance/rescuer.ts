/**
 * Ends attempts whose lease expired: the worker that held them crashed, froze or lost its
 * database. Each statement handles at most `BATCH` rows, so it never holds many locks. The
 * topic's `onExit` hook runs with outcome `crashed` on this node when it defines the topic.
 *
 * @internal
 * @module
 */
import { PeriodicService, drainBatches } from "./service.js";
import { runningTaskFromRow } from "../task.js";

const BATCH = 500;

/** @internal */
export class Rescuer extends PeriodicService {
  readonly name = "rescuer";

  protected async pass(): Promise<void> {
    const { driver, queries, definitions, logger } = this.engine;
    await drainBatches(
      () => driver.query<Record<string, unknown>>(queries.get("TaskRescueExpired"), [BATCH]),
      BATCH,
      async (rows) => {
        logger.warn({ count: rows.length, ids: rows.slice(0, 20).map((r) => String(r.id)) }, "rescued tasks whose lease expired");
        for (const row of rows) {
          const onExit = definitions.get(row.topic as string)?.options.onExit;
          if (!onExit) continue;
          try {
            await onExit(runningTaskFromRow(row), "crashed");
          } catch (err) {
            logger.error({ err, taskId: String(row.id) }, "onExit hook threw");
          }
        }
      },
    );
  }
}

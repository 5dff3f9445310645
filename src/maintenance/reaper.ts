/**
 * Keeps the workers registry true: a worker not seen for `lostAfterMs` is marked `lost`
 * (crashed, killed or cut off; its leases expire on their own and the rescuer re-runs its
 * tasks), and stopped or lost workers are forgotten after a day.
 *
 * @internal
 * @module
 */
import { PeriodicService } from "./service.js";
import type { Engine } from "../tasklane.js";

const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

/** @internal */
export class WorkerReaper extends PeriodicService {
  readonly name = "reaper";

  constructor(engine: Engine, intervalMs: number, private readonly lostAfterMs: number) {
    super(engine, intervalMs);
  }

  protected async pass(): Promise<void> {
    const { driver, queries, logger } = this.engine;
    const lost = await driver.query<{ id: string }>(queries.get("WorkerMarkLost"), [this.lostAfterMs]);
    if (lost.length) logger.warn({ workers: lost.map((w) => w.id) }, "workers stopped reporting: marked lost");
    await driver.query(queries.get("WorkerPrune"), [FORGET_AFTER_MS]);
  }
}

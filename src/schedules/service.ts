/**
 * Fires cron schedules: the maintenance leader runs one pass every maintenance interval. Being
 * leader is not what makes a tick run once: the claim on the schedule row is, so a second node
 * that believes it leads (a failover in progress) cannot create a second run.
 *
 * @internal
 * @module
 */
import { PeriodicService } from "../maintenance/service.js";
import type { Engine } from "../tasklane.js";
import type { Schedules } from "./schedules.js";
import type { PassStats } from "./tick.js";

/** The maintenance service that runs the cron pass on the leader. @internal */
export class CronService extends PeriodicService {
  readonly name = "cron";

  constructor(
    engine: Engine,
    intervalMs: number,
    private readonly schedules: Schedules,
  ) {
    super(engine, intervalMs);
  }

  /** The scheduler's clock (shared with the instance's schedule operations); tests replace it. */
  get now(): () => Date {
    return this.schedules.now;
  }

  set now(clock: () => Date) {
    this.schedules.now = clock;
  }

  /**
   * Runs a pass now, beside the timer, and answers what it did; errors are thrown, not logged
   * (tests). A pass running at the same time is harmless: every tick is claimed once.
   */
  evaluate(): Promise<PassStats> {
    return this.schedules.pass();
  }

  protected async pass(): Promise<void> {
    const stats = await this.schedules.pass();
    if (stats.runs || stats.skipped || stats.missed) this.engine.logger.debug({ ...stats }, "cron pass");
  }
}

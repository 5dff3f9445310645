/**
 * The maintenance of one database: leader election plus the services only the leader runs
 * (rescuer, timeout enforcer, worker reaper, cron).
 *
 * @internal
 * @module
 */
import type { Engine } from "../tasklane.js";
import { Leadership } from "./leader.js";
import { Rescuer } from "./rescuer.js";
import { TimeoutEnforcer } from "./timeouts.js";
import { WorkerReaper } from "./reaper.js";
import type { PeriodicService } from "./service.js";
import { Pruner, defaultRetention, type RetentionConfig } from "./pruner.js";
import { CronService } from "../schedules/service.js";
import type { Schedules } from "../schedules/schedules.js";

/** Maintenance settings (the `maintenance` open option). */
export interface MaintenanceConfig {
  /** How often each service runs on the leader (default 1,000 ms). */
  intervalMs: number;
  /** How long a leader's term lasts without renewal: the longest failover (default 10,000 ms). */
  leaderTermMs: number;
  /** A worker not seen for this long is marked lost (default 60,000 ms). */
  workerLostAfterMs: number;
  /** How long finished work is kept (the `retention` open option). */
  retention?: RetentionConfig;
}

/** @internal */
export class Maintenance {
  readonly leadership: Leadership;
  readonly services: { rescuer: Rescuer; timeouts: TimeoutEnforcer; reaper: WorkerReaper; cron: CronService; pruner: Pruner };
  #started = false;

  constructor(engine: Engine, config: MaintenanceConfig, schedules: Schedules) {
    this.services = {
      rescuer: new Rescuer(engine, config.intervalMs),
      timeouts: new TimeoutEnforcer(engine, config.intervalMs),
      reaper: new WorkerReaper(engine, Math.max(config.intervalMs, 1_000), config.workerLostAfterMs),
      cron: new CronService(engine, config.intervalMs, schedules),
      // Pruning is not urgent: once a minute at most, in small batches.
      pruner: new Pruner(engine, Math.max(config.intervalMs, 60_000), config.retention ?? defaultRetention),
    };
    this.leadership = new Leadership(engine, config.leaderTermMs, (leader) => {
      for (const s of this.#all()) {
        if (leader) s.start();
        else void s.stop();
      }
    });
  }

  /** Joins the leader election (idempotent). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.leadership.start();
  }

  /** Leaves the election, handing leadership over, and stops the services. */
  async stop(): Promise<void> {
    await this.leadership.stop();
    await Promise.all(this.#all().map((s) => s.stop()));
  }

  /** Runs every service's pass once, leader or not (tests call it instead of waiting). */
  async runOnce(): Promise<void> {
    for (const s of this.#all()) await s.runOnce();
  }

  #all(): PeriodicService[] {
    return Object.values(this.services);
  }
}

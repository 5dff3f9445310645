/**
 * Ends attempts whose lease expired: the worker that held them crashed, froze or lost its
 * database. Each pass is one statement over at most `batchSize` rows, so it never holds many
 * locks; concurrent rescuers on several nodes skip each other's rows.
 *
 * @internal
 * @module
 */
import type { Engine } from "../tasklane.js";

/** Options of {@link Rescuer}. */
export interface RescuerConfig {
  intervalMs: number;
  batchSize?: number;
}

/** @internal */
export class Rescuer {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly config: RescuerConfig,
  ) {}

  /** Starts the periodic pass (idempotent). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), this.config.intervalMs);
    this.#timer.unref();
  }

  /** One pass until no expired lease is left. Resolves to how many attempts were ended. */
  runOnce(): Promise<void> {
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #pass(): Promise<void> {
    const batch = this.config.batchSize ?? 500;
    try {
      for (;;) {
        const rows = await this.engine.driver.query<{ id: string; topic: string; state: string }>(
          this.engine.queries.get("TaskRescueExpired"), [batch],
        );
        if (rows.length) this.engine.logger.warn({ count: rows.length }, "rescued tasks whose lease expired");
        if (rows.length < batch) return;
      }
    } catch (err) {
      this.engine.logger.warn({ err }, "rescuing expired leases failed");
    }
  }

  /** Stops the timer and waits for a pass in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}

/**
 * The shape every maintenance service shares: a pass that runs every `intervalMs` while this
 * node is the maintenance leader, `runOnce()` for tests (they call it instead of waiting), and
 * `stop()` that waits for a pass in flight.
 *
 * @internal
 * @module
 */
import type { Engine } from "../tasklane.js";

/** @internal */
export abstract class PeriodicService {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    protected readonly engine: Engine,
    readonly intervalMs: number,
  ) {}

  /** Name for logs. */
  abstract readonly name: string;

  /** One pass; throwing is logged and the next pass tries again. */
  protected abstract pass(): Promise<void>;

  /** Starts the periodic pass (idempotent). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.#timer.unref();
    void this.runOnce();
  }

  /** Runs one pass now (or joins the one in flight). */
  runOnce(): Promise<void> {
    this.#running ??= this.pass()
      .catch((err) => this.engine.logger.warn({ err, service: this.name }, "maintenance pass failed"))
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Stops the timer and waits for a pass in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}

/** Runs a batched statement until it returns fewer rows than the batch. */
export async function drainBatches<R>(run: () => Promise<R[]>, batch: number, each: (rows: R[]) => void | Promise<void>): Promise<void> {
  for (;;) {
    const rows = await run();
    if (rows.length) await each(rows);
    if (rows.length < batch) return;
  }
}

/**
 * Maintenance leadership: one node at a time runs the maintenance services. A node holds the
 * `maintenance` row of the leader table while it renews it every third of the term; when it
 * dies, the term runs out and the next node that asks is granted it (so a failover takes at most
 * one term). Granting is one atomic statement, never read-then-write.
 *
 * @internal
 * @module
 */
import type { Engine } from "../tasklane.js";

/** @internal */
export class Leadership {
  #timer: NodeJS.Timeout | undefined;
  #leader = false;
  #pending: Promise<void> | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly termMs: number,
    private readonly onChange: (leader: boolean) => void,
    private readonly name = "maintenance",
  ) {}

  /** Whether this node holds the leadership now. */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** Starts asking for (and renewing) the leadership. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.attempt(), Math.max(10, Math.floor(this.termMs / 3)));
    this.#timer.unref();
    void this.attempt();
  }

  /** Asks once (tests call it instead of waiting for the timer). */
  attempt(): Promise<void> {
    this.#pending ??= this.#attempt().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  async #attempt(): Promise<void> {
    const { driver, queries, nodeId, logger } = this.engine;
    let granted = false;
    try {
      const rows = await driver.query(queries.get("LeaderAcquire"), [this.name, nodeId, this.termMs]);
      granted = rows.length > 0;
    } catch (err) {
      // Unreachable database: step down, because another node may be granted the term meanwhile.
      logger.warn({ err }, "maintenance leadership check failed");
    }
    if (granted !== this.#leader) {
      this.#leader = granted;
      logger.info({ node: nodeId, leader: granted }, granted ? "elected maintenance leader" : "no longer maintenance leader");
      this.onChange(granted);
    }
  }

  /** Stops asking and hands the leadership over at once (no wait for the term to run out). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pending;
    if (this.#leader) {
      this.#leader = false;
      this.onChange(false);
      const { driver, queries, nodeId } = this.engine;
      await driver.query(queries.get("LeaderResign"), [this.name, nodeId]).catch(() => undefined);
    }
  }
}

/**
 * A worker's offer of handoffs (migration 0012, docs/architecture.md "Handoff").
 *
 * A worker that found nothing to claim offers some of its free handler slots. A single enqueue
 * that is due now takes one slot in its inserting statement: the task is inserted `running`,
 * leased to this worker, and the worker's NOTIFY channel gets the row, so the handler starts on
 * the notification, one commit after the enqueue began instead of two.
 *
 * Accounting, exact without reading the offer back: the database counts the slots left
 * (`offer_slots`) and the tasks handed off in all (`handed`); this side counts what it granted
 * and what it received. `outstanding` (granted − received) is the most tasks that can still
 * arrive: slots left plus handoffs committed whose notification is on its way. Withdrawing zeroes
 * the slots and reads `handed`, which makes `granted` exact again.
 *
 * Epochs: a notification is lost when the LISTEN connection drops. The worker then starts a new
 * epoch, withdraws, and hands back every task held in its name that it does not know (see
 * TaskReleaseUnreceived); late notifications of the old epoch are ignored, as their tasks were
 * handed back.
 *
 * Proof of delivery: no slot is offered before a probe NOTIFY the worker sent to its own channel
 * has come back on its LISTEN connection, and again after every reconnect. Behind a pooler in
 * transaction mode (PgBouncer) LISTEN receives nothing, so such a worker never offers and every
 * task reaches it by claim, as without handoff.
 *
 * Every statement of the offer runs in one chain, so they reach the database in the order they
 * were made and the counts they answer can be applied in that order.
 *
 * @internal
 * @module
 */
import { createHash } from "node:crypto";
import type { Engine } from "../tasklane.js";

/** Most slots one worker offers at a time. */
const MAX_OFFER = 64;

/** A handoff notification: the claim answer of the task, or only its id when too large. */
export interface Handoff {
  /** True for the probe that proves notifications arrive (no task): the offer may open now. */
  readonly probe?: boolean;
  readonly row: Record<string, unknown>;
  /** True when only the id came (the row is past NOTIFY's size limit): read it with TaskHandedOff. */
  readonly fetch: boolean;
}

/** @internal */
export class Offer {
  /** The NOTIFY channel of this worker's handoffs (an identifier of at most 63 bytes). */
  readonly channel: string;
  readonly #engine: Engine;
  readonly #workerId: string;
  readonly #leaseMs: number;
  readonly #limit: number;
  /** `handed` as registration found it: handoffs of earlier runs under the same worker id. */
  #base = 0;
  #granted = 0;
  #received = 0;
  #epoch = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #busy = 0;
  /** Counts offer statements, so that {@link sync} can tell whether one ran meanwhile. */
  #generation = 0;
  #closed = false;
  /** The probe of this epoch came back: notifications on the channel reach this worker. */
  #verified = false;

  constructor(engine: Engine, workerId: string, concurrency: number, leaseMs: number) {
    this.#engine = engine;
    this.#workerId = workerId;
    this.#leaseMs = leaseMs;
    this.#limit = Math.min(concurrency, MAX_OFFER);
    const hash = createHash("sha256").update(`${engine.schema}\0${workerId}`).digest("hex").slice(0, 24);
    this.channel = `tasklane_h_${hash}`;
  }

  /** Tasks that may still be handed to this worker (slots left + notifications on their way). */
  get outstanding(): number {
    return this.#granted - this.#received;
  }

  /** Starts the accounting from the `handed` that WorkerRegister answered. */
  registered(handed: string | number): void {
    this.#base = Number(handed);
    this.#granted = 0;
    this.#received = 0;
  }

  /**
   * Reads one notification. Undefined when it belongs to an earlier epoch (its task was handed
   * back) or the offer is closed; else the handoff, counted as received.
   */
  receive(payload: string): Handoff | undefined {
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(payload) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (this.#closed || row.epoch !== this.#epoch) return undefined;
    if (row.probe === true) {
      this.#verified = true;
      return { row, fetch: false, probe: true };
    }
    this.#received++;
    return { row, fetch: row.fetch === true };
  }

  /**
   * Tops the offer up to the free handler slots (at most {@link MAX_OFFER}) once it fell to half
   * of that: a stream of single enqueues costs one offer statement per few handoffs.
   */
  topUp(freeSlots: number): void {
    if (this.#closed || !this.#verified || this.#busy > 0) return;
    const desired = Math.min(this.#limit, freeSlots);
    const add = desired - this.outstanding;
    if (desired <= 0 || this.outstanding > desired / 2 || add <= 0) return;
    const { driver, queries } = this.#engine;
    // Counted before it is sent: should the answer be lost, the offer is taken to be larger than
    // it is (fewer handoffs, never too many); the next withdraw makes the count exact.
    this.#granted += add;
    const epoch = this.#epoch;
    this.#run(async () => {
      const rows = await driver.query(queries.get("WorkerOffer"), [this.#workerId, add, epoch, this.channel, driver.listenerPid(), this.#leaseMs]);
      // Not running any more (stopped, or marked lost while it was frozen): nothing was offered.
      if (rows.length === 0) this.#granted -= add;
    }).catch(() => undefined); // logged by #run
  }

  /**
   * Sends the probe of the current epoch to this worker's own channel (after LISTEN, and after
   * every reset); {@link receive} answers it with `probe: true` when it comes back.
   */
  probe(): Promise<void> {
    const { driver, queries } = this.#engine;
    return this.#run(async () => {
      await driver.query(queries.get("WorkerProbe"), [this.channel, JSON.stringify({ probe: true, epoch: this.#epoch })]);
    });
  }

  /**
   * Marks the moment a statement that reads the offer back (WorkerSeen) is sent; pass the mark
   * to {@link sync} with its answer.
   */
  mark(): number {
    return this.#busy === 0 ? this.#generation : -1;
  }

  /**
   * Makes the count exact from a WorkerSeen answer, when no offer statement ran since `mark`: a
   * worker marked lost while it was frozen had its offer closed by maintenance without knowing.
   */
  sync(mark: number, row: { offer_slots: number; handed: string | number } | undefined): void {
    if (!row || mark < 0 || mark !== this.#generation || this.#busy > 0) return;
    this.#granted = Number(row.handed) - this.#base + row.offer_slots;
  }

  /**
   * Closes the offer: from its answer on, no task is handed to this worker and `outstanding`
   * counts exactly the handoffs whose notification has not come yet.
   */
  withdraw(): Promise<void> {
    if (this.#granted === this.#received && this.#busy === 0) return Promise.resolve();
    return this.#withdraw();
  }

  #withdraw(): Promise<void> {
    const { driver, queries } = this.#engine;
    return this.#run(async () => {
      const [row] = await driver.query<{ handed: string | number }>(queries.get("WorkerWithdraw"), [this.#workerId]);
      if (row) this.#granted = Number(row.handed) - this.#base;
    });
  }

  /**
   * Starts a new epoch and hands back every task held in this worker's name that is not in
   * `known()` (called after the epoch changed, so a notification that arrives meanwhile is
   * either known or handed back). The caller holds its claims back while this runs. With `close`,
   * no offer is made again (the worker stops).
   */
  async reset(known: () => string[], close: boolean): Promise<number> {
    this.#epoch++;
    this.#verified = false;
    if (close) this.#closed = true;
    await this.#withdraw();
    const { driver, queries } = this.#engine;
    const released = await this.#run(() => driver.query(queries.get("TaskReleaseUnreceived"), [this.#workerId, known()]));
    // Every handoff so far is accounted for: received, or handed back just now.
    this.#received = this.#granted;
    return released.length;
  }

  /** Runs `fn` after every offer statement made before it. */
  #run<T>(fn: () => Promise<T>): Promise<T> {
    this.#busy++;
    this.#generation++;
    const next = this.#chain.then(fn).finally(() => this.#busy--);
    // A failed statement (database unreachable) must not stop the ones after it.
    this.#chain = next.catch((err: unknown) => this.#engine.logger.warn({ err, worker: this.#workerId }, "updating the handoff offer failed"));
    return next;
  }
}

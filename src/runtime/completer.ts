/**
 * Gathers the outcomes of finished attempts and writes them in batches: one
 * `UPDATE … FROM unnest(…)` for every completion ready at that moment, one for failures.
 *
 * Batching needs no timer: a flush starts on the next turn of the event loop, and whatever
 * finishes while it is in flight waits for it and goes in the next one. Idle, a completion is
 * written at once; under load, batches grow with the load (measured in bench/).
 *
 * @internal
 * @module
 */
import type { Engine } from "../tasklane.js";
import { integerArray, textArray } from "../db/array-literal.js";

/** What became of a reported outcome. `stale`: the attempt no longer held its lease. */
export type Written = "completed" | "failed" | "retrying" | "released" | "waiting" | "stale";

interface Pending<T> {
  readonly item: T;
  readonly resolve: (w: Written) => void;
}

interface Completion { id: string; token: number; resultJson: string }
interface Failure { id: string; token: number; errorJson: string; retryable: boolean; event: string | null; retryAfterMs: number | null }
interface Release { id: string; token: number }
interface Wait { id: string; token: number; name: string; timeoutMs: number | null }

/** Largest batch one statement carries. */
const MAX_BATCH = 2_000;

/** @internal */
export class Completer {
  #completions: Pending<Completion>[] = [];
  #failures: Pending<Failure>[] = [];
  #releases: Pending<Release>[] = [];
  #waits: Pending<Wait>[] = [];
  #flushing: Promise<void> | undefined;
  #scheduled = false;
  #retryDelayMs = 100;
  /** Reported outcomes not written yet, by task id (a count: an id may be reported twice). */
  readonly #unwritten = new Map<string, number>();

  constructor(
    private readonly engine: Engine,
    private readonly workerId: string,
  ) {}

  /** Reports a successful attempt; resolves once written. */
  complete(id: string, token: number, resultJson: string): Promise<Written> {
    return this.#add(this.#completions, { id, token, resultJson });
  }

  /**
   * Reports a failed attempt; resolves to `retrying`, `failed` or `stale` once written. `event`
   * names a recovery event to record with it (`TASK_POLL_TO_END_TIMEOUT`, …).
   */
  fail(id: string, token: number, errorJson: string, retryable: boolean, event: string | null = null, retryAfterMs: number | null = null): Promise<Written> {
    return this.#add(this.#failures, { id, token, errorJson, retryable, event, retryAfterMs });
  }

  /** Hands an interrupted attempt back without using it up (resumable topics at shutdown). */
  release(id: string, token: number): Promise<Written> {
    return this.#add(this.#releases, { id, token });
  }

  /** Parks an attempt that ended with `ctx.waitForEvent` as `waiting`. */
  wait(id: string, token: number, name: string, timeoutMs: number | null): Promise<Written> {
    return this.#add(this.#waits, { id, token, name, timeoutMs });
  }

  /** Resolves when everything reported so far is written. */
  async drain(): Promise<void> {
    while (this.#flushing || this.#scheduled || this.#size() > 0) {
      if (!this.#flushing && !this.#scheduled) this.#schedule();
      await (this.#flushing ?? new Promise((r) => setImmediate(r)));
    }
  }

  #size(): number {
    return this.#completions.length + this.#failures.length + this.#releases.length + this.#waits.length;
  }

  /** Ids of the tasks whose outcome is reported and not written yet. */
  ids(): IterableIterator<string> {
    return this.#unwritten.keys();
  }

  #add<T extends { id: string }>(queue: Pending<T>[], item: T): Promise<Written> {
    this.#unwritten.set(item.id, (this.#unwritten.get(item.id) ?? 0) + 1);
    let resolve!: (w: Written) => void;
    const written = new Promise<Written>((r) => (resolve = r));
    queue.push({ item, resolve });
    this.#schedule();
    return written;
  }

  /** Resolves a pending outcome once its write is done. */
  #resolve<T extends { id: string }>(p: Pending<T>, w: Written): void {
    const n = this.#unwritten.get(p.item.id)! - 1;
    if (n > 0) this.#unwritten.set(p.item.id, n);
    else this.#unwritten.delete(p.item.id);
    p.resolve(w);
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = undefined;
        if (this.#size() > 0) this.#schedule();
      });
    });
  }

  async #flush(): Promise<void> {
    const batches = [
      { queue: this.#completions, write: (b: Pending<Completion>[]) => this.#writeCompletions(b) },
      { queue: this.#failures, write: (b: Pending<Failure>[]) => this.#writeFailures(b) },
      { queue: this.#releases, write: (b: Pending<Release>[]) => this.#writeReleases(b) },
      { queue: this.#waits, write: (b: Pending<Wait>[]) => this.#writeWaits(b) },
    ] as const;
    const taken = batches.map((b) => (b.queue as Pending<unknown>[]).splice(0, MAX_BATCH));
    const results = await Promise.allSettled(batches.map((b, i) => (b.write as (x: Pending<unknown>[]) => Promise<void>)(taken[i]!)));
    const failed = results.findIndex((r) => r.status === "rejected");
    if (failed === -1) {
      this.#retryDelayMs = 100;
      return;
    }
    // The database is unreachable (restart, network). Nothing is lost: the outcomes whose write
    // failed go back to the front of their queue and are written when it returns (only those:
    // re-sending a written batch would come back "stale"). Leases may expire meanwhile; then the
    // writes come back stale and the rescued tasks run again, which is the at-least-once contract.
    const err = (results[failed] as PromiseRejectedResult).reason;
    this.engine.logger.warn({ err, retryInMs: this.#retryDelayMs }, "writing task outcomes failed; retrying");
    this.engine.events.emit("worker:error", err, this.workerId);
    results.forEach((r, i) => {
      if (r.status === "rejected") (batches[i]!.queue as Pending<unknown>[]).unshift(...taken[i]!);
    });
    await new Promise((r) => setTimeout(r, this.#retryDelayMs));
    this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, 5_000);
  }

  async #writeCompletions(batch: Pending<Completion>[]): Promise<void> {
    if (batch.length === 0) return;
    const { driver, queries } = this.engine;
    const [row] = await driver.query<{ ids: string }>(queries.get("TaskCompleteMany"), [
      integerArray(batch.map((p) => p.item.id)),
      integerArray(batch.map((p) => p.item.token)),
      textArray(batch.map((p) => p.item.resultJson)),
    ]);
    // The accepted ids, comma-separated (one text instead of a row each).
    const accepted = new Set(row!.ids === "" ? [] : row!.ids.split(","));
    await this.#settle(batch, (p) => (accepted.has(p.item.id) ? "completed" : "stale"), "completed");
  }

  async #writeFailures(batch: Pending<Failure>[]): Promise<void> {
    if (batch.length === 0) return;
    const { driver, queries } = this.engine;
    const rows = await driver.query<{ id: string | number; state: string }>(queries.get("TaskFailMany"), [
      batch.map((p) => p.item.id),
      batch.map((p) => p.item.token),
      batch.map((p) => p.item.errorJson),
      batch.map((p) => p.item.retryable),
      batch.map((p) => p.item.event),
      batch.map((p) => p.item.retryAfterMs),
    ]);
    const states = new Map(rows.map((r) => [String(r.id), r.state]));
    await this.#settle(batch, (p) => {
      const state = states.get(p.item.id);
      return state === undefined ? "stale" : state === "failed" ? "failed" : "retrying";
    }, "failed");
  }

  async #writeReleases(batch: Pending<Release>[]): Promise<void> {
    if (batch.length === 0) return;
    const { driver, queries } = this.engine;
    const rows = await driver.query<{ id: string | number }>(queries.get("TaskReleaseMany"), [
      batch.map((p) => p.item.id),
      batch.map((p) => p.item.token),
    ]);
    const accepted = new Set(rows.map((r) => String(r.id)));
    await this.#settle(batch, (p) => (accepted.has(p.item.id) ? "released" : "stale"), "released");
  }

  async #writeWaits(batch: Pending<Wait>[]): Promise<void> {
    if (batch.length === 0) return;
    const { driver, queries } = this.engine;
    const rows = await driver.query<{ id: string | number }>(queries.get("TaskWaitMany"), [
      batch.map((p) => p.item.id),
      batch.map((p) => p.item.token),
      batch.map((p) => p.item.name),
      batch.map((p) => p.item.timeoutMs),
    ]);
    const accepted = new Set(rows.map((r) => String(r.id)));
    await this.#settle(batch, (p) => (accepted.has(p.item.id) ? "waiting" : "stale"), "waiting");
  }

  /** Resolves every pending outcome and records the stale ones (rare: no cost on the hot path). */
  async #settle<T extends { id: string; token: number }>(batch: Pending<T>[], outcome: (p: Pending<T>) => Written, kind: string): Promise<void> {
    const stale = batch.filter((p) => outcome(p) === "stale");
    if (stale.length) {
      await this.engine.driver
        .query(this.engine.queries.get("TaskRecordStale"), [stale.map((p) => p.item.id), stale.map((p) => p.item.token), this.workerId, kind])
        .catch((err) => this.engine.logger.warn({ err }, "recording rejected stale results failed"));
    }
    for (const p of batch) this.#resolve(p, outcome(p));
  }
}

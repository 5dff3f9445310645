/**
 * Wake-ups for long-polling fetches. One LISTEN on `<schema>_ready` per instance, shared by every
 * waiting request and fanned out by topic: a thousand idle remote workers cost one subscription,
 * not a thousand. The NOTIFY comes from the statement that made a task ready (enqueue, retry,
 * unlock, a released process step) on whichever node ran it, so a fetch waiting here wakes for
 * tasks created through any server on the same database.
 *
 * @internal
 * @module
 */
import type { Driver } from "../db/driver.js";

/** How long the subscription outlives its last waiter: clients poll again at once, so keep it. */
const lingerMs = 30_000;

/** One waiting fetch: woken by a NOTIFY for one of its topics. */
export class Waiter {
  #woken = false;
  #wake: (() => void) | undefined;

  /** @internal */
  constructor(
    readonly topics: ReadonlySet<string>,
    private readonly onDispose: (w: Waiter) => void,
  ) {}

  /** Marks the waiter woken; a wake-up that arrives while its fetch is claiming is kept, not lost. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /**
   * Resolves on the next wake-up (at once if one arrived since the last call), after `timeoutMs`,
   * or when `signal` aborts.
   */
  next(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#woken || signal?.aborted) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#wake = undefined;
        this.#woken = false;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      this.#wake = done;
    });
  }

  /** Stops listening for this fetch. Idempotent. */
  dispose(): void {
    this.onDispose(this);
  }
}

/** @internal */
export class ReadySignal {
  readonly #waiters = new Set<Waiter>();
  #subscription: Promise<() => Promise<void>> | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly driver: Driver,
    private readonly channel: string,
  ) {}

  /** Waiters right now (for tests and metrics). */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Registers a waiter for `topics` and resolves once the subscription is live, so the caller's
   * next claim and this waiter together miss no task.
   */
  async register(topics: Iterable<string>): Promise<Waiter> {
    const waiter = new Waiter(new Set(topics), (w) => this.#release(w));
    this.#waiters.add(waiter);
    clearTimeout(this.#lingerTimer);
    try {
      await this.#subscribe();
    } catch (err) {
      waiter.dispose();
      throw err;
    }
    return waiter;
  }

  /** Wakes every waiter and drops the subscription (the instance is closing). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters) w.wake();
    this.#waiters.clear();
    await this.#unsubscribe();
  }

  #subscribe(): Promise<unknown> {
    if (this.#closed) return Promise.resolve();
    this.#subscription ??= this.driver.listen(
      this.channel,
      (topic) => {
        for (const w of this.#waiters) if (w.topics.has(topic)) w.wake();
      },
      // The LISTEN connection was lost and is back: NOTIFYs may have been missed, so every
      // waiter claims once more.
      () => {
        for (const w of this.#waiters) w.wake();
      },
    );
    // A failed LISTEN is not cached: the next fetch tries again.
    const current = this.#subscription;
    current.catch(() => {
      if (this.#subscription === current) this.#subscription = undefined;
    });
    return current;
  }

  #release(waiter: Waiter): void {
    if (!this.#waiters.delete(waiter) || this.#waiters.size > 0 || this.#closed) return;
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = setTimeout(() => void this.#unsubscribe(), lingerMs);
    // Never keeps a process alive that has nothing else to do.
    this.#lingerTimer.unref();
  }

  async #unsubscribe(): Promise<void> {
    clearTimeout(this.#lingerTimer);
    const subscription = this.#subscription;
    this.#subscription = undefined;
    if (!subscription) return;
    const unlisten = await subscription.catch(() => undefined);
    await unlisten?.().catch(() => undefined);
  }
}

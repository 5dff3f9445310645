/**
 * The in-process worker: claims tasks in batches, runs their handlers, reports outcomes through
 * the {@link Completer}, keeps the leases of what it runs alive and enforces per-attempt
 * timeouts.
 *
 * State machine of one worker:
 *
 *   created ──start()──▶ running ──stop()──▶ stopping ──▶ stopped
 *
 * While running, a claim is made when there is free capacity and there may be work:
 * - `#maybeWork` is set by a NOTIFY for one of our topics, by the poll timer, after a
 *   (re)connect, and stays set while claims come back full (the backlog is not empty yet);
 * - it is cleared when a claim returns fewer tasks than asked for.
 * Claims wait until at least `#refillAt` slots are free (a quarter of the capacity, at most
 * 100), so a busy worker claims in batches instead of one statement per finished task.
 *
 * Capacity is `concurrency + prefetch`. With `prefetch`, claimed tasks wait in a local buffer
 * until a handler slot frees (graphile-worker's local queue): short tasks then run back to back
 * without a round trip each, and claims and completions carry hundreds of rows. Buffered tasks
 * are leased like running ones (their leases are renewed) and are handed back, without using an
 * attempt, when the worker stops.
 *
 * @internal
 * @module
 */
import { hostname } from "node:os";
import { SpanKind, type Span } from "@opentelemetry/api";
import type { Engine } from "../tasklane.js";
import { Completer, type Written } from "./completer.js";
import { Attempt, type AbortCause, type TimeoutEvent } from "./attempt.js";
import { AttemptContext } from "./context.js";
import { Offer } from "./offer.js";
import { endAttemptSpan, startAttemptSpan, withSpan } from "../telemetry.js";
import { BusinessError, FatalError, InvalidStateError, LeaseLostError, RetryAfterError, ValidationError } from "../errors.js";
import { errorRecord, runningTaskFromRow, safeJson, terminalStates, WaitForEvent, type ExitOutcome } from "../task.js";

const FINISHED: ReadonlySet<string> = new Set(terminalStates);

/** Resolved worker options. */
export interface WorkerConfig {
  topics: string[];
  concurrency: number;
  tags?: string[] | undefined;
  pollIntervalMs: number;
  leaseMs: number;
  prefetch?: number | undefined;
  /** Offer free slots to single enqueues when idle (default true; see {@link Offer}). */
  handoff?: boolean | undefined;
  id?: string | undefined;
}

/** Callbacks into the owning instance. */
export interface WorkerHooks {
  onStart(): void;
  onStop(): void;
}

/**
 * Runs handlers of the topics it was given. Created by {@link Tasklane.worker}.
 */
export class Worker {
  /** This worker's id, stored as the lease owner of every task it runs. */
  readonly id: string;
  readonly #engine: Engine;
  readonly #config: WorkerConfig;
  readonly #hooks: WorkerHooks;
  readonly #topics: Set<string>;
  readonly #completer: Completer;
  readonly #active = new Map<string, Attempt>();
  /** Claimed rows waiting for a handler slot (prefetch), by task id, in claim order. */
  readonly #buffer = new Map<string, Record<string, unknown>>();
  readonly #capacity: number;
  readonly #refillAt: number;
  #claimInFlight: Promise<void> | undefined;
  #state: "created" | "running" | "stopping" | "stopped" = "created";
  #maybeWork = true;
  /** Counts wake-ups, so a claim that began before one cannot clear `#maybeWork` it set. */
  #wakes = 0;
  #claiming = false;
  #kickQueued = false;
  #claimFailures = 0;
  #pollTimer: NodeJS.Timeout | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  #unlisten: (() => Promise<void>)[] = [];
  #idle: (() => void) | undefined;
  #stopping: Promise<void> | undefined;
  /**
   * Attempts whose handler has returned and whose outcome is still being written. They no
   * longer hold a handler slot: the next claim overlaps the write, so claims and completions
   * run side by side instead of taking turns. Up to `capacity` of them are free; beyond that
   * they count against the capacity, which bounds the memory they hold. Their leases are renewed
   * until the write is done: under load the write may wait longer than a lease lasts, and a
   * rescued task would run again. stop() waits for each one's write-and-exit tail (`outcome`)
   * (onExit hooks included); a handler that never returns is not here, and stop() gives up on it
   * after its grace period.
   */
  readonly #unwritten = new Set<Attempt>();
  /** Handoffs offered to single enqueues while idle; undefined when turned off. */
  readonly #offer: Offer | undefined;
  /** Set while the worker hands back what it was given but never received (see #recover). */
  #resetting: Promise<void> | undefined;
  /** Handed-off tasks whose row is being read (it did not fit in the notification). */
  readonly #fetching = new Set<string>();

  /** @internal */
  constructor(engine: Engine, config: WorkerConfig, hooks: WorkerHooks) {
    this.#engine = engine;
    this.#config = config;
    this.#hooks = hooks;
    this.#topics = new Set(config.topics);
    this.id = config.id ?? `${engine.nodeId}:w${Math.random().toString(36).slice(2, 7)}`;
    this.#completer = new Completer(engine, this.id);
    this.#capacity = config.concurrency + (config.prefetch ?? 0);
    this.#refillAt = Math.max(1, Math.min(Math.ceil(this.#capacity / 4), 100));
    this.#offer = config.handoff === false ? undefined : new Offer(engine, this.id, config.concurrency, config.leaseMs);
  }

  /** How many handlers run right now. */
  get running(): number {
    return this.#active.size;
  }

  /** Starts claiming. Resolves once the worker is registered and listens for new tasks. */
  async start(): Promise<void> {
    if (this.#state !== "created") throw new InvalidStateError(`worker ${this.id} was already started; create a new one with tl.worker()`, { worker: this.id });
    const { driver, schema, queries } = this.#engine;
    // Registered before it counts as started: a failure here leaves it startable again.
    const [registered] = await driver.query<{ handed: string | number }>(queries.get("WorkerRegister"), [
      this.id, hostname(), process.pid, this.#config.topics, this.#config.tags ?? [], this.#config.concurrency,
    ]);
    this.#offer?.registered(registered?.handed ?? 0);
    this.#state = "running";
    const wake = () => {
      this.#maybeWork = true;
      this.#wakes++;
      this.#kick();
    };
    this.#unlisten.push(
      await driver.listen(`${schema}_ready`, (topic) => this.#topics.has(topic) && wake(), wake),
      // Payload `<id>` or `<id>:<cause>`: cancelled (default), completed (by an operator), deadline.
      await driver.listen(`${schema}_abort`, (payload) => {
        const [id, cause] = payload.split(":");
        this.#abort(id!, cause === "completed" || cause === "deadline" ? cause : "cancelled");
      }),
    );
    if (this.#offer) {
      this.#unlisten.push(await driver.listen(this.#offer.channel, (payload) => this.#handedOff(payload), () => this.#recover()));
      // Offers open once this comes back (proof that notifications reach this worker).
      this.#offer.probe().catch(() => undefined);
    }
    this.#pollTimer = setInterval(wake, this.#config.pollIntervalMs);
    this.#leaseTimer = setInterval(() => void this.#renewLeases(), Math.max(50, Math.floor(this.#config.leaseMs / 3)));
    this.#hooks.onStart();
    this.#kick();
  }

  /**
   * Stops claiming, waits up to `graceMs` (default 30 s) for running handlers, then aborts the
   * rest: a resumable topic's task goes back to `ready` without using an attempt, any other
   * fails its attempt and is retried per its policy. Resolves when every outcome is written.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.graceMs ?? 30_000);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    if (this.#state === "created") {
      this.#state = "stopped";
      this.#hooks.onStop();
      return;
    }
    this.#state = "stopping";
    clearInterval(this.#pollTimer);
    await Promise.all(this.#unlisten.map((u) => u().catch(() => undefined)));
    // Tasks still in the buffer never started: hand them back at once, attempt not used.
    await this.#claimInFlight;
    await this.#resetting;
    // No more handoffs; those sent and not received go back to `ready`.
    await this.#offer?.reset(() => this.#knownIds(), true).catch((err: unknown) => {
      this.#engine.logger.warn({ err, worker: this.id }, "closing the handoff offer failed; tasks handed off and not received run again when their lease expires");
    });
    const buffered = [...this.#buffer.entries()];
    this.#buffer.clear();
    await Promise.all(buffered.map(([id, row]) => this.#completer.release(id, Number(row.lease_token))));
    if (this.#active.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.#idle = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
      for (const id of [...this.#active.keys()]) this.#abort(id, "shutdown");
    }
    await this.#completer.drain();
    await Promise.all([...this.#unwritten].map((a) => a.outcome));
    clearInterval(this.#leaseTimer);
    await this.#engine.driver.query(this.#engine.queries.get("WorkerStopped"), [this.id]).catch(() => undefined);
    this.#state = "stopped";
    this.#hooks.onStop();
  }

  /** Schedules a claim on the next turn, so that a burst of wake-ups makes one claim. */
  #kick(): void {
    if (this.#kickQueued) return;
    this.#kickQueued = true;
    setImmediate(() => {
      this.#kickQueued = false;
      void this.#claim();
    });
  }

  #claim(): Promise<void> {
    if (this.#claiming) return Promise.resolve();
    this.#claimInFlight = this.#claimLoop().finally(() => (this.#claimInFlight = undefined));
    return this.#claimInFlight;
  }

  async #claimLoop(): Promise<void> {
    this.#claiming = true;
    try {
      while (this.#state === "running" && this.#maybeWork && !this.#resetting) {
        const held = this.#held();
        const free = this.#capacity - held;
        if (free < this.#refillAt && !(free > 0 && held === 0)) break;
        const want = Math.min(free, 1_000);
        const wakes = this.#wakes;
        const rows = await withSpan("tasklane.claim", { "tasklane.worker": this.id, "tasklane.want": want }, () => this.#claimRows(want), SpanKind.CLIENT);
        this.#claimFailures = 0;
        await this.#refreshParents(rows);
        // A short claim means nothing more was runnable when it looked, unless a wake-up
        // (a NOTIFY of a commit the claim's snapshot missed) arrived while it ran.
        if (rows.length < want && this.#wakes === wakes) this.#maybeWork = false;
        // A full claim means a backlog: handoffs would pass it, so the offer closes until the
        // worker is idle again.
        if (rows.length === want && this.#offer && this.#offer.outstanding > 0) void this.#offer.withdraw().catch(() => undefined);
        // A worker stopped while its claim was in flight hands back what it got (see #stop).
        for (const row of rows) this.#buffer.set(String(row.id), row);
        this.#startBuffered();
      }
    } catch (err) {
      // Database unreachable: try again with backoff; the poll timer also keeps trying.
      this.#claimFailures++;
      const delay = Math.min(100 * 2 ** this.#claimFailures, 5_000);
      this.#engine.logger.warn({ err, worker: this.id, retryInMs: delay }, "claiming tasks failed");
      this.#engine.events.emit("worker:error", err, this.id);
      setTimeout(() => this.#kick(), delay).unref();
    } finally {
      this.#claiming = false;
    }
    this.#maybeOffer();
  }

  /** Claims up to `want` tasks: their rows as TaskClaim answers them, in claim order. */
  async #claimRows(want: number): Promise<Record<string, unknown>[]> {
    const { driver, queries } = this.#engine;
    const params = [this.#config.topics, this.#config.tags ?? [], want, this.id, this.#config.leaseMs, null];
    if (!driver.capabilities.rowsAsJson) return driver.query<Record<string, unknown>>(queries.get("TaskClaim"), params);
    const rows = await driver.query<{ j: string }>(queries.get("TaskClaimJson"), params);
    return rows.map((row) => JSON.parse(row.j) as Record<string, unknown>);
  }

  /** Offers free handler slots to single enqueues while there is nothing to claim. */
  #maybeOffer(): void {
    if (!this.#offer || this.#state !== "running" || this.#maybeWork || this.#claiming || this.#resetting) return;
    this.#offer.topUp(this.#config.concurrency - this.#active.size - this.#buffer.size);
  }

  /** A handoff notification: the task is leased to this worker already; run it. */
  #handedOff(payload: string): void {
    const handoff = this.#offer?.receive(payload);
    if (!handoff) return;
    if (handoff.probe) return this.#maybeOffer();
    if (!handoff.fetch) return this.#take(handoff.row);
    // Past NOTIFY's size limit only the id came: read the row (a rare, large payload).
    const { driver, queries } = this.#engine;
    const id = String(handoff.row.id);
    // Known while it is read, so that a reset meanwhile does not hand it back.
    this.#fetching.add(id);
    driver.query<Record<string, unknown>>(queries.get("TaskHandedOff"), [id, this.id]).then(
      ([row]) => row && this.#take(row),
      (err: unknown) => this.#engine.logger.warn({ err, worker: this.id, taskId: id }, "reading a handed-off task failed; it runs again when its lease expires"),
    ).finally(() => this.#fetching.delete(id));
  }

  #take(row: Record<string, unknown>): void {
    // Buffered like a claimed task: it runs when a slot is free, and a stopping worker hands it back.
    this.#buffer.set(String(row.id), row);
    this.#startBuffered();
    this.#maybeOffer();
  }

  /** Ids of every task this worker holds: buffered, running, or with an outcome not yet written. */
  #knownIds(): string[] {
    return [...new Set([...this.#buffer.keys(), ...this.#active.keys(), ...this.#fetching, ...[...this.#unwritten].map((a) => a.task.id), ...this.#completer.ids()])];
  }

  /**
   * The LISTEN connection came back: handoff notifications sent while it was away are lost.
   * Claims are held back while a new epoch starts and every task held in this worker's name but
   * unknown to it goes back to `ready` (see {@link Offer.reset}).
   */
  #recover(): void {
    if (!this.#offer || this.#state !== "running" || this.#resetting) return;
    const offer = this.#offer;
    this.#resetting = (async () => {
      await this.#claimInFlight;
      try {
        const released = await offer.reset(() => this.#knownIds(), false);
        await offer.probe();
        if (released) this.#engine.logger.info({ worker: this.id, released }, "handed back tasks whose handoff notification was lost");
      } catch (err) {
        this.#engine.logger.warn({ err, worker: this.id }, "handing back unreceived handoffs failed; they run again when their lease expires");
      }
    })().finally(() => {
      this.#resetting = undefined;
      this.#maybeWork = true;
      this.#kick();
    });
  }

  /**
   * Reads again the parents' outcomes of claimed steps whose answer shows a parent unfinished.
   * claim_ids is VOLATILE, so it picks rows in a snapshot of its own, taken after the claim
   * statement's: a step released by a commit between the two is claimed, but the statement's
   * RETURNING still sees its parent as it was before that commit (running, without its result).
   * A step is only released once its parents have finished, so an unfinished parent in the
   * answer always means this; it is rare (a window of microseconds), and then one query fixes it.
   */
  async #refreshParents(rows: Record<string, unknown>[]): Promise<void> {
    const stale = rows.filter((row) => {
      const parents = row.parents as Record<string, { state: string }> | null | undefined;
      return parents != null && Object.values(parents).some((p) => !FINISHED.has(p.state));
    });
    if (stale.length === 0) return;
    const fresh = await this.#engine.driver.query<{ id: string | number; parents: unknown }>(this.#engine.queries.get("StepParents"), [
      stale.map((row) => row.id),
    ]);
    const byId = new Map(fresh.map((f) => [String(f.id), f.parents]));
    for (const row of stale) row.parents = byId.get(String(row.id)) ?? row.parents;
  }

  /** Starts buffered tasks while handler slots are free. */
  #startBuffered(): void {
    if (this.#state !== "running") return;
    for (const [id, row] of this.#buffer) {
      if (this.#active.size >= this.#config.concurrency) return;
      this.#buffer.delete(id);
      this.#run(row);
    }
  }

  #run(row: Record<string, unknown>): void {
    const task = runningTaskFromRow(row);
    const definition = this.#engine.definitions.get(task.topic)!;
    const attempt = new Attempt(task, Number(row.lease_token), definition, row, (event) => this.#timedOut(attempt, event));
    this.#active.set(task.id, attempt);
    const ctx = new AttemptContext(attempt, row, (progress) => this.#heartbeat(attempt, progress), this.#engine.logger);
    this.#engine.events.emit("task:started", task, this.id);
    const { span, run } = startAttemptSpan(task.topic, row.trace, {
      "tasklane.task_id": task.id, "tasklane.topic": task.topic, "tasklane.attempt": task.attempt, "tasklane.worker": this.id,
      ...(task.processId && { "tasklane.process_id": task.processId, "tasklane.step": task.step ?? "" }),
    });
    let handled: unknown;
    try {
      // The handler runs inside the attempt's span, so its own spans (HTTP calls, queries) nest under it.
      handled = run(() => definition.handler(task, ctx));
    } catch (err) {
      handled = Promise.reject(err);
    }
    attempt.outcome = this.#outcome(attempt, span, handled);
  }

  /**
   * Waits for the handler, then writes its outcome. One async function rather than a chain of
   * callbacks: a draining worker runs this for every task, and each promise and closure of a
   * chain lives until the outcome is written (every young-generation collection copies them).
   */
  async #outcome(attempt: Attempt, span: Span, handled: unknown): Promise<void> {
    const { task } = attempt;
    try {
      let result: unknown;
      try {
        result = await handled;
      } catch (err) {
        endAttemptSpan(span, attempt.settled ? "aborted" : "threw", err);
        if (!attempt.settle()) return;
        this.#handOff(attempt);
        return await this.#fail(attempt, err, !(err instanceof FatalError || err instanceof BusinessError));
      }
      endAttemptSpan(span, attempt.settled ? "aborted" : result instanceof WaitForEvent ? "waiting" : "returned");
      if (!attempt.settle()) return;
      this.#handOff(attempt);
      if (result instanceof WaitForEvent) {
        return await this.#exit(attempt, await this.#completer.wait(task.id, attempt.token, result.name, result.timeoutMs));
      }
      const json = safeJson(result ?? null);
      if (json === undefined) return await this.#fail(attempt, new FatalError("the handler's result is not JSON-serialisable"), false);
      const written = await this.#completer.complete(task.id, attempt.token, json);
      if (written === "completed") this.#engine.events.emit("task:completed", task, result);
      else this.#engine.events.emit("lease:lost", task, "lease_lost");
      // Only a topic with an onExit hook awaits one more promise.
      if (attempt.definition.options.onExit) await this.#exit(attempt, written);
    } finally {
      this.#finished(attempt);
      if (this.#unwritten.delete(attempt)) this.#refill();
    }
  }

  /** Frees the handler slot of an attempt whose handler has settled; its outcome is written after. */
  #handOff(attempt: Attempt): void {
    this.#unwritten.add(attempt);
    this.#finished(attempt);
  }

  /** Slots taken: running handlers, buffered tasks, and unwritten outcomes beyond `capacity`. */
  #held(): number {
    return this.#active.size + this.#buffer.size + Math.max(0, this.#unwritten.size - this.#capacity);
  }

  /** Claims again when enough slots are free. */
  #refill(): void {
    if (this.#state !== "running" || !this.#maybeWork) return;
    const held = this.#held();
    if (this.#capacity - held >= this.#refillAt || held === 0) this.#kick();
  }

  /** Writes a failed attempt, then tells listeners and the topic's onExit hook. */
  async #fail(attempt: Attempt, err: unknown, retryable: boolean, event: TimeoutEvent | null = null): Promise<void> {
    const record = errorRecord(err, attempt.task.attempt);
    const retryAfterMs = err instanceof RetryAfterError ? err.retryAfterMs : null;
    const written = await this.#completer.fail(attempt.task.id, attempt.token, JSON.stringify(record), retryable, event, retryAfterMs);
    if (written === "stale") this.#engine.events.emit("lease:lost", attempt.task, "lease_lost");
    else this.#engine.events.emit("task:failed", attempt.task, record, written === "retrying");
    await this.#exit(attempt, written);
  }

  #finished(attempt: Attempt): void {
    attempt.dispose();
    if (this.#active.get(attempt.task.id) !== attempt) return;
    this.#active.delete(attempt.task.id);
    this.#startBuffered();
    if (this.#active.size === 0) this.#idle?.();
    this.#refill();
    this.#maybeOffer();
  }

  /** A per-attempt timeout fired: abort the handler and fail the attempt with the event. */
  #timedOut(attempt: Attempt, event: TimeoutEvent): void {
    if (!attempt.settle()) return;
    const err = attempt.abort(event);
    this.#finished(attempt);
    // Past the deadline of all attempts there is no retry; the other two retry per the policy.
    void this.#fail(attempt, err, event !== "TASK_ENQUEUE_TO_END_TIMEOUT", event);
  }

  /** Aborts an attempt this worker runs. Its outcome is no longer reported (or already is). */
  #abort(id: string, cause: AbortCause): void {
    // A buffered task never started: the database already ended it; just forget it.
    if (this.#buffer.delete(id)) return;
    const attempt = this.#active.get(id);
    if (!attempt || !attempt.settle()) return;
    const reason = attempt.abort(cause);
    this.#finished(attempt);
    if (cause !== "shutdown") {
      this.#engine.events.emit("lease:lost", attempt.task, cause);
      void this.#exit(attempt, cause === "deadline" ? "failed" : cause);
      return;
    }
    // Written now, not when the handler gives up: a handler that ignores its signal must not
    // keep the task leased past the shutdown.
    if (attempt.definition.options.resumable) {
      void this.#completer.release(id, attempt.token).then((w) => this.#exit(attempt, w));
    } else {
      void this.#fail(attempt, reason, true);
    }
  }

  async #heartbeat(attempt: Attempt, progress: unknown): Promise<void> {
    const lost = () => new LeaseLostError(`task ${attempt.task.id}: this attempt has ended or lost its lease`, { id: attempt.task.id });
    if (attempt.settled) throw lost();
    const json = progress === undefined ? null : safeJson(progress);
    if (json === undefined) throw new ValidationError("heartbeat: progress is not JSON-serialisable", { field: "progress" });
    const { driver, queries } = this.#engine;
    const rows = await driver.query(queries.get("TaskHeartbeat"), [attempt.task.id, attempt.token, json ?? null, this.#config.leaseMs]);
    if (rows.length === 0) {
      await driver.query(queries.get("TaskRecordStale"), [[attempt.task.id], [attempt.token], this.id, "heartbeat"]).catch(() => undefined);
      this.#abort(attempt.task.id, "lease_lost");
      throw lost();
    }
    attempt.heartbeat();
  }

  /**
   * One statement renews every lease this worker holds (not those of topics with a heartbeat
   * timeout: only their handler's heartbeats may), and one marks the worker as seen. Lost leases
   * abort their handlers: that is also how a cancellation whose NOTIFY was missed arrives.
   */
  async #renewLeases(): Promise<void> {
    const { driver, queries } = this.#engine;
    const attempts = [...this.#active.values()].filter((a) => !a.settled && !a.ownHeartbeat);
    // Buffered tasks are renewed too (also those of heartbeat topics: no handler runs yet).
    const leases = [
      ...attempts.map((a) => ({ id: a.task.id, token: a.token })),
      ...[...this.#buffer].map(([id, row]) => ({ id, token: Number(row.lease_token) })),
    ];
    // Outcomes not yet written keep their lease too (the handler is done; the write is queued).
    // Nothing is aborted for them: a lost one is reported stale when its write comes back.
    const unwritten = [...this.#unwritten].map((a) => ({ id: a.task.id, token: a.token }));
    try {
      const mark = this.#offer?.mark() ?? -1;
      const [seen] = await driver.query<{ offer_slots: number; handed: string | number }>(queries.get("WorkerSeen"), [this.id, this.#active.size]);
      this.#offer?.sync(mark, seen);
      const all = [...leases, ...unwritten];
      if (all.length === 0) return;
      const rows = await driver.query<{ id: string | number }>(queries.get("TaskExtendLeases"), [
        all.map((l) => l.id), all.map((l) => l.token), this.#config.leaseMs,
      ]);
      const kept = new Set(rows.map((r) => String(r.id)));
      for (const l of leases) if (!kept.has(l.id)) this.#abort(l.id, "lease_lost");
    } catch (err) {
      this.#engine.logger.warn({ err, worker: this.id }, "renewing leases failed");
      this.#engine.events.emit("worker:error", err, this.id);
    }
  }

  async #exit(attempt: Attempt, written: Written | ExitOutcome): Promise<void> {
    const onExit = attempt.definition.options.onExit;
    if (!onExit) return;
    const outcome: ExitOutcome = written === "stale" ? "lease_lost" : written === "released" ? "interrupted" : written;
    try {
      await onExit(attempt.task, outcome);
    } catch (err) {
      this.#engine.logger.error({ err, taskId: attempt.task.id }, "onExit hook threw");
    }
  }
}

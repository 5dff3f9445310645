/**
 * `tasklane/client`: runs handlers in a Node process that reaches Tasklane only over HTTP (the
 * 5Minds external-task API), for workers on other machines or in other deployments. While a
 * handler runs, its lock is extended automatically (every half lock duration), as the 5Minds
 * worker did; `stop()` stops fetching, lets running handlers finish within a grace period, then
 * aborts them (their tasks come back when their locks expire).
 *
 * @example
 * import { TasklaneClient } from "tasklane/client";
 * const client = new TasklaneClient({ baseUrl: "http://tasks.internal:3000", token: process.env.TASKLANE_TOKEN! });
 * client.subscribe("invoice.send", async (task, { signal }) => send(task.payload, { signal }), { concurrency: 10 });
 * process.on("SIGTERM", () => client.stop({ graceMs: 30_000 }));
 *
 * @module
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";

/** A task as a remote handler receives it. */
export interface RemoteTask<Payload = unknown> {
  id: string;
  topic: string;
  payload: Payload;
  processInstanceId: string | null;
  /** The step name for a process step, else the task id. */
  flowNodeInstanceId: string;
  lockExpirationTime: string;
}

/** What a remote handler gets besides its task. */
export interface RemoteContext {
  /** Aborted when the client stops past its grace period or the lock is lost. */
  signal: AbortSignal;
}

/** Thrown by a remote handler for a business (BPMN) error: not retried, follows the process's failure policy. */
export class RemoteBusinessError extends Error {
  constructor(readonly errorCode: string, message?: string) {
    super(message ?? errorCode);
    this.name = "RemoteBusinessError";
  }
}

/** Options of {@link TasklaneClient}. */
export interface ClientOptions {
  /** The server's base URL, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** A bearer token with the `work` scope. */
  token: string;
  /** This worker's id (default `<host>:<pid>:<random>`): the lock owner of every task it takes. */
  workerId?: string;
  /** Called with errors the client recovers from (network, server restarts). */
  onError?: (err: unknown) => void;
}

/** Options of {@link TasklaneClient.subscribe}. */
export interface SubscribeOptions {
  /** Handlers running at once for this topic (default 10). */
  concurrency?: number;
  /** Lock duration per task in ms (default 30,000); extended every half of it while the handler runs. */
  lockDurationMs?: number;
  /** How long one fetch waits for a task on the server (default 20,000 ms). */
  longPollingMs?: number;
}

type Handler = (task: RemoteTask<never>, ctx: RemoteContext) => Promise<unknown> | unknown;

/** A Node worker that runs handlers over HTTP. */
export class TasklaneClient {
  readonly workerId: string;
  readonly #base: string;
  readonly #token: string;
  readonly #onError: (err: unknown) => void;
  readonly #loops: Promise<void>[] = [];
  readonly #running = new Map<string, AbortController>();
  readonly #stopFetching = new AbortController();
  #stopped: Promise<void> | undefined;

  constructor(options: ClientOptions) {
    this.#base = `${options.baseUrl.replace(/\/$/, "")}/api/external_task/v1`;
    this.#token = options.token;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Starts fetching tasks of `topic` and running `handler` on them. */
  subscribe<P = unknown>(topic: string, handler: (task: RemoteTask<P>, ctx: RemoteContext) => Promise<unknown> | unknown, options: SubscribeOptions = {}): void {
    if (this.#stopFetching.signal.aborted) throw new Error("this client was stopped; create a new one");
    const settings = { concurrency: options.concurrency ?? 10, lockDurationMs: options.lockDurationMs ?? 30_000, longPollingMs: options.longPollingMs ?? 20_000 };
    this.#loops.push(this.#loop(topic, handler as Handler, settings));
  }

  /** Handlers running right now. */
  get running(): number {
    return this.#running.size;
  }

  /**
   * Stops fetching, waits up to `graceMs` (default 30 s) for running handlers, then aborts them.
   * Resolves when every loop ended.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopFetching.abort();
      const grace = new Promise((r) => setTimeout(r, options.graceMs ?? 30_000).unref());
      await Promise.race([Promise.all(this.#loops), grace]);
      for (const c of this.#running.values()) c.abort(new Error("the client is stopping"));
      await Promise.all(this.#loops);
    })();
    return this.#stopped;
  }

  async #loop(topic: string, handler: Handler, s: { concurrency: number; lockDurationMs: number; longPollingMs: number }): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let backoff = 100;
    while (!this.#stopFetching.signal.aborted) {
      if (inFlight.size >= s.concurrency) {
        await Promise.race(inFlight);
        continue;
      }
      let tasks: RemoteTask[];
      try {
        tasks = (await this.#post("/fetch_and_lock", {
          workerId: this.workerId, topicName: topic, maxTasks: s.concurrency - inFlight.size,
          longPollingTimeout: s.longPollingMs, lockDuration: s.lockDurationMs,
        }, this.#stopFetching.signal)) as RemoteTask[];
        backoff = 100;
      } catch (err) {
        if (this.#stopFetching.signal.aborted) break;
        this.#onError(err);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5_000);
        continue;
      }
      for (const task of tasks) {
        const run = this.#run(task, handler, s.lockDurationMs).finally(() => inFlight.delete(run));
        inFlight.add(run);
      }
    }
    await Promise.all(inFlight);
  }

  async #run(task: RemoteTask, handler: Handler, lockDurationMs: number): Promise<void> {
    const controller = new AbortController();
    this.#running.set(task.id, controller);
    // Keep the lock while the handler works; a failed extension means the lock is gone.
    const extend = setInterval(() => {
      this.#post(`/task/${task.id}/extend_lock`, { workerId: this.workerId, additionalDuration: lockDurationMs }).catch((err) => {
        controller.abort(new Error(`task ${task.id}: the lock could not be extended (${(err as Error).message})`));
      });
    }, Math.max(100, Math.floor(lockDurationMs / 2)));
    try {
      const result = await handler(task as RemoteTask<never>, { signal: controller.signal });
      if (!controller.signal.aborted) await this.#post(`/task/${task.id}/finish`, { workerId: this.workerId, result: result ?? null });
    } catch (err) {
      if (controller.signal.aborted) return; // lost or stopping: the server re-runs it after the lock
      try {
        if (err instanceof RemoteBusinessError) {
          await this.#post(`/task/${task.id}/handle_bpmn_error`, { workerId: this.workerId, errorCode: err.errorCode, errorMessage: err.message });
        } else {
          const e = err as Error;
          await this.#post(`/task/${task.id}/handle_service_error`, { workerId: this.workerId, errorMessage: e?.message ?? String(err), errorDetails: e?.stack ?? null });
        }
      } catch (reportErr) {
        this.#onError(reportErr);
      }
    } finally {
      clearInterval(extend);
      this.#running.delete(task.id);
    }
  }

  async #post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const res = await fetch(this.#base + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.#token}` },
      body: JSON.stringify(body),
      ...(signal && { signal }),
    });
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return res.status === 204 ? null : res.json();
  }
}

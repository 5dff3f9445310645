/**
 * Typed events of a Tasklane instance, for metrics, logs and tests that wait on what happened
 * instead of sleeping.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import type { RunningTask, TaskError } from "./task.js";

/** Event names and their listener arguments. */
export interface TasklaneEvents {
  /** A handler started an attempt on this instance. */
  "task:started": [task: RunningTask, workerId: string];
  /** An attempt's success was written. */
  "task:completed": [task: RunningTask, result: unknown];
  /** An attempt's failure was written; `retrying` tells whether another attempt is scheduled. */
  "task:failed": [task: RunningTask, error: TaskError, retrying: boolean];
  /**
   * An attempt ended from outside its handler (cancelled, marked completed by an operator, past
   * its deadline) or lost its lease (rescued after a freeze): its result is dropped.
   */
  "lease:lost": [task: RunningTask, reason: "cancelled" | "completed" | "deadline" | "lease_lost"];
  /** A worker hit a database error it will retry (claiming, writing outcomes, renewing leases). */
  "worker:error": [error: unknown, workerId: string];
}

/** The emitter behind {@link Tasklane.on}. */
export class TasklaneEmitter {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Many tests and dashboards subscribe; the default warning at 10 would only be noise.
    this.#emitter.setMaxListeners(0);
  }

  on<E extends keyof TasklaneEvents>(event: E, listener: (...args: TasklaneEvents[E]) => void): void {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
  }

  off<E extends keyof TasklaneEvents>(event: E, listener: (...args: TasklaneEvents[E]) => void): void {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
  }

  once<E extends keyof TasklaneEvents>(event: E, listener: (...args: TasklaneEvents[E]) => void): void {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
  }

  /** Emits only when someone listens, so an unobserved instance pays nothing per task. */
  emit<E extends keyof TasklaneEvents>(event: E, ...args: TasklaneEvents[E]): void {
    if (this.#emitter.listenerCount(event) === 0) return;
    try {
      this.#emitter.emit(event, ...args);
    } catch {
      // A listener's bug must not break the worker loop.
    }
  }
}

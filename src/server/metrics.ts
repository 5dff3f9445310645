/**
 * Prometheus metrics of one app (`GET /metrics`), on a registry of its own so that two apps in
 * one process, or an application's own prom-client metrics, do not collide.
 *
 * - `tasklane_tasks{state,topic}`: tasks in each state but completed, by topic (from the stats
 *   query, cached for a few seconds so frequent scrapes cost the database nothing more).
 * - `tasklane_tasks_completed`: completed tasks still stored (exact up to 10,000, then estimated).
 * - `tasklane_processes{state}`: processes that are not completed.
 * - `tasklane_task_completions_total{topic}`, `tasklane_task_failures_total{topic,retrying}`,
 *   `tasklane_lease_losses_total{topic,reason}`, `tasklane_attempt_duration_seconds{topic,outcome}`:
 *   fed by this instance's events, so they count the attempts its own workers run.
 * - `tasklane_http_requests_total{method,route,status}`, `tasklane_http_request_duration_seconds{…}`.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Tasklane } from "../tasklane.js";
import type { TaskStats } from "./stats.js";

/** How long one stats reading serves scrapes. */
const statsTtlMs = 5_000;

/** Attempts whose start is remembered at most: a bound in case ends are never reported. */
const maxOpenAttempts = 100_000;

/** The metrics of one app. */
export class Metrics {
  /** The app's own registry. */
  readonly registry = new Registry();
  readonly #http: { count: Counter<"method" | "route" | "status">; duration: Histogram<"method" | "route" | "status"> };
  #cached: { stats: Promise<TaskStats>; until: number } | undefined;

  constructor(tl: Pick<Tasklane, "on">, stats: () => Promise<TaskStats>) {
    const registers = [this.registry];
    const read = () => {
      const now = Date.now();
      if (!this.#cached || this.#cached.until <= now) {
        const pending = stats();
        // A failed reading is not kept: the next scrape tries again.
        pending.catch(() => (this.#cached = undefined));
        this.#cached = { stats: pending, until: now + statsTtlMs };
      }
      return this.#cached.stats;
    };
    new Gauge({
      name: "tasklane_tasks", help: "Tasks by state and topic (every state but completed).", labelNames: ["state", "topic"], registers,
      async collect() {
        const s = await read();
        this.reset();
        for (const [topic, states] of Object.entries(s.topics)) {
          for (const [state, n] of Object.entries(states)) if (state !== "completed") this.set({ state, topic }, n);
        }
      },
    });
    new Gauge({
      name: "tasklane_tasks_completed", help: "Completed tasks still stored (exact up to 10,000, then the planner's estimate).", registers,
      async collect() {
        this.set((await read()).tasks.completed);
      },
    });
    new Gauge({
      name: "tasklane_processes", help: "Processes that are not completed, by state.", labelNames: ["state"], registers,
      async collect() {
        const s = await read();
        this.reset();
        for (const [state, n] of Object.entries(s.processes)) this.set({ state }, n);
      },
    });

    const completions = new Counter({ name: "tasklane_task_completions_total", help: "Attempts that completed, by topic.", labelNames: ["topic"], registers });
    const failures = new Counter({
      name: "tasklane_task_failures_total", help: "Attempts that failed, by topic and whether another attempt follows.", labelNames: ["topic", "retrying"], registers,
    });
    const leaseLosses = new Counter({
      name: "tasklane_lease_losses_total", help: "Attempts ended from outside their handler or that lost their lease, by reason.", labelNames: ["topic", "reason"], registers,
    });
    const duration = new Histogram({
      name: "tasklane_attempt_duration_seconds", help: "Duration of attempts run by this instance's workers.", labelNames: ["topic", "outcome"], registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    });
    const started = new Map<string, number>();
    const attemptKey = (t: { id: string; attempt: number }) => `${t.id}:${t.attempt}`;
    const finish = (t: { id: string; attempt: number; topic: string }, outcome: string) => {
      const key = attemptKey(t);
      const at = started.get(key);
      started.delete(key);
      if (at !== undefined) duration.observe({ topic: t.topic, outcome }, (performance.now() - at) / 1000);
    };
    tl.on("task:started", (t) => {
      if (started.size >= maxOpenAttempts) started.clear();
      started.set(attemptKey(t), performance.now());
    });
    tl.on("task:completed", (t) => {
      completions.inc({ topic: t.topic });
      finish(t, "completed");
    });
    tl.on("task:failed", (t, _error, retrying) => {
      failures.inc({ topic: t.topic, retrying: String(retrying) });
      finish(t, "failed");
    });
    tl.on("lease:lost", (t, reason) => {
      leaseLosses.inc({ topic: t.topic, reason });
      started.delete(attemptKey(t));
    });

    const labelNames = ["method", "route", "status"] as const;
    this.#http = {
      count: new Counter({ name: "tasklane_http_requests_total", help: "HTTP requests by route and status.", labelNames, registers }),
      duration: new Histogram({
        name: "tasklane_http_request_duration_seconds", help: "HTTP request durations by route and status.", labelNames, registers,
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      }),
    };
  }

  /** Counts and times every request, labelled by the route pattern (never the raw path, which would let clients mint series). */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const start = performance.now();
      try {
        await next();
      } finally {
        // The last route with a handler of its own, not a middleware's wildcard; none: no route matched.
        const route = matchedRoutes(c).filter((r) => r.method !== "ALL").at(-1)?.path ?? "unmatched";
        const labels = { method: c.req.method, route, status: String(c.res.status) };
        this.#http.count.inc(labels);
        this.#http.duration.observe(labels, (performance.now() - start) / 1000);
      }
    };
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}

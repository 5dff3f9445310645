/**
 * Operations routes against a real server: workers, stats, schedules, /metrics, /openapi.json,
 * /healthz and /readyz.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { adHoc } from "../../src/db/queries.js";
import type { Worker } from "../../src/runtime/worker.js";
import { until } from "../support/backends.js";
import { describeServers, expectError, expectJson, startServer, type TestServer } from "./support.js";

describeServers("HTTP operations API", (kind) => {
  let t: TestServer;
  let worker: Worker;
  beforeAll(async () => {
    t = await startServer(kind);
    t.server.tl.define("ops.work", async (task) => {
      if ((task.payload as { fail?: boolean } | null)?.fail) throw new Error("asked to fail");
      return "ok";
    });
    worker = t.server.tl.worker({ pollIntervalMs: 20, id: "ops-worker" });
    await worker.start();
  });
  afterAll(async () => {
    await worker?.stop({ graceMs: 0 });
    await t?.server.close();
  });

  it("GET /workers lists the running worker", async () => {
    const { workers } = await expectJson<{ workers: { id: string; state: string; topics: string[] }[] }>(await t.call("GET", "/api/v1/workers"), 200);
    expect(workers).toContainEqual(expect.objectContaining({ id: "ops-worker", state: "running", topics: ["ops.work"] }));
  });

  it("GET /stats counts tasks by state and topic, and processes by state", async () => {
    const tl = t.server.tl;
    const done = await tl.enqueue("ops.work", null);
    const failed = await tl.enqueue("ops.work", { fail: true }, { retry: { maxAttempts: 1 } });
    await tl.enqueue("ops.later", null, { runAt: new Date("2099-01-01T00:00:00Z") });
    await tl.startProcess({ name: "stats", steps: [{ name: "a", topic: "ops.idle", dependsOn: [] }] });
    await until("outcomes", async () => (await tl.getTask(done.id))?.state === "completed" && (await tl.getTask(failed.id))?.state === "failed");
    const stats = await expectJson<Record<string, any>>(await t.call("GET", "/api/v1/stats"), 200);
    expect(stats.tasks).toMatchObject({ completed: 1, failed: 1, ready: 2 });
    expect(Object.keys(stats.tasks).sort()).toEqual(["cancelled", "completed", "expired", "failed", "pending", "ready", "running", "suspended", "waiting"]);
    expect(stats.completedEstimated).toBe(false);
    expect(stats.topics).toMatchObject({ "ops.work": { completed: 1, failed: 1 }, "ops.later": { ready: 1 }, "ops.idle": { ready: 1 } });
    expect(stats.processes).toEqual({ running: 1 });
  });

  it("GET /metrics exposes gauges, counters and HTTP metrics in Prometheus text", async () => {
    await expectJson(await t.call("GET", "/api/v1/stats"), 200);
    const res = await t.call("GET", "/metrics", { token: t.tokens.read });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^tasklane_tasks\{state="failed",topic="ops.work"\} 1$/m);
    expect(text).toMatch(/^tasklane_tasks_completed \d+$/m);
    expect(text).toMatch(/^tasklane_processes\{state="running"\} 1$/m);
    expect(text).toMatch(/^tasklane_task_completions_total\{topic="ops.work"\} [1-9]/m);
    expect(text).toMatch(/^tasklane_task_failures_total\{topic="ops.work",retrying="false"\} [1-9]/m);
    expect(text).toMatch(/^tasklane_attempt_duration_seconds_count\{topic="ops.work",outcome="completed"\} [1-9]/m);
    expect(text).toContain("# TYPE tasklane_lease_losses_total counter");
    expect(text).toMatch(/^tasklane_http_requests_total\{method="GET",route="\/api\/v1\/stats",status="200"\} [1-9]/m);
    expect(text).toMatch(/^tasklane_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/v1\/stats",status="200"\}/m);
  });

  it("lease losses are counted when a running task is cancelled", async () => {
    const tl = t.server.tl;
    tl.define("ops.slow", async (_task, ctx) => new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("aborted")))));
    const slowWorker = tl.worker({ topics: ["ops.slow"], pollIntervalMs: 20 });
    await slowWorker.start();
    try {
      const task = await tl.enqueue("ops.slow", null);
      await until("running", async () => (await tl.getTask(task.id))?.state === "running");
      await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/cancel`), 200);
      await until("lease loss counted", async () => /tasklane_lease_losses_total\{topic="ops.slow",reason="cancelled"\} 1/.test(await (await t.call("GET", "/metrics")).text()));
    } finally {
      await slowWorker.stop({ graceMs: 0 });
    }
  });

  it("schedules: create 201, 409 again, read, list, patch, pause, resume, delete, 404 after", async () => {
    const created = await t.call("POST", "/api/v1/schedules", { body: { name: "nightly", cron: "0 3 * * *", timezone: "Europe/Oslo", topic: "report.build", payload: { a: 1 } } });
    expect(await expectJson(created, 201)).toMatchObject({ name: "nightly", origin: "api", enabled: true, timezone: "Europe/Oslo" });
    expect(created.headers.get("location")).toBe("/api/v1/schedules/nightly");
    await expectError(await t.call("POST", "/api/v1/schedules", { body: { name: "nightly", cron: "0 3 * * *", topic: "x" } }), 409, "CONFLICT");
    const one = await expectJson<{ nextRuns: string[]; events: unknown[] }>(await t.call("GET", "/api/v1/schedules/nightly?nextRuns=3&events=5"), 200);
    expect(one.nextRuns).toHaveLength(3);
    const { schedules } = await expectJson<{ schedules: { name: string }[] }>(await t.call("GET", "/api/v1/schedules"), 200);
    expect(schedules.map((s) => s.name)).toContain("nightly");
    expect(await expectJson(await t.call("PATCH", "/api/v1/schedules/nightly", { body: { cron: "30 4 * * *", maxRuns: null } }), 200)).toMatchObject({ cron: "30 4 * * *" });
    expect(await expectJson(await t.call("POST", "/api/v1/schedules/nightly/pause"), 200)).toMatchObject({ enabled: false });
    await expectError(await t.call("POST", "/api/v1/schedules/nightly/pause"), 409, "INVALID_STATE");
    expect(await expectJson(await t.call("POST", "/api/v1/schedules/nightly/resume"), 200)).toMatchObject({ enabled: true });
    expect(await expectJson(await t.call("DELETE", "/api/v1/schedules/nightly"), 200)).toEqual({ cancelledRuns: [] });
    for (const [method, path] of [["GET", "/api/v1/schedules/nightly"], ["DELETE", "/api/v1/schedules/nightly"], ["PATCH", "/api/v1/schedules/nightly"], ["POST", "/api/v1/schedules/nightly/pause"], ["GET", "/api/v1/schedules/%00"]] as const) {
      await expectError(await t.call(method, path, { body: method === "PATCH" ? { cron: "* * * * *" } : undefined }), 404, "NOT_FOUND");
    }
    for (const body of [{ name: "x", cron: "not cron", topic: "t" }, { name: "x", cron: "* * * * *", topic: "t", timezone: "Mars/Base" }, { name: "bad name!", cron: "* * * * *", topic: "t" }, { name: "x", cron: "* * * * *", topic: "t", every: 5 }, { name: "x", cron: "* * * * *" }]) {
      await expectError(await t.call("POST", "/api/v1/schedules", { body }), 400, "VALIDATION");
    }
    await expectError(await t.call("GET", "/api/v1/schedules?nextRuns=500"), 400, "VALIDATION");
  });

  it("/openapi.json is OpenAPI 3.1 with every API route, the dialects, and resolvable references", async () => {
    const doc = await expectJson<Record<string, any>>(await fetch(`${t.url}/openapi.json`), 200);
    expect(doc.openapi).toBe("3.1.0");
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m.toUpperCase()} ${p}`));
    for (const route of [
      "POST /api/v1/tasks", "GET /api/v1/tasks", "GET /api/v1/tasks/{id}", "GET /api/v1/tasks/{id}/failure", "POST /api/v1/tasks/retry-all",
      "POST /api/v1/tasks/{id}/retry", "POST /api/v1/tasks/{id}/cancel", "POST /api/v1/tasks/{id}/complete", "POST /api/v1/tasks/{id}/suspend",
      "POST /api/v1/tasks/{id}/resume", "POST /api/v1/tasks/{id}/events", "POST /api/v1/processes", "GET /api/v1/processes",
      "GET /api/v1/processes/{idOrKey}", "POST /api/v1/processes/{idOrKey}/cancel", "POST /api/v1/processes/{idOrKey}/events",
      "GET /api/v1/workers", "GET /api/v1/stats", "GET /api/v1/schedules", "POST /api/v1/schedules", "PATCH /api/v1/schedules/{name}",
      "DELETE /api/v1/schedules/{name}", "GET /api/v1/tokens", "POST /api/v1/tokens", "DELETE /api/v1/tokens/{id}",
      "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json",
      "POST /api/external_task/v1/fetch_and_lock", "POST /api/external_task/v1/task/{id}/finish", "POST /engine-rest/external-task/fetchAndLock",
    ]) {
      expect(routes).toContain(route);
    }
    const enqueue = doc.paths["/api/v1/tasks"].post;
    expect(enqueue["x-required-scope"]).toBe("start");
    expect(enqueue.requestBody.content["application/json"].schema).toMatchObject({ type: "object", additionalProperties: false, required: ["topic"] });
    expect(doc.paths["/api/v1/tasks"].get.parameters.map((p: { name: string }) => p.name)).toEqual(["state", "topic", "tag", "search", "limit", "cursor", "createdAfter", "createdBefore"]);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      const target = ref.split("/").reduce<any>((node, key) => node?.[key], doc);
      expect({ ref, resolved: target !== undefined }).toEqual({ ref, resolved: true });
    }
  });

  it("/healthz is ok; /readyz is 503 NOT_READY when a migration is missing", async () => {
    expect(await expectJson(await fetch(`${t.url}/healthz`), 200)).toEqual({ status: "ok" });
    expect(await expectJson(await fetch(`${t.url}/readyz`), 200)).toEqual({ status: "ready" });
    const { driver } = t.server.tl.engine;
    const table = `${t.server.tl.schema}.migration`;
    const [row] = await driver.query<{ version: number; name: string }>(adHoc(`DELETE FROM ${table} WHERE version = 1 RETURNING version, name`));
    try {
      const error = await expectError(await fetch(`${t.url}/readyz`), 503, "NOT_READY");
      expect(error.details).toEqual({ missing: [1] });
    } finally {
      await driver.query(adHoc(`INSERT INTO ${table} (version, name) VALUES ($1, $2)`), [row!.version, row!.name]);
    }
  });

  it("no request was a server fault", () => {
    expect(t.logged).toEqual([]);
  });
});

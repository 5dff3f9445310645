/**
 * The 5Minds ExternalTask API over HTTP (base /api/external_task/v1): shapes, status codes
 * (204, 400, 401, 403, 404, 410, 423), long polling and lenient bodies.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeServers, expectError, expectJson, startExternalServer, type ExternalServer } from "./support.js";
import { until } from "../support/backends.js";

const base = "/api/external_task/v1";

describeServers("5Minds external task API", (kind) => {
  let s: ExternalServer;
  beforeAll(async () => {
    s = await startExternalServer(kind);
  }, 60_000);
  afterAll(async () => {
    expect(s.logged).toEqual([]);
    await s.server.close();
  });

  /** A call as a remote worker: the `work` token. */
  const work = (path: string, body?: unknown, raw?: string) => s.call("POST", `${base}${path}`, { body, raw, token: s.tokens.work });
  const fetchAndLock = (topicName: string, workerId = "w1", extra: Record<string, unknown> = {}) =>
    work("/fetch_and_lock", { workerId, topicName, maxTasks: 10, longPollingTimeout: 0, lockDuration: 30_000, ...extra });

  it("needs a token with the work scope: 401 without one, 403 with another scope", async () => {
    const body = { workerId: "w", topicName: "t", maxTasks: 1, longPollingTimeout: 0, lockDuration: 1000 };
    await expectError(await s.call("POST", `${base}/fetch_and_lock`, { body, token: null }), 401, "UNAUTHORIZED");
    await expectError(await s.call("POST", `${base}/fetch_and_lock`, { body, token: s.tokens.read }), 403, "FORBIDDEN");
  });

  it("fetch_and_lock answers the locked tasks in the 5Minds shape", async () => {
    const task = await s.server.tl.enqueue("fm.shape", { amount: 5 }, { key: "order-7" });
    const res = await fetchAndLock("fm.shape");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const tasks = await expectJson<Record<string, unknown>[]>(res, 200);
    expect(tasks).toHaveLength(1);
    expect(Object.keys(tasks[0]!).sort()).toEqual(
      ["correlationId", "createdAt", "flowNodeInstanceId", "id", "lockExpirationTime", "payload", "processInstanceId", "state", "topic", "workerId"],
    );
    expect(tasks[0]).toMatchObject({
      id: task.id, workerId: "w1", topic: "fm.shape", flowNodeInstanceId: task.id, correlationId: "order-7",
      processInstanceId: null, payload: { amount: 5 }, state: "pending", createdAt: task.createdAt.toISOString(),
    });
    expect(Date.parse(tasks[0]!.lockExpirationTime as string)).toBeGreaterThan(Date.now() + 25_000);
    expect(await expectJson(await fetchAndLock("fm.shape", "w2"), 200)).toEqual([]);
  });

  it("process steps carry the step, the process key and the process id", async () => {
    const { process } = await s.server.tl.startProcess({ key: "fm-proc-1", name: "fm.proc", steps: [{ name: "first", topic: "fm.step", payload: { p: 1 } }] });
    const [task] = await expectJson<Record<string, unknown>[]>(await fetchAndLock("fm.step"), 200);
    expect(task).toMatchObject({ flowNodeInstanceId: "first", correlationId: "fm-proc-1", processInstanceId: process.id, payload: { p: 1 } });
    expect((await work(`/task/${task!.id}/finish`, { workerId: "w1", result: { ok: true } })).status).toBe(204);
    expect(await s.server.tl.getProcess(process.id)).toMatchObject({ state: "completed" });
  });

  it("extend_lock and finish answer 204; the result is stored", async () => {
    const task = await s.server.tl.enqueue("fm.finish", null);
    await fetchAndLock("fm.finish");
    const extended = await work(`/task/${task.id}/extend_lock`, { workerId: "w1", additionalDuration: 120_000 });
    expect(extended.status).toBe(204);
    expect(await extended.text()).toBe("");
    expect((await s.server.tl.getTask(task.id))!.leaseExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 100_000);
    expect((await work(`/task/${task.id}/finish`, { workerId: "w1", result: "just a string" })).status).toBe(204);
    expect(await s.server.tl.getTask(task.id)).toMatchObject({ state: "completed", result: "just a string" });
  });

  it("404 for an unknown task, 423 for another worker's task, 410 for a finished one", async () => {
    for (const id of ["987654321", "not-a-number"]) {
      await expectError(await work(`/task/${id}/finish`, { workerId: "w1", result: {} }), 404, "NOT_FOUND");
    }
    const task = await s.server.tl.enqueue("fm.codes", null);
    await fetchAndLock("fm.codes", "holder");
    for (const [path, body] of [
      ["extend_lock", { workerId: "other", additionalDuration: 1000 }],
      ["finish", { workerId: "other", result: { stolen: true } }],
      ["handle_bpmn_error", { workerId: "other", errorCode: "X" }],
      ["handle_service_error", { workerId: "other", errorMessage: "x", errorDetails: null }],
    ] as const) {
      const error = await expectError(await work(`/task/${task.id}/${path}`, body), 423, "LOCKED");
      expect(error.details).toMatchObject({ lockedBy: "holder" });
    }
    expect(await s.server.tl.getTask(task.id)).toMatchObject({ state: "running", workerId: "holder", result: null });
    expect((await work(`/task/${task.id}/finish`, { workerId: "holder", result: 1 })).status).toBe(204);
    for (const path of ["finish", "extend_lock", "handle_bpmn_error", "handle_service_error"]) {
      await expectError(await work(`/task/${task.id}/${path}`, { workerId: "holder", result: 2, additionalDuration: 1, errorCode: "E", errorMessage: "m" }), 410, "GONE");
    }
    expect(await s.server.tl.getTask(task.id)).toMatchObject({ state: "completed", result: 1 });
  });

  it("handle_bpmn_error fails at once (errorMessage accepted); handle_service_error retries per policy (errorCode accepted)", async () => {
    const bpmn = await s.server.tl.enqueue("fm.bpmn", null);
    await fetchAndLock("fm.bpmn");
    expect((await work(`/task/${bpmn.id}/handle_bpmn_error`, { workerId: "w1", errorCode: "NO_STOCK", errorMessage: "sold out" })).status).toBe(204);
    expect(await s.server.tl.getTask(bpmn.id)).toMatchObject({ state: "failed", error: { code: "BUSINESS", businessCode: "NO_STOCK", message: "sold out" } });

    const service = await s.server.tl.enqueue("fm.service", null, { retry: { maxAttempts: 2, backoff: "constant", initialDelayMs: 0 } });
    await fetchAndLock("fm.service");
    const failed = await work(`/task/${service.id}/handle_service_error`, { workerId: "w1", errorMessage: "db down", errorDetails: { host: "db1" }, errorCode: "E_DB" });
    expect(failed.status).toBe(204);
    expect(await s.server.tl.getTask(service.id)).toMatchObject({ state: "ready", error: { message: "db down", details: { host: "db1" }, errorCode: "E_DB" } });
    await fetchAndLock("fm.service");
    // `handle_system_error`, the name in the 5Minds documentation, is the same call.
    expect((await work(`/task/${service.id}/handle_system_error`, { workerId: "w1", errorMessage: "still down" })).status).toBe(204);
    expect(await s.server.tl.getTask(service.id)).toMatchObject({ state: "failed", attempt: 2 });
  });

  it("bad input is a 400 and changes nothing; unknown fields are ignored", async () => {
    const task = await s.server.tl.enqueue("fm.bad", null);
    for (const body of [
      { workerId: 5, topicName: "fm.bad" },
      { workerId: "w", topicName: "fm.bad", maxTasks: "ten" },
      { workerId: "w", topicName: "fm.bad", lockDuration: -1 },
      { workerId: "w", topicName: "fm.bad", longPollingTimeout: 99_999_999 },
      { workerId: "w" },
    ]) {
      await expectError(await work("/fetch_and_lock", body), 400, "VALIDATION");
    }
    await expectError(await work("/fetch_and_lock", undefined, "{not json"), 400, "BAD_JSON");
    await expectError(await work(`/task/${task.id}/extend_lock`, { workerId: "w", additionalDuration: "long" }), 400, "VALIDATION");
    await expectError(await work(`/task/${task.id}/handle_bpmn_error`, { workerId: "w" }), 400, "VALIDATION");
    expect(await s.server.tl.getTask(task.id)).toMatchObject({ state: "ready", attempt: 0 });
    const ok = await fetchAndLock("fm.bad", "w", { identity: { token: "x" }, processModelId: "ignored" });
    expect(await expectJson<unknown[]>(ok, 200)).toHaveLength(1);
  });

  it("long polling answers when a task is enqueued later, and ends when the client goes away", async () => {
    const tl = s.server.tl;
    const polling = fetchAndLock("fm.poll", "w1", { longPollingTimeout: 10_000 });
    await until("the poll to wait", async () => tl.external.waiting === 1);
    const task = await tl.enqueue("fm.poll", { late: true });
    const [got] = await expectJson<Record<string, unknown>[]>(await polling, 200);
    expect(got).toMatchObject({ id: task.id, payload: { late: true } });

    const controller = new AbortController();
    const gone = fetch(`${s.url}${base}/fetch_and_lock`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.tokens.work}` },
      body: JSON.stringify({ workerId: "w9", topicName: "fm.nothing", maxTasks: 1, longPollingTimeout: 30_000, lockDuration: 1000 }),
      signal: controller.signal,
    }).catch(() => "aborted");
    await until("the poll to wait", async () => tl.external.waiting === 1);
    controller.abort();
    expect(await gone).toBe("aborted");
    await until("the server to stop waiting", async () => tl.external.waiting === 0, 2_000);
  });
});

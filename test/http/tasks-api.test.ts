/**
 * The task routes of /api/v1 against a real server: listing and search with cursors, detail with
 * history, failure detail, and every operator action with its success and refusal statuses.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { FatalError } from "../../src/errors.js";
import type { Worker } from "../../src/runtime/worker.js";
import { until } from "../support/backends.js";
import { describeServers, expectError, expectJson, startServer, type TestServer } from "./support.js";

type TaskJson = { id: string; state: string; topic: string; [k: string]: unknown };

describeServers("HTTP task API", (kind) => {
  let t: TestServer;
  let worker: Worker;
  beforeAll(async () => {
    t = await startServer(kind);
    const tl = t.server.tl;
    tl.define("fails", async () => {
      throw new FatalError("card declined");
    });
    tl.define("waits", async (_task, ctx) => (ctx.event ? { got: ctx.event.data } : ctx.waitForEvent("paid", { timeoutMs: 60_000 })));
    worker = tl.worker({ pollIntervalMs: 20 });
    await worker.start();
  });
  afterAll(async () => {
    await worker?.stop({ graceMs: 0 });
    await t?.server.close();
  });

  const enqueue = async (body: Record<string, unknown>) => expectJson<TaskJson>(await t.call("POST", "/api/v1/tasks", { body }), 201);
  const state = async (id: string) => (await t.server.tl.getTask(id))!.state;

  it("GET /tasks lists newest first, filters, searches and pages with a cursor", async () => {
    const made: TaskJson[] = [];
    for (let i = 0; i < 7; i++) made.push(await enqueue({ topic: i % 2 ? "list.odd" : "list.even", tags: i < 2 ? ["eu"] : [], key: `list-${i}` }));
    const page = await expectJson<{ tasks: TaskJson[]; nextCursor: string | null }>(await t.call("GET", "/api/v1/tasks?topic=list.even&limit=2"), 200);
    expect(page.tasks.map((x) => x.id)).toEqual([made[6]!.id, made[4]!.id]);
    const seen = [...page.tasks];
    for (let cursor = page.nextCursor; cursor; ) {
      const next = await expectJson<{ tasks: TaskJson[]; nextCursor: string | null }>(await t.call("GET", `/api/v1/tasks?topic=list.even&limit=2&cursor=${cursor}`), 200);
      seen.push(...next.tasks);
      cursor = next.nextCursor;
    }
    expect(seen.map((x) => x.id)).toEqual([6, 4, 2, 0].map((i) => made[i]!.id));
    const tagged = await expectJson<{ tasks: TaskJson[] }>(await t.call("GET", "/api/v1/tasks?tag=eu"), 200);
    expect(tagged.tasks.map((x) => x.id).sort()).toEqual([made[0]!.id, made[1]!.id].sort());
    const searched = await expectJson<{ tasks: TaskJson[] }>(await t.call("GET", "/api/v1/tasks?search=LIST-3"), 200);
    expect(searched.tasks.map((x) => x.id)).toEqual([made[3]!.id]);
    const ready = await expectJson<{ tasks: TaskJson[] }>(await t.call("GET", "/api/v1/tasks?state=ready&topic=list.odd"), 200);
    expect(ready.tasks).toHaveLength(3);
  });

  it("GET /tasks?search says what it searched and pages with the search's cursors", async () => {
    const made: TaskJson[] = [];
    for (let i = 0; i < 3; i++) made.push(await enqueue({ topic: "find.me", key: `needle-${i}` }));
    type Page = { tasks: TaskJson[]; nextCursor: string | null; search?: { indexed: number; scannedTo: string | null; bounded: boolean } };
    const first = await expectJson<Page>(await t.call("GET", "/api/v1/tasks?search=needle-&limit=2"), 200);
    expect(first.tasks.map((x) => x.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(first.search).toEqual({ indexed: 2, scannedTo: null, bounded: false });
    const second = await expectJson<Page>(await t.call("GET", `/api/v1/tasks?search=needle-&limit=2&cursor=${first.nextCursor}`), 200);
    expect(second.tasks.map((x) => x.id)).toEqual([made[0]!.id]);
    expect(second.search).toMatchObject({ indexed: 1, bounded: false });
    expect(second.nextCursor).toBeNull();
    // Without a search, the page has no `search`.
    expect(await expectJson<Page>(await t.call("GET", "/api/v1/tasks?limit=1"), 200)).not.toHaveProperty("search");
    for (const bad of ["x1", "h", "h0", "s-1"]) {
      await expectError(await t.call("GET", `/api/v1/tasks?search=a&cursor=${Buffer.from(bad).toString("base64url")}`), 400, "VALIDATION");
    }
  });

  it("GET /tasks refuses a bad query string with 400", async () => {
    for (const q of ["state=bogus", "limit=0", "limit=1001", "limit=abc", "limit=1.5", "cursor=abc", "cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk", "topic=a%00b", "nope=1", "limit=1&limit=2", "topic="]) {
      await expectError(await t.call("GET", `/api/v1/tasks?${q}`), 400, "VALIDATION");
    }
  });

  it("GET /tasks/:id and /failure show a failed task's attempts, error and stack", async () => {
    const task = await enqueue({ topic: "fails", retry: { maxAttempts: 2 } });
    await until("failure", async () => (await state(task.id)) === "failed");
    const detail = await expectJson<TaskJson & { attempts: unknown[]; events: unknown[] }>(await t.call("GET", `/api/v1/tasks/${task.id}`), 200);
    expect(detail).toMatchObject({ state: "failed", error: { message: "card declined", code: "FATAL" } });
    expect(detail.attempts).toMatchObject([{ attempt: 1, outcome: "failed", error: { message: "card declined" } }]);
    const failure = await expectJson<Record<string, unknown>>(await t.call("GET", `/api/v1/tasks/${task.id}/failure`), 200);
    expect(failure).toMatchObject({ id: task.id, topic: "fails", state: "failed", attempt: 1, error: { message: "card declined", stack: expect.stringContaining("FatalError") } });
    expect(failure.failedAttempts).toHaveLength(1);
    const fresh = await enqueue({ topic: "never.run", runAt: "2099-01-01T00:00:00Z" });
    expect(await expectJson(await t.call("GET", `/api/v1/tasks/${fresh.id}/failure`), 200)).toMatchObject({ error: null, failedAttempts: [] });
    await expectError(await t.call("GET", "/api/v1/tasks/987654321/failure"), 404, "NOT_FOUND");
  });

  it("retry runs a failed task again; retrying a ready task is 409 INVALID_STATE", async () => {
    const task = await enqueue({ topic: "fails", retry: { maxAttempts: 1 } });
    await until("failure", async () => (await state(task.id)) === "failed");
    await worker.stop({ graceMs: 0 });
    try {
      expect(await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/retry`), 200)).toMatchObject({ state: "ready", maxAttempts: 2 });
      await expectError(await t.call("POST", `/api/v1/tasks/${task.id}/retry`), 409, "INVALID_STATE");
    } finally {
      worker = t.server.tl.worker({ pollIntervalMs: 20 });
      await worker.start();
    }
  });

  it("retry-all retries the failed tasks of a topic", async () => {
    const topic = "fails";
    const a = await enqueue({ topic, retry: { maxAttempts: 1 } });
    const b = await enqueue({ topic, retry: { maxAttempts: 1 } });
    await until("failures", async () => (await state(a.id)) === "failed" && (await state(b.id)) === "failed");
    const res = await expectJson<{ retried: number }>(await t.call("POST", "/api/v1/tasks/retry-all", { body: { topic } }), 200);
    expect(res.retried).toBeGreaterThanOrEqual(2);
    await expectJson(await t.call("POST", "/api/v1/tasks/retry-all", { body: { state: "cancelled", topic: "nothing.here" } }), 200);
    await expectError(await t.call("POST", "/api/v1/tasks/retry-all", { body: { state: "completed" } }), 400, "VALIDATION");
  });

  it("suspend, resume, cancel and complete, each refused in the wrong state", async () => {
    const task = await enqueue({ topic: "held", runAt: "2099-01-01T00:00:00Z" });
    expect(await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/suspend`), 200)).toMatchObject({ state: "suspended" });
    await expectError(await t.call("POST", `/api/v1/tasks/${task.id}/suspend`), 409, "INVALID_STATE");
    expect(await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/resume`, { body: {} }), 200)).toMatchObject({ state: "ready" });
    await expectError(await t.call("POST", `/api/v1/tasks/${task.id}/resume`), 409, "INVALID_STATE");
    expect(await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/cancel`), 200)).toMatchObject({ state: "cancelled" });
    await expectError(await t.call("POST", `/api/v1/tasks/${task.id}/cancel`), 409, "INVALID_STATE");
    const other = await enqueue({ topic: "held", runAt: "2099-01-01T00:00:00Z" });
    const done = await expectJson(await t.call("POST", `/api/v1/tasks/${other.id}/complete`, { body: { result: { by: "hand" } } }), 200);
    expect(done).toMatchObject({ state: "completed", result: { by: "hand" } });
    await expectError(await t.call("POST", `/api/v1/tasks/${other.id}/complete`), 409, "INVALID_STATE");
    await expectError(await t.call("POST", `/api/v1/tasks/${other.id}/cancel`, { body: { reason: "x" } }), 400, "VALIDATION");
    for (const action of ["retry", "cancel", "suspend", "resume", "complete"]) {
      await expectError(await t.call("POST", `/api/v1/tasks/987654321/${action}`), 404, "NOT_FOUND");
      await expectError(await t.call("POST", `/api/v1/tasks/abc/${action}`), 404, "NOT_FOUND");
    }
  });

  it("events wake a waiting task; an event to a task not waiting is 409", async () => {
    const task = await enqueue({ topic: "waits" });
    await until("waiting", async () => (await state(task.id)) === "waiting");
    await expectError(await t.call("POST", `/api/v1/tasks/${task.id}/events`, { body: { name: "other" } }), 409, "INVALID_STATE");
    const woken = await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/events`, { body: { name: "paid", data: { amount: 5 } } }), 200);
    expect(woken).toEqual({ woken: [task.id] });
    await until("completed", async () => (await state(task.id)) === "completed");
    expect((await t.server.tl.getTask(task.id))!.result).toEqual({ got: { amount: 5 } });
    await expectError(await t.call("POST", `/api/v1/tasks/${task.id}/events`, { body: { name: "paid" } }), 409, "INVALID_STATE");
    await expectError(await t.call("POST", `/api/v1/tasks/${task.id}/events`, { body: {} }), 400, "VALIDATION");
    await expectError(await t.call("POST", `/api/v1/tasks/${task.id}/events`, { body: { name: "paid", data: "\u0000" } }), 400, "VALIDATION");
    await expectError(await t.call("POST", "/api/v1/tasks/987654321/events", { body: { name: "paid" } }), 404, "NOT_FOUND");
  });

  it("no request was a server fault", () => {
    expect(t.logged).toEqual([]);
  });
});

/**
 * The external-task operations (`tl.external`) on both backends: atomic fetch-and-lock, fencing
 * by worker id, failures with the task's policy or the worker's retries, business errors, and
 * process steps reported remotely.
 */
import { expect, it } from "vitest";
import { InvalidStateError, LeaseLostError, NotFoundError, ValidationError } from "../../src/index.js";
import { describeBackends, until } from "../support/backends.js";

describeBackends("external tasks", (backend) => {
  it("fetchAndLock locks ready tasks of the topics for the worker, priority first, per-topic lock", async () => {
    const tl = await backend.open();
    const low = await tl.enqueue("a", { n: 1 });
    const high = await tl.enqueue("a", { n: 2 }, { priority: 5 });
    const other = await tl.enqueue("b", { n: 3 });
    await tl.enqueue("c", { n: 4 });
    await tl.enqueue("a", { n: 5 }, { delayMs: 60_000 });
    const before = Date.now();
    const tasks = await tl.external.fetchAndLock({
      workerId: "w1",
      topics: [{ topic: "a", lockDurationMs: 60_000 }, { topic: "b", lockDurationMs: 5_000 }],
      maxTasks: 10,
    });
    expect(tasks.map((t) => t.id)).toEqual([high.id, low.id, other.id]);
    for (const t of tasks) expect(t).toMatchObject({ state: "running", workerId: "w1", attempt: 1 });
    const lockOf = (id: string) => tasks.find((t) => t.id === id)!.lockExpiresAt!.getTime() - before;
    expect(lockOf(high.id)).toBeGreaterThan(55_000);
    expect(lockOf(other.id)).toBeLessThan(6_000);
    expect(await tl.external.fetchAndLock({ workerId: "w2", topics: ["a", "b"] })).toEqual([]);
    expect(await tl.getTask(low.id)).toMatchObject({ state: "running", workerId: "w1" });
  });

  it("maxTasks bounds a fetch; concurrent fetches never lock the same task", async () => {
    const tl = await backend.open();
    await tl.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ topic: "bulk", payload: i })));
    expect(await tl.external.fetchAndLock({ workerId: "w0", topics: ["bulk"], maxTasks: 4 })).toHaveLength(4);
    expect(await tl.external.fetchAndLock({ workerId: "w0", topics: ["bulk"], maxTasks: 0 })).toEqual([]);
    const batches = await Promise.all(
      Array.from({ length: 6 }, (_, i) => tl.external.fetchAndLock({ workerId: `w${i + 1}`, topics: ["bulk"], maxTasks: 5 })),
    );
    const ids = batches.flat().map((t) => t.id);
    expect(ids).toHaveLength(26);
    expect(new Set(ids).size).toBe(26);
  });

  it("complete stores the result; calls from other workers or on finished tasks are rejected and change nothing", async () => {
    const tl = await backend.open();
    const t = await tl.enqueue("job", { x: 1 });
    await tl.external.fetchAndLock({ workerId: "w1", topics: ["job"] });

    await expect(tl.external.complete(t.id, "intruder", { bad: true })).rejects.toBeInstanceOf(LeaseLostError);
    await expect(tl.external.extendLock(t.id, "intruder", 1000)).rejects.toMatchObject({ code: "LEASE_LOST", details: { lockedBy: "w1" } });
    await expect(tl.external.fail(t.id, "intruder", { message: "no" })).rejects.toBeInstanceOf(LeaseLostError);
    await expect(tl.external.bpmnError(t.id, "intruder", "NO")).rejects.toBeInstanceOf(LeaseLostError);
    expect(await tl.getTask(t.id)).toMatchObject({ state: "running", workerId: "w1", result: null });

    const until2 = await tl.external.extendLock(t.id, "w1", 120_000);
    expect(until2.getTime()).toBeGreaterThan(Date.now() + 100_000);
    await tl.external.complete(t.id, "w1", { done: 42 });
    expect(await tl.getTask(t.id)).toMatchObject({ state: "completed", result: { done: 42 } });

    await expect(tl.external.complete(t.id, "w1", { again: true })).rejects.toBeInstanceOf(InvalidStateError);
    await expect(tl.external.extendLock(t.id, "w1", 1000)).rejects.toMatchObject({ code: "INVALID_STATE", details: { state: "completed" } });
    await expect(tl.external.complete("999999", "w1")).rejects.toBeInstanceOf(NotFoundError);
    await expect(tl.external.complete("not-an-id", "w1")).rejects.toBeInstanceOf(NotFoundError);
    await expect(tl.external.complete(t.id, "", {})).rejects.toBeInstanceOf(ValidationError);
    expect(await tl.getTask(t.id)).toMatchObject({ state: "completed", result: { done: 42 } });
    const { events } = await tl.getTaskHistory(t.id);
    expect(events.filter((e) => e.kind === "STALE_RESULT_REJECTED").length).toBeGreaterThanOrEqual(6);
  });

  it("a late finish after the lock expired and another worker fetched the task is rejected; the second result counts", async () => {
    const tl = await backend.open({ maintenance: { intervalMs: 20 } });
    const t = await tl.enqueue("slow", { n: 1 }, { retry: { backoff: "constant", initialDelayMs: 0 } });
    await tl.external.fetchAndLock({ workerId: "first", topics: ["slow"], lockDurationMs: 100 });
    await new Promise((r) => setTimeout(r, 150));
    await until("the expired lock rescued", async () => {
      await tl.maintenance!.runOnce();
      return (await tl.getTask(t.id))?.state === "ready";
    });
    const [again] = await tl.external.fetchAndLock({ workerId: "second", topics: ["slow"] });
    expect(again).toMatchObject({ id: t.id, workerId: "second", attempt: 2 });
    await expect(tl.external.complete(t.id, "first", { from: "first" })).rejects.toMatchObject({ code: "LEASE_LOST", details: { lockedBy: "second" } });
    await tl.external.complete(t.id, "second", { from: "second" });
    await expect(tl.external.complete(t.id, "first", { from: "first" })).rejects.toBeInstanceOf(InvalidStateError);
    expect(await tl.getTask(t.id)).toMatchObject({ state: "completed", result: { from: "second" } });
  });

  it("a late finish of a task whose lock expired and that is ready again is rejected", async () => {
    const tl = await backend.open();
    const t = await tl.enqueue("slow", null, { retry: { backoff: "constant", initialDelayMs: 0 } });
    await tl.external.fetchAndLock({ workerId: "w1", topics: ["slow"], lockDurationMs: 50 });
    await new Promise((r) => setTimeout(r, 80));
    await until("rescued", async () => {
      await tl.maintenance!.runOnce();
      return (await tl.getTask(t.id))?.state === "ready";
    });
    await expect(tl.external.complete(t.id, "w1", {})).rejects.toMatchObject({ code: "LEASE_LOST", details: { state: "ready" } });
    expect(await tl.getTask(t.id)).toMatchObject({ state: "ready", result: null });
  });

  it("fail without retries follows the task's policy; with retries the worker decides", async () => {
    const tl = await backend.open();
    const policy = await tl.enqueue("p", null, { retry: { maxAttempts: 2, backoff: "constant", initialDelayMs: 0 } });
    await tl.external.fetchAndLock({ workerId: "w", topics: ["p"] });
    expect(await tl.external.fail(policy.id, "w", { message: "boom", details: { line: 3 }, errorCode: "E42" })).toBe("retrying");
    expect(await tl.getTask(policy.id)).toMatchObject({ state: "ready", error: { message: "boom", details: { line: 3 }, errorCode: "E42", attempt: 1 } });
    await tl.external.fetchAndLock({ workerId: "w", topics: ["p"] });
    expect(await tl.external.fail(policy.id, "w", { message: "boom again" })).toBe("failed");
    expect(await tl.getTask(policy.id)).toMatchObject({ state: "failed", attempt: 2 });
    expect((await tl.getTaskHistory(policy.id)).attempts.map((a) => a.outcome)).toEqual(["retried", "failed"]);

    const worker = await tl.enqueue("r", null);
    await tl.external.fetchAndLock({ workerId: "w", topics: ["r"] });
    expect(await tl.external.fail(worker.id, "w", { message: "later", retries: 5, retryTimeoutMs: 60_000 })).toBe("retrying");
    const waiting = await tl.getTask(worker.id);
    expect(waiting).toMatchObject({ state: "ready", maxAttempts: 6 });
    expect(waiting!.runAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await tl.external.fetchAndLock({ workerId: "w", topics: ["r"] })).toEqual([]);

    const incident = await tl.enqueue("i", null, { retry: { maxAttempts: 10 } });
    await tl.external.fetchAndLock({ workerId: "w", topics: ["i"] });
    expect(await tl.external.fail(incident.id, "w", { message: "give up", retries: 0 })).toBe("failed");
    expect(await tl.getTask(incident.id)).toMatchObject({ state: "failed", maxAttempts: 1 });
    expect(await tl.external.list({ noRetriesLeft: true })).toMatchObject([{ id: policy.id }, { id: incident.id }]);
  });

  it("bpmnError fails the task at once with the business code", async () => {
    const tl = await backend.open();
    const t = await tl.enqueue("pay", null, { retry: { maxAttempts: 5 } });
    await tl.external.fetchAndLock({ workerId: "w", topics: ["pay"] });
    await tl.external.bpmnError(t.id, "w", "INSUFFICIENT_FUNDS", "card declined");
    expect(await tl.getTask(t.id)).toMatchObject({
      state: "failed",
      error: { code: "BUSINESS", businessCode: "INSUFFICIENT_FUNDS", message: "card declined", attempt: 1 },
    });
  });

  it("lock takes one ready task, renews it for its holder and refuses others; unlock hands it back", async () => {
    const tl = await backend.open();
    const t = await tl.enqueue("one", { a: 1 });
    expect(await tl.external.lock(t.id, "w1", 10_000)).toMatchObject({ id: t.id, state: "running", workerId: "w1", attempt: 1 });
    expect(await tl.external.lock(t.id, "w1", 50_000)).toMatchObject({ attempt: 1 });
    await expect(tl.external.lock(t.id, "w2", 10_000)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await tl.external.unlock(t.id)).toBe(true);
    expect(await tl.getTask(t.id)).toMatchObject({ state: "ready", attempt: 0 });
    expect(await tl.external.unlock(t.id)).toBe(false);
    await expect(tl.external.unlock("424242")).rejects.toBeInstanceOf(NotFoundError);
    const [fetched] = await tl.external.fetchAndLock({ workerId: "w2", topics: ["one"] });
    expect(fetched).toMatchObject({ id: t.id, workerId: "w2", attempt: 1 });
  });

  it("list and count filter, sort and page", async () => {
    const tl = await backend.open();
    const a = await tl.enqueue("q", null, { priority: 1 });
    const b = await tl.enqueue("q", null, { priority: 3 });
    const c = await tl.enqueue("other", null, { priority: 2 });
    await tl.external.lock(b.id, "w1", 60_000);
    expect((await tl.external.list()).map((t) => t.id)).toEqual([a.id, b.id, c.id]);
    expect((await tl.external.list({ sortBy: "priority", descending: true })).map((t) => t.id)).toEqual([b.id, c.id, a.id]);
    expect((await tl.external.list({ topic: "q", locked: true })).map((t) => t.id)).toEqual([b.id]);
    expect((await tl.external.list({ notLocked: true, limit: 1, offset: 1 })).map((t) => t.id)).toEqual([c.id]);
    expect(await tl.external.count({ workerId: "w1" })).toBe(1);
    expect(await tl.external.count({ priorityAtLeast: 2 })).toBe(2);
    expect(await tl.external.count({ ids: [a.id, c.id, "nope"] })).toBe(2);
  });

  it("process steps completed and failed (BPMN) remotely advance and fail their process", async () => {
    const tl = await backend.open();
    const { process } = await tl.startProcess({
      key: "order-1",
      name: "order",
      input: { orderId: 1 },
      steps: [
        { name: "reserve", topic: "stock.reserve" },
        { name: "charge", topic: "payment.charge", dependsOn: ["reserve"] },
        { name: "ship", topic: "shipping.book", dependsOn: ["charge"] },
      ],
    });
    const [reserve] = await tl.external.fetchAndLock({ workerId: "w", topics: ["stock.reserve", "payment.charge"] });
    expect(reserve).toMatchObject({ step: "reserve", processId: process.id, processKey: "order-1", processName: "order", processInput: { orderId: 1 } });
    await tl.external.complete(reserve!.id, "w", { reserved: true });
    const [charge] = await tl.external.fetchAndLock({ workerId: "w", topics: ["payment.charge"] });
    expect(charge).toMatchObject({ step: "charge", parentResults: [{ reserved: true }] });
    await tl.external.bpmnError(charge!.id, "w", "DECLINED");
    const after = await tl.getProcess(process.id);
    expect(after!.state).toBe("failed");
    expect(after!.steps.find((s) => s.name === "ship")).toMatchObject({ state: "cancelled" });
  });

  it("a completed last step completes its process", async () => {
    const tl = await backend.open();
    const { process } = await tl.startProcess({ name: "single", steps: [{ name: "only", topic: "solo" }] });
    const [task] = await tl.external.fetchAndLock({ workerId: "w", topics: ["solo"] });
    await tl.external.complete(task!.id, "w", { ok: true });
    expect(await tl.getProcess(process.id)).toMatchObject({ state: "completed" });
  });
});

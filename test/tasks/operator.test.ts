import { expect, it } from "vitest";
import { InvalidStateError, NotFoundError, ValidationError } from "../../src/index.js";
import { describeBackends, until } from "../support/backends.js";

describeBackends("operator actions", (backend) => {
  /** A task that has failed for good (one attempt, FatalError-free plain failure). */
  async function failedTask(tl: Awaited<ReturnType<typeof backend.open>>, topic = "f") {
    const task = await tl.enqueue(topic, null, { retry: { maxAttempts: 1 } });
    return task;
  }

  it("retry runs a failed task once more; a completed task cannot be retried", async () => {
    const tl = await backend.open();
    let calls = 0;
    tl.define("f", async () => {
      if (++calls === 1) throw new Error("first fails");
      return "second works";
    });
    const task = await failedTask(tl);
    const worker = tl.worker({ pollIntervalMs: 20 });
    await worker.start();
    await until("failure", async () => (await tl.getTask(task.id))?.state === "failed");
    expect(await tl.retry(task.id, { actor: "alice" })).toMatchObject({ state: "ready", maxAttempts: 2 });
    await until("completion", async () => (await tl.getTask(task.id))?.state === "completed");
    expect(await tl.getTask(task.id)).toMatchObject({ attempt: 2, result: "second works" });
    expect((await tl.getTaskHistory(task.id)).events).toMatchObject([{ kind: "RETRIED", actor: "alice" }]);
    await expect(tl.retry(task.id)).rejects.toBeInstanceOf(InvalidStateError);
  });

  it("retryAll retries every failed task of a topic", async () => {
    const tl = await backend.open();
    tl.define("a", async (task) => {
      if (task.attempt === 1) throw new Error("no");
    });
    tl.define("b", async () => { throw new Error("never"); });
    const tasks = await tl.enqueueMany([
      ...Array.from({ length: 5 }, () => ({ topic: "a", retry: { maxAttempts: 1 } })),
      { topic: "b", retry: { maxAttempts: 1 } },
    ]);
    const worker = tl.worker({ pollIntervalMs: 20 });
    await worker.start();
    await until("all failed", async () => (await tl.listTasks({ state: "failed" })).tasks.length === 6);
    await worker.stop();
    expect(await tl.retryAll({ topic: "a" })).toBe(5);
    expect((await tl.listTasks({ state: "ready" })).tasks).toHaveLength(5);
    expect((await tl.getTask(tasks[5]!.id))!.state).toBe("failed");
    await expect(tl.retryAll({ state: "running" as never })).rejects.toBeInstanceOf(ValidationError);
  });

  it("cancels a queued task at once, and refuses to cancel a finished one", async () => {
    const tl = await backend.open();
    const task = await tl.enqueue("nobody", null, { delayMs: 60_000 });
    expect(await tl.cancel(task.id)).toMatchObject({ state: "cancelled" });
    expect((await tl.getTask(task.id))!.finishedAt).not.toBeNull();
    const err = await tl.cancel(task.id).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidStateError);
    expect(err.message).toContain("cancelled");
  });

  it("marks a task done with a result (and can mark a failed one done)", async () => {
    const tl = await backend.open();
    const queued = await tl.enqueue("x", null);
    expect(await tl.complete(queued.id, { manual: true }, { actor: "bob" })).toMatchObject({ state: "completed", result: { manual: true } });
    expect((await tl.getTaskHistory(queued.id)).events).toMatchObject([{ kind: "MARKED_COMPLETED", actor: "bob", data: { from: "ready" } }]);
    await expect(tl.complete(queued.id, null)).rejects.toBeInstanceOf(InvalidStateError);
    await expect(tl.complete(queued.id, 1n)).rejects.toBeInstanceOf(ValidationError);
  });

  it("suspends and resumes a task to the state it had", async () => {
    const tl = await backend.open();
    let ran = 0;
    tl.define("s", async () => void ran++);
    const task = await tl.enqueue("s", null);
    expect(await tl.suspend(task.id)).toMatchObject({ state: "suspended" });
    await expect(tl.suspend(task.id)).rejects.toBeInstanceOf(InvalidStateError);
    const worker = tl.worker({ pollIntervalMs: 20 });
    await worker.start();
    const marker = await tl.enqueue("s", null);
    await until("marker", async () => (await tl.getTask(marker.id))?.state === "completed");
    expect(ran).toBe(1);
    expect(await tl.resume(task.id)).toMatchObject({ state: "ready" });
    await until("resumed task", async () => (await tl.getTask(task.id))?.state === "completed");
    await expect(tl.resume(task.id)).rejects.toBeInstanceOf(InvalidStateError);
  });

  it("answers NotFoundError for unknown or malformed ids, and getTask null", async () => {
    const tl = await backend.open();
    for (const id of ["999999", "abc", "-1", "1e3", "99999999999999999999"]) {
      expect(await tl.getTask(id)).toBeNull();
      await expect(tl.cancel(id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(tl.retry(id)).rejects.toBeInstanceOf(NotFoundError);
    }
  });

  it("lists with filters and keyset pagination, newest first", async () => {
    const tl = await backend.open();
    await tl.enqueueMany(Array.from({ length: 25 }, (_, i) => ({ topic: i % 2 ? "odd" : "even", payload: i, tags: i % 5 ? [] : ["five"], key: `key-${i}` })));
    const seen: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await tl.listTasks({ limit: 10, ...(cursor ? { cursor } : {}) });
      seen.push(...page.tasks.map((t) => t.payload));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
    expect((await tl.listTasks({ topic: "odd", limit: 100 })).tasks).toHaveLength(12);
    expect((await tl.listTasks({ tag: "five" })).tasks.map((t) => t.payload)).toEqual([20, 15, 10, 5, 0]);
    expect((await tl.listTasks({ search: "KEY-1" })).tasks.map((t) => t.payload)).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 1]);
    expect((await tl.listTasks({ search: "%" })).tasks).toHaveLength(0);
    expect((await tl.listTasks({ state: "completed" })).tasks).toHaveLength(0);
    await expect(tl.listTasks({ state: "nope" as never })).rejects.toBeInstanceOf(ValidationError);
    await expect(tl.listTasks({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(tl.listTasks({ cursor: "!!" })).rejects.toBeInstanceOf(ValidationError);
  });

  it("computes retry delays: constant, linear, exponential, capped, with equal jitter", async () => {
    const tl = await backend.open();
    const delay = async (kind: string, initial: number, max: number, jitter: boolean, attempt: number) => {
      const [row] = await tl.engine.driver.query<{ ms: number }>(
        { name: "", text: `SELECT extract(epoch FROM ${tl.schema}.retry_delay($1, $2, $3, $4, $5)) * 1000 AS ms` },
        [kind, initial, max, jitter, attempt],
      );
      return Math.round(Number(row!.ms));
    };
    expect(await delay("constant", 1000, 60_000, false, 4)).toBe(1000);
    expect(await delay("linear", 1000, 60_000, false, 4)).toBe(4000);
    expect(await delay("exponential", 1000, 60_000, false, 1)).toBe(1000);
    expect(await delay("exponential", 1000, 60_000, false, 4)).toBe(8000);
    expect(await delay("exponential", 1000, 60_000, false, 40)).toBe(60_000);
    for (let i = 0; i < 20; i++) {
      const d = await delay("exponential", 1000, 60_000, true, 3);
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });
});

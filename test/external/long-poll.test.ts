/**
 * Long polling: a fetch that finds nothing waits on the shared LISTEN and answers as soon as a
 * task of its topics becomes ready, on this node or (PostgreSQL) on another server.
 */
import { afterEach, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { serve, type RunningServer } from "../../src/server/serve.js";
import { silentLogger } from "../../src/logger.js";
import { describeBackends, until } from "../support/backends.js";

describeBackends("external tasks: long polling", (backend) => {
  it("a waiting fetch answers when a task is enqueued later, not before", async () => {
    const tl = await backend.open();
    const started = Date.now();
    const fetching = tl.external.fetchAndLock({ workerId: "w", topics: ["later"], longPollMs: 10_000 });
    await until("the fetch to wait", async () => tl.external.waiting === 1);
    await tl.enqueue("unrelated", null);
    await new Promise((r) => setTimeout(r, 100));
    const enqueuedAt = Date.now();
    const task = await tl.enqueue("later", { n: 1 });
    const tasks = await fetching;
    expect(tasks.map((t) => t.id)).toEqual([task.id]);
    expect(Date.now() - enqueuedAt).toBeLessThan(500);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(tl.external.waiting).toBe(0);
  });

  it("answers an empty list at the timeout; an abort ends it at once", async () => {
    const tl = await backend.open();
    const t0 = Date.now();
    expect(await tl.external.fetchAndLock({ workerId: "w", topics: ["none"], longPollMs: 300 })).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);

    const controller = new AbortController();
    const t1 = Date.now();
    const fetching = tl.external.fetchAndLock({ workerId: "w", topics: ["none"], longPollMs: 20_000, signal: controller.signal });
    await until("waiting", async () => tl.external.waiting === 1);
    controller.abort();
    expect(await fetching).toEqual([]);
    expect(Date.now() - t1).toBeLessThan(2_000);
    expect(tl.external.waiting).toBe(0);
  });

  it("many waiting fetches share one listener; each task goes to one of them", async () => {
    const tl = await backend.open();
    const fetches = Array.from({ length: 8 }, (_, i) =>
      tl.external.fetchAndLock({ workerId: `w${i}`, topics: ["fan"], longPollMs: 1_500, maxTasks: 1 }),
    );
    await until("all waiting", async () => tl.external.waiting === 8);
    const enqueued = await tl.enqueueMany(Array.from({ length: 3 }, (_, i) => ({ topic: "fan", payload: i })));
    const got = (await Promise.all(fetches)).flat();
    expect(got.map((t) => t.id).sort()).toEqual(enqueued.map((t) => t.id).sort());
    expect(tl.external.waiting).toBe(0);
  });

  it("wakes for a task another worker unlocks, and finds a delayed task once it is due", async () => {
    const tl = await backend.open();
    const t = await tl.enqueue("handover", null);
    await tl.external.fetchAndLock({ workerId: "a", topics: ["handover"] });
    const waiting = tl.external.fetchAndLock({ workerId: "b", topics: ["handover"], longPollMs: 10_000 });
    await until("waiting", async () => tl.external.waiting === 1);
    const unlockedAt = Date.now();
    await tl.external.unlock(t.id);
    expect((await waiting).map((x) => x.id)).toEqual([t.id]);
    expect(Date.now() - unlockedAt).toBeLessThan(500);

    // No NOTIFY when a delayed task becomes due: the long poll's own re-check finds it.
    const delayed = await tl.enqueue("due-soon", null, { delayMs: 300 });
    const found = await tl.external.fetchAndLock({ workerId: "c", topics: ["due-soon"], longPollMs: 5_000 });
    expect(found.map((x) => x.id)).toEqual([delayed.id]);
  });

  it("closing the instance ends waiting fetches with no task", async () => {
    const tl = await backend.open();
    const fetching = tl.external.fetchAndLock({ workerId: "w", topics: ["never"], longPollMs: 30_000 });
    await until("waiting", async () => tl.external.waiting === 1);
    const t0 = Date.now();
    await tl.close();
    expect(await fetching).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describeBackends("external tasks: long polling across servers", (backend) => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it("a fetch waiting on server A returns within 100 ms of an enqueue through server B's HTTP API", async () => {
    const schema = `t_${randomBytes(5).toString("hex")}`;
    const a = await serve({ database: backend.url!, schema, port: 0, logger: silentLogger });
    servers.push(a);
    const b = await serve({ database: backend.url!, schema, port: 0, logger: silentLogger });
    servers.push(b);
    // Tokens live in the shared database: one created through A is good on B too.
    const { token } = await a.tl.createToken({ name: "remote-worker", scopes: ["work", "start"] });
    const post = (server: RunningServer, path: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });

    for (let round = 0; round < 3; round++) {
      let answeredAt = 0;
      const fetching = post(a, "/api/external_task/v1/fetch_and_lock", {
        workerId: "remote", topicName: "cross", maxTasks: 5, longPollingTimeout: 10_000, lockDuration: 30_000,
      }).then(async (res) => {
        answeredAt = Date.now();
        return { status: res.status, body: (await res.json()) as { id: string }[] };
      });
      await until("the fetch to wait on A", async () => a.tl.external.waiting === 1);
      const enqueue = await post(b, "/api/v1/tasks", { topic: "cross", payload: { round } });
      // The task exists from the commit on; B answers right after it. (The commit's own time
      // is the database's, not the long poll's, so it is not counted.)
      const enqueuedAt = Date.now();
      expect(enqueue.status).toBe(201);
      const task = (await enqueue.json()) as { id: string };
      const { status, body } = await fetching;
      expect(status).toBe(200);
      expect(body.map((t) => t.id)).toEqual([task.id]);
      expect(answeredAt - enqueuedAt).toBeLessThan(100);
    }
  });
}, "postgres");

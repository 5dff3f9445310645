import { expect, it } from "vitest";
import type { Tasklane } from "../../src/index.js";
import { deferred, describeBackends, until } from "../support/backends.js";

/** Runs maintenance passes until `done` holds (maintenance is what these timeouts wait for). */
async function maintainUntil(tl: Tasklane, what: string, done: () => Promise<boolean>): Promise<void> {
  await until(what, async () => {
    await tl.maintenance!.runOnce();
    return done();
  });
}

describeBackends("timeouts and recovery", (backend) => {
  it("TASK_HEARTBEAT_TIMEOUT: a handler that stops heartbeating is aborted and retried", async () => {
    const tl = await backend.open();
    const reasons: unknown[] = [];
    tl.define("beat", async (task, ctx) => {
      if (task.attempt === 2) return "second attempt heartbeats in time";
      await ctx.heartbeat({ step: 1 });
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      reasons.push(ctx.signal.reason);
      return "ignored";
    }, { timeouts: { heartbeatMs: 150 }, retry: { backoff: "constant", initialDelayMs: 0 } });
    const task = await tl.enqueue("beat", null);
    await tl.worker({ pollIntervalMs: 20 }).start();
    await until("completion", async () => (await tl.getTask(task.id))?.state === "completed");
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ name: "TimeoutError", code: "TASK_HEARTBEAT_TIMEOUT" });
    const history = await tl.getTaskHistory(task.id);
    expect(history.attempts).toMatchObject([{ attempt: 1, outcome: "timed_out", error: { code: "TASK_HEARTBEAT_TIMEOUT" } }]);
    expect(history.events.map((e) => e.kind)).toEqual(["TASK_HEARTBEAT_TIMEOUT"]);
  });

  it("a handler that heartbeats in time outlives its heartbeat timeout", async () => {
    const tl = await backend.open();
    tl.define("steady", async (_task, ctx) => {
      // Five beats 150 ms apart outlast a 600 ms heartbeat timeout only because each restarts it.
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 150));
        await ctx.heartbeat({ i });
      }
      return "done";
    }, { timeouts: { heartbeatMs: 600 } });
    const task = await tl.enqueue("steady", null);
    await tl.worker({ pollIntervalMs: 20 }).start();
    await until("completion", async () => (await tl.getTask(task.id))?.state === "completed");
    expect(await tl.getTask(task.id)).toMatchObject({ attempt: 1, progress: { i: 4 } });
  });

  it("TASK_POLL_TO_END_TIMEOUT: an attempt past startToCloseMs is aborted and retried", async () => {
    const tl = await backend.open();
    tl.define("slow", async (task, ctx) => {
      if (task.attempt > 1) return "fast enough";
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    }, { timeouts: { startToCloseMs: 100 }, retry: { backoff: "constant", initialDelayMs: 0 } });
    const task = await tl.enqueue("slow", null);
    await tl.worker({ pollIntervalMs: 20 }).start();
    await until("completion", async () => (await tl.getTask(task.id))?.state === "completed");
    const history = await tl.getTaskHistory(task.id);
    expect(history.attempts).toMatchObject([{ outcome: "timed_out", error: { code: "TASK_POLL_TO_END_TIMEOUT" } }]);
    expect(history.events.map((e) => e.kind)).toEqual(["TASK_POLL_TO_END_TIMEOUT"]);
  });

  it("TASK_ENQUEUE_TO_END_TIMEOUT: a running task past its deadline fails without retry", async () => {
    const tl = await backend.open();
    const aborted = deferred<unknown>();
    tl.define("hang", async (_task, ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      aborted.resolve(ctx.signal.reason);
    }, { timeouts: { scheduleToCloseMs: 1_500 }, retry: { maxAttempts: 5 } });
    // The worker listens before the task exists, so it starts well within the deadline.
    await tl.worker({ pollIntervalMs: 20 }).start();
    const task = await tl.enqueue("hang", null);
    expect(await aborted.promise).toMatchObject({ code: "TASK_ENQUEUE_TO_END_TIMEOUT" });
    await until("failure", async () => (await tl.getTask(task.id))?.state === "failed");
    expect((await tl.getTask(task.id))!.attempt).toBe(1);
    expect((await tl.getTaskHistory(task.id)).events.map((e) => e.kind)).toContain("TASK_ENQUEUE_TO_END_TIMEOUT");
  });

  it("TASK_ENQUEUE_TO_END_TIMEOUT: maintenance fails a queued task past its deadline", async () => {
    const tl = await backend.open();
    const task = await tl.enqueue("nobody-runs-this", null, { timeouts: { scheduleToCloseMs: 50 } });
    await maintainUntil(tl, "deadline", async () => (await tl.getTask(task.id))?.state === "failed");
    expect(await tl.getTask(task.id)).toMatchObject({ error: { code: "TASK_ENQUEUE_TO_END_TIMEOUT" } });
    expect((await tl.getTaskHistory(task.id)).events).toMatchObject([{ kind: "TASK_ENQUEUE_TO_END_TIMEOUT", data: { from: "ready" } }]);
  });

  it("TASK_SCHEDULE_TO_START_TIMEOUT: a task not started in time ends expired and is never started", async () => {
    const tl = await backend.open();
    let ran = 0;
    tl.define("late", async () => void ran++);
    const task = await tl.enqueue("late", null, { timeouts: { scheduleToStartMs: 50 } });
    await new Promise((r) => setTimeout(r, 80)); // let it become late before any worker exists
    const marker = await tl.enqueue("late", null);
    await tl.worker({ pollIntervalMs: 20 }).start();
    await until("marker", async () => (await tl.getTask(marker.id))?.state === "completed");
    expect(ran).toBe(1); // the late task was skipped by the claim
    await maintainUntil(tl, "expiry", async () => (await tl.getTask(task.id))?.state === "expired");
    expect(await tl.getTask(task.id)).toMatchObject({ attempt: 0, error: { code: "TASK_SCHEDULE_TO_START_TIMEOUT" } });
    expect((await tl.getTaskHistory(task.id)).events.map((e) => e.kind)).toEqual(["TASK_SCHEDULE_TO_START_TIMEOUT"]);
  });

  it("rescues an attempt whose lease expired: retried, recorded, onExit sees 'crashed'", async () => {
    const tl = await backend.open();
    const exited = deferred<string>();
    tl.define("crashy", async () => "ok", { onExit: (_task, outcome) => exited.resolve(outcome) });
    const task = await tl.enqueue("crashy", null);
    // A worker that claims and then dies: its lease (1 ms) is never renewed.
    const { driver, queries } = tl.engine;
    const [claimed] = await driver.query<{ lease_token: number }>(queries.get("TaskClaim"), [["crashy"], [], 1, "ghost", 1, null]);
    expect(claimed).toBeDefined();
    await maintainUntil(tl, "rescue", async () => (await tl.getTask(task.id))?.state !== "running");
    expect(await exited.promise).toBe("crashed");
    expect(await tl.getTask(task.id)).toMatchObject({ state: "ready", attempt: 1, error: { code: "LEASE_EXPIRED" } });
    const history = await tl.getTaskHistory(task.id);
    expect(history.attempts).toMatchObject([{ attempt: 1, workerId: "ghost", outcome: "lease_expired" }]);
    expect(history.events).toMatchObject([{ kind: "TASK_HEARTBEAT_TIMEOUT", data: { worker: "ghost", cause: "worker lease expired" } }]);
    // The ghost's late result is fenced off: its token is stale.
    const [late] = await driver.query<{ ids: string }>(queries.get("TaskCompleteMany"), [[task.id], [Number(claimed!.lease_token)], [JSON.stringify("late")]]);
    expect(late!.ids).toBe("");
    expect((await tl.getTask(task.id))!.state).toBe("ready");
  });

  it("elects one maintenance leader; another takes over when it leaves", async () => {
    const schemaOwner = await backend.open({ maintenance: { leaderTermMs: 300 } });
    const other = await backend.open({ schema: schemaOwner.schema, maintenance: { leaderTermMs: 300 } });
    schemaOwner.startMaintenance();
    await until("first leader", async () => schemaOwner.maintenance!.leadership.isLeader);
    other.startMaintenance();
    await other.maintenance!.leadership.attempt();
    expect(other.maintenance!.leadership.isLeader).toBe(false);
    await schemaOwner.close();
    await until("takeover", async () => other.maintenance!.leadership.isLeader, 3_000);
  });

  it("keeps a workers registry: running, stopped, and lost when a worker stops reporting", async () => {
    const tl = await backend.open({ maintenance: { workerLostAfterMs: 100 } });
    tl.define("x", async () => null);
    const worker = tl.worker({ tags: ["blue"], concurrency: 7 });
    await worker.start();
    expect(await tl.listWorkers()).toMatchObject([{ id: worker.id, state: "running", topics: ["x"], tags: ["blue"], concurrency: 7, pid: process.pid }]);
    await worker.stop();
    expect((await tl.listWorkers())[0]).toMatchObject({ state: "stopped" });
    await tl.engine.driver.query(tl.engine.queries.get("WorkerRegister"), ["ghost", "elsewhere", 1, ["x"], [], 1]);
    await maintainUntil(tl, "lost worker", async () => (await tl.listWorkers()).some((w) => w.id === "ghost" && w.state === "lost"));
  });
});

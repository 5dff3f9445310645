import { expect, it } from "vitest";
import { BackpressureError, FatalError } from "../../src/index.js";
import { deferred, describeBackends, until } from "../support/backends.js";

describeBackends("inline runs, back-pressure, retention", (backend) => {
  it("run() executes now, in this process, and records the task", async () => {
    const tl = await backend.open();
    let calls = 0;
    tl.define("report", async (task) => {
      calls++;
      return { rows: (task.payload as { n: number }).n * 2 };
    });
    tl.define("broken", async () => { throw new FatalError("no data"); });
    const done = await tl.run("report", { n: 21 });
    expect(calls).toBe(1);
    expect(done).toMatchObject({ state: "completed", result: { rows: 42 }, attempt: 1, maxAttempts: 1 });
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
    const failed = await tl.run("broken", null);
    expect(failed).toMatchObject({ state: "failed", error: { message: "no data", code: "FATAL" } });
    expect((await tl.listTasks()).tasks.map((t) => t.state).sort()).toEqual(["completed", "failed"]);
    await expect(tl.run("undefined-topic", null)).rejects.toMatchObject({ code: "VALIDATION" });
  });

  it("back-pressure: with a limit of 100 the 101st enqueue waits until one finishes; waitMs 0 fails at once", async () => {
    const tl = await backend.open({ backpressure: { maxUnfinished: 100, waitMs: 10_000 } });
    const release = deferred();
    tl.define("held", async () => release.promise);
    await tl.enqueueMany(Array.from({ length: 100 }, () => ({ topic: "held" })));
    const err = await tl.enqueue("held", null, { backpressureWaitMs: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(BackpressureError);
    expect(err.code).toBe("BACKPRESSURE");
    let admitted = false;
    const waiting = tl.enqueue("held", null).then((t) => ((admitted = true), t));
    await tl.worker({ concurrency: 1, pollIntervalMs: 50 }).start();
    expect(admitted).toBe(false);
    release.resolve();
    const task = await waiting;
    expect(task.created).toBe(true);
    expect(admitted).toBe(true);
  });

  it("back-pressure per topic leaves other topics alone", async () => {
    const tl = await backend.open({ backpressure: { maxUnfinishedPerTopic: { slow: 2 }, waitMs: 0 } });
    await tl.enqueueMany([{ topic: "slow" }, { topic: "slow" }]);
    await expect(tl.enqueue("slow", null)).rejects.toBeInstanceOf(BackpressureError);
    await expect(tl.enqueueMany([{ topic: "fast" }, { topic: "fast" }, { topic: "fast" }])).resolves.toHaveLength(3);
  });

  it("prunes finished tasks and processes past retention, in batches; dry run deletes nothing", async () => {
    // No maintenance: its pruner would delete tasks as they finish, before the test looks.
    const tl = await backend.open({ retention: { completedMs: 0, failedMs: 3_600_000 }, maintenance: false });
    tl.define("ok", async () => "ok");
    tl.define("bad", async () => { throw new FatalError("x"); });
    const ok = await tl.enqueueMany(Array.from({ length: 5 }, () => ({ topic: "ok" })));
    const bad = await tl.enqueue("bad", null);
    const { process } = await tl.startProcess({ name: "p", steps: [{ name: "a", topic: "ok" }] });
    const live = await tl.enqueue("nobody", null);
    await tl.worker({ pollIntervalMs: 50 }).start();
    await until("all done", async () => (await tl.getProcess(process.id))?.state === "completed" && (await tl.getTask(bad.id))?.state === "failed"
      && (await tl.listTasks({ state: "completed" })).tasks.length === 6);
    expect(await tl.prune({ dryRun: true })).toEqual({ tasks: 5, processes: 1, steps: 0, beyondCount: 0 });
    expect((await tl.listTasks({ limit: 100 })).tasks).toHaveLength(8);
    expect(await tl.prune()).toMatchObject({ tasks: 5, processes: 1, steps: 1 });
    expect(await tl.getTask(ok[0]!.id)).toBeNull();
    expect(await tl.getProcess(process.id)).toBeNull();
    expect((await tl.getTask(bad.id))!.state).toBe("failed"); // kept for an hour
    expect((await tl.getTask(live.id))!.state).toBe("ready"); // never pruned while unfinished
  });

  it("count-based retention keeps the newest finished tasks", async () => {
    const tl = await backend.open({ retention: { completedMs: 3_600_000, failedMs: 3_600_000, maxFinished: 2 }, maintenance: false });
    tl.define("ok", async () => "ok");
    const tasks = await tl.enqueueMany(Array.from({ length: 5 }, () => ({ topic: "ok" })));
    await tl.worker({ pollIntervalMs: 50 }).start();
    await until("done", async () => (await tl.listTasks({ state: "completed" })).tasks.length === 5);
    expect(await tl.prune()).toMatchObject({ tasks: 0, beyondCount: 3 });
    expect((await tl.listTasks()).tasks.map((t) => t.id)).toEqual([tasks[4]!.id, tasks[3]!.id]);
  });
});

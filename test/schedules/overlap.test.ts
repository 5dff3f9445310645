import { expect, it } from "vitest";
import type { RunningTask } from "../../src/index.js";
import { deferred, describeBackends, until } from "../support/backends.js";
import { eventsOf, iso, pass, runsOf, testClock } from "./support.js";

describeBackends("overlapping runs and maxRuntimeMs", (backend) => {
  it("skip (default): a tick while the previous run is unfinished is skipped and recorded", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    await tl.createSchedule("s", { cron: "* * * * *", topic: "t" });
    clock.set("2030-01-01T00:01:00Z");
    expect(await pass(tl)).toMatchObject({ runs: 1 });
    const [first] = await runsOf(tl, "s");
    for (const at of ["00:02", "00:03"]) {
      clock.set(`2030-01-01T${at}:00Z`);
      expect(await pass(tl)).toMatchObject({ runs: 0, skipped: 1 });
    }
    // Consecutive skips behind the same run fold into one event.
    const skips = (await eventsOf(tl, "s")).filter((e) => e.kind === "TICK_SKIPPED");
    expect(skips).toHaveLength(1);
    expect(skips[0]).toMatchObject({
      tickAt: new Date("2030-01-01T00:02:00Z"),
      data: { reason: "overlap", unfinished: [first!.taskId], count: 2, first: "2030-01-01T00:02:00.000Z", last: "2030-01-01T00:03:00.000Z" },
    });
    await tl.complete(first!.taskId, "done");
    clock.set("2030-01-01T00:04:00Z");
    expect(await pass(tl)).toMatchObject({ runs: 1, skipped: 0 });
    expect(iso((await runsOf(tl, "s")).map((r) => r.tickAt))).toEqual(["2030-01-01T00:01:00.000Z", "2030-01-01T00:04:00.000Z"]);
    expect(await tl.getSchedule("s")).toMatchObject({ runs: 2, lastTickAt: new Date("2030-01-01T00:04:00Z") });
  });

  it("allow: every tick runs, whatever is still running", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    await tl.createSchedule("s", { cron: "* * * * *", topic: "t", overlap: "allow" });
    for (const at of ["00:01", "00:02", "00:03"]) {
      clock.set(`2030-01-01T${at}:00Z`);
      expect(await pass(tl)).toMatchObject({ runs: 1, skipped: 0 });
    }
    expect((await runsOf(tl, "s")).map((r) => r.state)).toEqual(["ready", "ready", "ready"]);
  });

  it("cancel-previous: the running run is cancelled (its signal aborts on its node), then the tick runs", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    const started: RunningTask[] = [];
    const firstStarted = deferred();
    const aborted = deferred<unknown>();
    tl.define("hang", async (task, ctx) => {
      started.push(task);
      firstStarted.resolve();
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      if (started.length === 1 || task.id === started[0]!.id) aborted.resolve(ctx.signal.reason);
    });
    await tl.createSchedule("s", { cron: "* * * * *", topic: "hang", overlap: "cancel-previous" });
    await tl.worker({ pollIntervalMs: 20 }).start();
    clock.set("2030-01-01T00:01:00Z");
    await pass(tl);
    await firstStarted.promise;
    clock.set("2030-01-01T00:02:00Z");
    await pass(tl); // (or the maintenance leader the worker started: whichever claims the tick)
    expect(String(await aborted.promise)).toMatch(/cancelled/);
    const [first, second] = await runsOf(tl, "s");
    expect(first!.state).toBe("cancelled");
    expect((await tl.getTaskHistory(first!.taskId)).events).toMatchObject([{ kind: "CANCELLED", actor: "schedule:s", data: { from: "running" } }]);
    expect((await eventsOf(tl, "s")).find((e) => e.kind === "PREVIOUS_CANCELLED")).toMatchObject({
      tickAt: new Date("2030-01-01T00:02:00Z"), data: { cancelled: [first!.taskId] },
    });
    await until("the new run starts", async () => started.some((t) => t.id === second!.taskId));
  });

  it("maxRuntimeMs really stops the run: ctx.signal aborts and the run fails", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    const reason = deferred<unknown>();
    tl.define("report", async (_task, ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      reason.resolve(ctx.signal.reason);
      await new Promise((resolve) => setTimeout(resolve, 5_000)); // ignores its signal: the run fails anyway
    }, { retry: { maxAttempts: 1 } });
    await tl.createSchedule("report", { cron: "* * * * *", topic: "report", maxRuntimeMs: 150 });
    await tl.worker({ pollIntervalMs: 20 }).start();
    clock.set("2030-01-01T00:01:00Z");
    const t0 = Date.now();
    await pass(tl);
    expect(await reason.promise).toMatchObject({ name: "TimeoutError", code: "TASK_POLL_TO_END_TIMEOUT" });
    const [run] = await runsOf(tl, "report");
    await until("the run fails", async () => (await tl.getTask(run!.taskId))?.state === "failed");
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(await tl.getTask(run!.taskId)).toMatchObject({ error: { code: "TASK_POLL_TO_END_TIMEOUT" } });
    expect((await tl.getTaskHistory(run!.taskId)).events.map((e) => e.kind)).toEqual(["TASK_POLL_TO_END_TIMEOUT"]);
  });
});

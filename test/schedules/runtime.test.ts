import { expect, it } from "vitest";
import { ConflictError, InvalidStateError, NotFoundError, ValidationError } from "../../src/index.js";
import { deferred, describeBackends, until } from "../support/backends.js";
import { eventsOf, iso, pass, runsOf, testClock } from "./support.js";

describeBackends("schedules at runtime", (backend) => {
  it("create, read, list: next runs and recent runs; a taken name is a conflict", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:30Z");
    const created = await tl.createSchedule("every-minute", { cron: "* * * * *", topic: "t", payload: { n: 1 }, overlap: "allow" }, { actor: "ops" });
    expect(created).toMatchObject({ name: "every-minute", origin: "api", enabled: true, runs: 0, nextRunAt: new Date("2030-01-01T00:01:00Z") });
    await expect(tl.createSchedule("every-minute", { cron: "* * * * *", topic: "t" })).rejects.toBeInstanceOf(ConflictError);
    await expect(tl.createSchedule("bad", { cron: "* * * * *", topic: "t", timezone: "Nowhere/Land" })).rejects.toMatchObject({
      code: "VALIDATION", details: { field: "timezone" },
    });
    clock.set("2030-01-01T00:02:00Z"); // the 00:01 tick is 60 s late: just within the default margin
    expect(await pass(tl)).toMatchObject({ runs: 2, skipped: 0, missed: 0 });
    const [info] = await tl.listSchedules({ nextRuns: 3 });
    expect(iso(info!.nextRuns)).toEqual(["2030-01-01T00:03:00.000Z", "2030-01-01T00:04:00.000Z", "2030-01-01T00:05:00.000Z"]);
    expect(iso(info!.recentRuns.map((r) => r.tickAt))).toEqual(["2030-01-01T00:02:00.000Z", "2030-01-01T00:01:00.000Z"]);
    expect(info).toMatchObject({ runs: 2, lastTickAt: new Date("2030-01-01T00:02:00Z"), lastTaskId: info!.recentRuns[0]!.taskId });
    const task = await tl.getTask(info!.recentRuns[0]!.taskId);
    expect(task).toMatchObject({ topic: "t", payload: { n: 1 }, state: "ready" });
    expect(await tl.getSchedule("nope")).toBeNull();
    expect((await tl.getSchedule("every-minute"))!.events).toMatchObject([{ kind: "CREATED", actor: "ops" }]);
  });

  it("update: a new expression recomputes the next run, other changes keep it, null clears a limit", async () => {
    const tl = await backend.open();
    testClock(tl, "2030-01-01T00:00:00Z");
    await tl.createSchedule("s", { cron: "0 6 * * *", topic: "t", maxRuns: 10 });
    expect(await tl.updateSchedule("s", { payload: { v: 2 }, maxRuns: null }, { actor: "ops" })).toMatchObject({
      payload: { v: 2 }, maxRuns: null, nextRunAt: new Date("2030-01-01T06:00:00Z"),
    });
    expect(await tl.updateSchedule("s", { cron: "0 6 * * *", timezone: "Europe/Oslo" })).toMatchObject({
      timezone: "Europe/Oslo", nextRunAt: new Date("2030-01-01T05:00:00Z"),
    });
    expect(await tl.updateSchedule("s", { cron: "*/10 * * * *" })).toMatchObject({ nextRunAt: new Date("2030-01-01T00:10:00Z") });
    await expect(tl.updateSchedule("s", { cron: "99 * * * *" })).rejects.toMatchObject({ details: { field: "cron" } });
    await expect(tl.updateSchedule("s", { enabled: false } as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(tl.updateSchedule("missing", { payload: 1 })).rejects.toBeInstanceOf(NotFoundError);
    const updates = (await eventsOf(tl, "s")).filter((e) => e.kind === "UPDATED");
    expect(updates.map((e) => e.data)).toEqual([{ changed: ["payload", "maxRuns"] }, { changed: ["cron", "timezone"] }, { changed: ["cron"] }]);
    expect(updates[0]!.actor).toBe("ops");
  });

  it("pause stops the ticks; resume starts again after now without running what it missed", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    await tl.createSchedule("s", { cron: "* * * * *", topic: "t", overlap: "allow" });
    clock.set("2030-01-01T00:01:00Z");
    await pass(tl);
    expect(await tl.pauseSchedule("s", { actor: "ops" })).toMatchObject({ enabled: false, nextRunAt: null, disabledReason: "paused by ops" });
    await expect(tl.pauseSchedule("s")).rejects.toBeInstanceOf(InvalidStateError);
    clock.set("2030-01-01T00:10:30Z");
    expect(await pass(tl)).toMatchObject({ runs: 0, missed: 0 });
    expect(await tl.resumeSchedule("s", { actor: "ops" })).toMatchObject({ enabled: true, disabledReason: null, nextRunAt: new Date("2030-01-01T00:11:00Z") });
    await expect(tl.resumeSchedule("s")).rejects.toBeInstanceOf(InvalidStateError);
    clock.set("2030-01-01T00:11:00Z");
    await pass(tl);
    expect(iso((await runsOf(tl, "s")).map((r) => r.tickAt))).toEqual(["2030-01-01T00:01:00.000Z", "2030-01-01T00:11:00.000Z"]);
    expect((await eventsOf(tl, "s")).map((e) => e.kind)).toEqual(["CREATED", "PAUSED", "RESUMED"]);
  });

  it("delete cancels the runs that have not started, lets a running one finish, and forgets the schedule", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    const release = deferred();
    const started = deferred<string>();
    tl.define("slow", async (task) => {
      started.resolve(task.id);
      await release.promise;
      return "finished";
    });
    await tl.createSchedule("s", { cron: "* * * * *", topic: "slow", overlap: "allow" });
    clock.set("2030-01-01T00:01:00Z");
    await pass(tl);
    await tl.worker({ concurrency: 1, pollIntervalMs: 20 }).start();
    const runningId = await started.promise;
    clock.set("2030-01-01T00:02:00Z");
    await pass(tl);
    const queued = (await runsOf(tl, "s"))[1]!;
    expect(queued.state).toBe("ready");

    expect(await tl.deleteSchedule("s", { actor: "ops" })).toEqual({ cancelledRuns: [queued.taskId] });
    expect(await tl.getSchedule("s")).toBeNull();
    expect(await tl.getTask(queued.taskId)).toMatchObject({ state: "cancelled" });
    expect((await tl.getTaskHistory(queued.taskId)).events).toMatchObject([{ kind: "CANCELLED", actor: "ops" }]);
    release.resolve();
    await until("the running run finishes", async () => (await tl.getTask(runningId))?.state === "completed");
    await expect(tl.deleteSchedule("s")).rejects.toBeInstanceOf(NotFoundError);
    // The name is free again.
    await tl.createSchedule("s", { cron: "* * * * *", topic: "slow" });
  });
});

import { expect, it } from "vitest";
import { ValidationError, scheduledRun } from "../../src/index.js";
import { describeBackends } from "../support/backends.js";
import { eventsOf, pass, runsOf, testClock } from "./support.js";

/** The ValidationError a declaration throws, or fails the test. */
function declarationError(run: () => void): ValidationError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error("expected a ValidationError");
}

describeBackends("schedule declarations", (backend) => {
  it("validates at once: each error names its field, and nothing is declared", async () => {
    const tl = await backend.open();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ cron: "61 * * * *", topic: "t" }, "cron", /Invalid value for minute/],
      [{ cron: "every day", topic: "t" }, "cron", /not a cron expression/],
      [{ cron: "0 0 0 1 1 * 2020", topic: "t" }, "cron", /never fires/],
      [{ cron: "2030-01-01T00:00:00", topic: "t" }, "cron", /a date, not a recurring/],
      [{ cron: "0 3 * * *", timezone: "Mars/Olympus", topic: "t" }, "timezone", /unknown time zone "Mars\/Olympus"/],
      [{ cron: "0 3 * * *", timezone: 2, topic: "t" }, "timezone", /timezone/],
      [{ cron: "0 3 * * *" }, "topic", /topic/],
      [{ cron: "0 3 * * *", topic: "t", overlap: "sometimes" }, "overlap", /overlap/],
      [{ cron: "0 3 * * *", topic: "t", maxRuns: 0 }, "maxRuns", /maxRuns/],
      [{ cron: "0 3 * * *", topic: "t", checkinMargin: 5 }, "checkinMargin", /Unrecognized key/],
      [{ cron: "0 3 * * *", topic: "t", payload: { n: 1n } }, "payload", /JSON/],
    ];
    for (const [options, field, message] of cases) {
      const err = declarationError(() => tl.schedule("s", options as never));
      expect(err.details?.field, JSON.stringify(options, (_k, v) => (typeof v === "bigint" ? "1n" : v))).toBe(field);
      expect(err.message).toMatch(message);
    }
    expect(declarationError(() => tl.schedule("has space", { cron: "* * * * *", topic: "t" })).details?.field).toBe("name");
    tl.schedule("ok", { cron: "* * * * *", topic: "t" });
    expect(declarationError(() => tl.schedule("ok", { cron: "* * * * *", topic: "t" })).message).toMatch(/already declared/);
    expect(await tl.syncSchedules()).toEqual({ created: ["ok"], updated: [], deleted: [] });
  });

  it("an expression is read in its time zone (default UTC); runs carry the schedule and tick in their key", async () => {
    const tl = await backend.open();
    testClock(tl, "2030-06-01T12:00:00Z");
    tl.schedule("utc", { cron: "0 3 * * *", topic: "t" });
    tl.schedule("oslo", { cron: "0 3 * * *", timezone: "Europe/Oslo", topic: "t" });
    tl.schedule("seconds", { cron: "*/15 * * * * *", topic: "t" });
    await tl.syncSchedules();
    const byName = Object.fromEntries((await tl.listSchedules()).map((s) => [s.name, s]));
    expect(byName.utc!.nextRunAt).toEqual(new Date("2030-06-02T03:00:00Z"));
    expect(byName.oslo!.nextRunAt).toEqual(new Date("2030-06-02T01:00:00Z")); // CEST, UTC+2
    expect(byName.seconds!.nextRuns.slice(0, 2)).toEqual([new Date("2030-06-01T12:00:15Z"), new Date("2030-06-01T12:00:30Z")]);
    expect(scheduledRun({ key: "schedule:oslo:2030-06-02T01:00:00.000Z" })).toEqual({ schedule: "oslo", tickAt: new Date("2030-06-02T01:00:00Z") });
    expect(scheduledRun({ key: "welcome-42" })).toBeNull();
  });

  it("sync: creates, leaves unchanged declarations and runtime pauses alone, applies a changed one, deletes what code dropped", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    tl.schedule("hourly", { cron: "0 * * * *", topic: "t" });
    tl.schedule("dropped", { cron: "*/5 * * * *", topic: "t", overlap: "allow" });
    expect(await tl.syncSchedules()).toEqual({ created: ["hourly", "dropped"], updated: [], deleted: [] });
    expect(await tl.syncSchedules()).toEqual({ created: [], updated: [], deleted: [] });
    clock.set("2030-01-01T00:05:00Z");
    await pass(tl);
    const [pending] = await runsOf(tl, "dropped");
    expect(pending).toMatchObject({ tickAt: new Date("2030-01-01T00:05:00Z"), state: "ready" });
    expect(await tl.getTask(pending!.taskId)).toMatchObject({ key: "schedule:dropped:2030-01-01T00:05:00.000Z", topic: "t" });

    await tl.pauseSchedule("hourly", { actor: "ops" });
    expect(await tl.syncSchedules()).toEqual({ created: [], updated: [], deleted: [] });
    expect(await tl.getSchedule("hourly")).toMatchObject({ enabled: false, disabledReason: "paused by ops", nextRunAt: null });

    // The next release changes hourly's expression and no longer declares `dropped`.
    const next = await backend.open({ schema: tl.schema });
    testClock(next, "2030-01-01T00:10:00Z");
    next.schedule("hourly", { cron: "30 * * * *", topic: "t" });
    expect(await next.syncSchedules()).toEqual({ created: [], updated: ["hourly"], deleted: ["dropped"] });
    expect(await next.getSchedule("hourly")).toMatchObject({
      cron: "30 * * * *", enabled: true, disabledReason: null, origin: "code", nextRunAt: new Date("2030-01-01T00:30:00Z"),
    });
    expect(await next.getSchedule("dropped")).toBeNull();
    // Its run that had not started went with it; the task stays as history.
    expect(await next.getTask(pending!.taskId)).toMatchObject({ state: "cancelled" });
    expect((await next.getTaskHistory(pending!.taskId)).events).toMatchObject([{ kind: "CANCELLED", actor: "code" }]);
    expect((await eventsOf(next, "hourly")).map((e) => [e.kind, e.actor])).toEqual([
      ["CREATED", "code"], ["PAUSED", "ops"], ["UPDATED", "code"],
    ]);
  });

  it("a changed payload keeps the next run; an instance that declares nothing leaves stored schedules alone", async () => {
    const tl = await backend.open();
    testClock(tl, "2030-01-01T00:00:00Z");
    tl.schedule("daily", { cron: "0 6 * * *", topic: "t", payload: { v: 1 } });
    await tl.syncSchedules();
    const again = await backend.open({ schema: tl.schema });
    testClock(again, "2030-01-01T05:00:00Z");
    again.schedule("daily", { cron: "0 6 * * *", topic: "t", payload: { v: 2 } });
    expect(await again.syncSchedules()).toMatchObject({ updated: ["daily"] });
    expect(await again.getSchedule("daily")).toMatchObject({ payload: { v: 2 }, nextRunAt: new Date("2030-01-01T06:00:00Z") });

    const workerOnly = await backend.open({ schema: tl.schema });
    workerOnly.define("t", async () => null);
    await workerOnly.worker().start(); // starts maintenance, which syncs in the background
    await workerOnly.close();
    expect(await tl.getSchedule("daily")).not.toBeNull();
  });

  it("schedules declared with enabled: false are stored disabled and never tick", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    tl.schedule("off", { cron: "* * * * *", topic: "t", enabled: false });
    await tl.syncSchedules();
    clock.advance(10 * 60_000);
    expect(await pass(tl)).toMatchObject({ runs: 0 });
    expect(await tl.getSchedule("off")).toMatchObject({ enabled: false, disabledReason: "disabled in code", nextRunAt: null, nextRuns: [] });
  });
});

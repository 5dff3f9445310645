import { expect, it } from "vitest";
import { describeBackends } from "../support/backends.js";
import { eventsOf, iso, pass, runsOf, testClock } from "./support.js";

describeBackends("ticks: missed, backfilled, claimed once", (backend) => {
  it("a tick late by less than checkinMarginMs runs once", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    await tl.createSchedule("s", { cron: "* * * * *", topic: "t", checkinMarginMs: 60_000 });
    clock.set("2030-01-01T00:01:59Z"); // 59 s late
    expect(await pass(tl)).toMatchObject({ runs: 1, missed: 0, skipped: 0 });
    expect(await pass(tl)).toMatchObject({ runs: 0 });
    expect(iso((await runsOf(tl, "s")).map((r) => r.tickAt))).toEqual(["2030-01-01T00:01:00.000Z"]);
    expect(await tl.getSchedule("s")).toMatchObject({ nextRunAt: new Date("2030-01-01T00:02:00Z"), runs: 1 });
  });

  it("ticks older than the margin are skipped and recorded; the latest within it still runs", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    await tl.createSchedule("s", { cron: "* * * * *", topic: "t", checkinMarginMs: 60_000 });
    clock.set("2030-01-01T00:10:30Z"); // every node was down for ten minutes
    expect(await pass(tl)).toMatchObject({ runs: 1, missed: 9 });
    expect(iso((await runsOf(tl, "s")).map((r) => r.tickAt))).toEqual(["2030-01-01T00:10:00.000Z"]);
    const missed = (await eventsOf(tl, "s")).filter((e) => e.kind === "TICKS_MISSED");
    expect(missed).toHaveLength(1);
    expect(missed[0]).toMatchObject({
      tickAt: new Date("2030-01-01T00:01:00Z"),
      data: { first: "2030-01-01T00:01:00.000Z", last: "2030-01-01T00:09:00.000Z", count: 9, countIsMinimum: false, checkinMarginMs: 60_000 },
    });
    expect(await tl.getSchedule("s")).toMatchObject({ nextRunAt: new Date("2030-01-01T00:11:00Z") });

    // Down for longer than the margin after the last tick too: everything is skipped.
    clock.set("2030-01-01T00:20:30Z");
    await tl.updateSchedule("s", { checkinMarginMs: 10_000 });
    expect(await pass(tl)).toMatchObject({ runs: 0, missed: 10 });
    expect(await tl.getSchedule("s")).toMatchObject({ nextRunAt: new Date("2030-01-01T00:21:00Z"), runs: 1 });
  });

  it("backfill runs every missed tick, however late", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    await tl.createSchedule("s", { cron: "* * * * *", topic: "t", checkinMarginMs: 1_000, backfill: true, overlap: "allow" });
    clock.set("2030-01-01T00:10:30Z");
    expect(await pass(tl)).toMatchObject({ runs: 10, missed: 0 });
    const ticks = iso((await runsOf(tl, "s")).map((r) => r.tickAt));
    expect(ticks).toEqual(Array.from({ length: 10 }, (_, i) => `2030-01-01T00:${String(i + 1).padStart(2, "0")}:00.000Z`));
    expect((await eventsOf(tl, "s")).map((e) => e.kind)).toEqual(["CREATED"]);
  });

  it("backfill with overlap skip catches up one run at a time instead of skipping", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    await tl.createSchedule("s", { cron: "* * * * *", topic: "t", backfill: true });
    clock.set("2030-01-01T00:03:30Z");
    for (let caughtUp = 1; caughtUp <= 3; caughtUp++) {
      expect(await pass(tl)).toMatchObject({ runs: 1, skipped: 0 });
      expect(await pass(tl)).toMatchObject({ runs: 0, skipped: 0 }); // waits for the run before
      const runs = await runsOf(tl, "s");
      expect(runs).toHaveLength(caughtUp);
      await tl.complete(runs[caughtUp - 1]!.taskId, null, { actor: "test" });
    }
    expect(iso((await runsOf(tl, "s")).map((r) => r.tickAt))).toEqual([
      "2030-01-01T00:01:00.000Z", "2030-01-01T00:02:00.000Z", "2030-01-01T00:03:00.000Z",
    ]);
  });

  it("two instances passing at once create exactly one run per tick", async () => {
    const a = await backend.open();
    const b = await backend.open({ schema: a.schema });
    const clocks = [testClock(a, "2030-01-01T00:00:00.200Z"), testClock(b, "2030-01-01T00:00:00.200Z")];
    for (const tl of [a, b]) tl.schedule("every-second", { cron: "* * * * * *", topic: "t", overlap: "allow" });
    await Promise.all([a.syncSchedules(), b.syncSchedules()]);
    let runs = 0;
    for (let step = 1; step <= 12; step++) {
      for (const c of clocks) c.advance(step % 3 === 0 ? 2_500 : 1_000);
      const stats = await Promise.all([pass(a), pass(b), pass(a), pass(b)]);
      runs += stats.reduce((n, s) => n + s.runs, 0);
    }
    const ticks = (await runsOf(a, "every-second")).map((r) => r.tickAt.getTime());
    expect(runs).toBe(ticks.length);
    expect(new Set(ticks).size).toBe(ticks.length);
    // No gaps: one run for every second from the first tick to the clock.
    const last = Math.floor(clocks[0]!.now.getTime() / 1000) * 1000;
    expect(ticks).toEqual(Array.from({ length: (last - ticks[0]!) / 1000 + 1 }, (_, i) => ticks[0]! + i * 1000));
    expect(ticks[0]).toBe(Date.parse("2030-01-01T00:00:01Z"));
    const { tasks } = await a.listTasks({ topic: "t", limit: 1000 });
    expect(tasks).toHaveLength(ticks.length);
  });

  it("an expression that fires no more ends the schedule after its last tick", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-12-31T23:58:00Z");
    await tl.createSchedule("last-of-2030", { cron: "0 59 23 31 12 * 2030", topic: "t" });
    clock.set("2030-12-31T23:59:00Z");
    expect(await pass(tl)).toMatchObject({ runs: 1 });
    expect(await tl.getSchedule("last-of-2030")).toMatchObject({
      enabled: false, nextRunAt: null, disabledReason: "the cron expression fires no more", runs: 1,
    });
  });
});

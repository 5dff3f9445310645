/**
 * Next runs across the Europe/Oslo daylight-saving changes of 2025: clocks go from 02:00 CET
 * to 03:00 CEST on Sunday 30 March, and from 03:00 CEST back to 02:00 CET on Sunday 26 October.
 * The engine is walked tick by tick with the test clock, so what is checked is what runs.
 */
import { expect, it } from "vitest";
import type { Tasklane } from "../../src/index.js";
import { describeBackends } from "../support/backends.js";
import { iso, pass, runsOf, testClock } from "./support.js";

/** Moves the clock to each next run in turn, one pass each, and answers the ticks that ran. */
async function walk(tl: Tasklane, name: string, steps: number, clock: { set(d: Date): void }): Promise<(string | null)[]> {
  for (let i = 0; i < steps; i++) {
    const next = (await tl.getSchedule(name))!.nextRunAt!;
    clock.set(next);
    expect(await pass(tl)).toMatchObject({ runs: 1, missed: 0 });
  }
  return iso((await runsOf(tl, name)).map((r) => r.tickAt));
}

describeBackends("daylight-saving time (Europe/Oslo)", (backend) => {
  it("spring: a fixed time in the gap runs once, right after it; an interval job skips the missing hour", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2025-03-28T12:00:00Z");
    tl.schedule("fixed", { cron: "30 2 * * *", timezone: "Europe/Oslo", topic: "t", overlap: "allow" });
    await tl.syncSchedules();
    // 02:30 does not exist on 30 March: that day's run is at 03:00 CEST (01:00 UTC).
    expect(await walk(tl, "fixed", 3, clock)).toEqual([
      "2025-03-29T01:30:00.000Z", // 02:30 CET
      "2025-03-30T01:00:00.000Z", // 03:00 CEST, right after the gap
      "2025-03-31T00:30:00.000Z", // 02:30 CEST
    ]);
    clock.set("2025-03-28T12:00:00Z");
    await tl.createSchedule("nightly", { cron: "0 3 * * *", timezone: "Europe/Oslo", topic: "t" });
    expect((await tl.getSchedule("nightly", { nextRuns: 3 }))!.nextRuns.map((d) => d.toISOString())).toEqual([
      "2025-03-29T02:00:00.000Z", "2025-03-30T01:00:00.000Z", "2025-03-31T01:00:00.000Z",
    ]);

    const half = await backend.open();
    const clock2 = testClock(half, "2025-03-30T00:00:00Z"); // 01:00 CET
    half.schedule("half-hourly", { cron: "*/30 * * * *", timezone: "Europe/Oslo", topic: "t", overlap: "allow" });
    await half.syncSchedules();
    // 01:30 CET, then straight to 03:00 CEST: 02:00 and 02:30 do not exist that night.
    expect(await walk(half, "half-hourly", 4, clock2)).toEqual([
      "2025-03-30T00:30:00.000Z", "2025-03-30T01:00:00.000Z", "2025-03-30T01:30:00.000Z", "2025-03-30T02:00:00.000Z",
    ]);
  });

  it("autumn: a fixed time in the repeated hour runs once; an interval job runs through both passes of it", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2025-10-25T12:00:00Z");
    tl.schedule("fixed", { cron: "30 2 * * *", timezone: "Europe/Oslo", topic: "t", overlap: "allow" });
    await tl.syncSchedules();
    expect(await walk(tl, "fixed", 3, clock)).toEqual([
      "2025-10-26T00:30:00.000Z", // 02:30 CEST, the first of the two 02:30s
      "2025-10-27T01:30:00.000Z", // 02:30 CET
      "2025-10-28T01:30:00.000Z",
    ]);

    const half = await backend.open();
    const clock2 = testClock(half, "2025-10-25T23:45:00Z"); // 01:45 CEST
    half.schedule("half-hourly", { cron: "*/30 * * * *", timezone: "Europe/Oslo", topic: "t", overlap: "allow" });
    await half.syncSchedules();
    // 02:00 and 02:30 come twice; each is its own tick with its own run (keys are UTC instants).
    expect(await walk(half, "half-hourly", 5, clock2)).toEqual([
      "2025-10-26T00:00:00.000Z", // 02:00 CEST
      "2025-10-26T00:30:00.000Z", // 02:30 CEST
      "2025-10-26T01:00:00.000Z", // 02:00 CET
      "2025-10-26T01:30:00.000Z", // 02:30 CET
      "2025-10-26T02:00:00.000Z", // 03:00 CET
    ]);
  });

  it("a pass that comes late over the change catches up the ticks within the margin, none twice", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2025-10-25T23:59:00Z");
    tl.schedule("quarter", { cron: "*/15 * * * *", timezone: "Europe/Oslo", topic: "t", overlap: "allow", checkinMarginMs: 3 * 3_600_000 });
    await tl.syncSchedules();
    clock.set("2025-10-26T02:00:00Z"); // one pass, two hours (three wall-clock hours) later
    expect(await pass(tl)).toMatchObject({ runs: 9, missed: 0 });
    const ticks = (await runsOf(tl, "quarter")).map((r) => r.tickAt.getTime());
    expect(new Set(ticks).size).toBe(9);
    expect(ticks.every((t, i) => i === 0 || t - ticks[i - 1]! === 15 * 60_000)).toBe(true);
  });
});

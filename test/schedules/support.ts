/**
 * Helpers of the schedule tests: a clock the test moves by hand, one cron pass on demand, and
 * reads of a schedule's runs and events.
 */
import type { Tasklane, ScheduleEvent, ScheduleRun } from "../../src/index.js";
import type { PassStats } from "../../src/schedules/tick.js";

/** A settable clock installed as the instance's scheduler clock. */
export interface TestClock {
  now: Date;
  set(iso: string | Date): void;
  advance(ms: number): void;
}

/** Installs a test clock on `tl`, starting at `start`. */
export function testClock(tl: Tasklane, start: string | Date): TestClock {
  const clock: TestClock = {
    now: new Date(start),
    set(iso) {
      clock.now = new Date(iso);
    },
    advance(ms) {
      clock.now = new Date(clock.now.getTime() + ms);
    },
  };
  tl.maintenance!.services.cron.now = () => clock.now;
  return clock;
}

/** Runs one cron pass at the clock's time and answers what it did. */
export function pass(tl: Tasklane): Promise<PassStats> {
  return tl.maintenance!.services.cron.evaluate();
}

/** Every run of a schedule, oldest first. */
export async function runsOf(tl: Tasklane, name: string): Promise<ScheduleRun[]> {
  const s = await tl.getSchedule(name, { recentRuns: 1000, events: 1 });
  return (s?.recentRuns ?? []).reverse();
}

/** Every event of a schedule, oldest first. */
export async function eventsOf(tl: Tasklane, name: string): Promise<ScheduleEvent[]> {
  const s = await tl.getSchedule(name, { recentRuns: 1, events: 1000 });
  return (s?.events ?? []).reverse();
}

/** ISO strings of dates, for readable assertions. */
export const iso = (dates: (Date | null)[]): (string | null)[] => dates.map((d) => (d ? d.toISOString() : null));

import { expect, it } from "vitest";
import { InvalidStateError, type Tasklane } from "../../src/index.js";
import { describeBackends, until } from "../support/backends.js";
import { eventsOf, pass, runsOf, testClock, type TestClock } from "./support.js";

/**
 * One tick of schedule `s`: the next minute, one pass, and the wait until its run has finished.
 * The maintenance leader (started with the worker) may make the pass first: only the database's
 * state is checked, never a pass's own count.
 */
async function tick(tl: Tasklane, clock: TestClock): Promise<void> {
  clock.advance(60_000);
  const before = (await runsOf(tl, "s")).length;
  await pass(tl);
  const runs = await runsOf(tl, "s");
  expect(runs).toHaveLength(before + 1);
  await until("the run finishes", async () => ["completed", "failed"].includes((await tl.getTask(runs.at(-1)!.taskId))!.state));
}

describeBackends("maxConsecutiveFailures and maxRuns", (backend) => {
  it("disables a schedule after maxConsecutiveFailures failed runs in a row, and says why", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:30Z");
    let fail = true;
    tl.define("flaky", async () => {
      if (fail) throw new Error("the report server is down");
      return "ok";
    }, { retry: { maxAttempts: 1 } });
    await tl.createSchedule("s", { cron: "* * * * *", topic: "flaky", maxConsecutiveFailures: 3 });
    await tl.worker({ pollIntervalMs: 20 }).start();

    await tick(tl, clock); // failed
    await tick(tl, clock); // failed
    fail = false;
    await tick(tl, clock); // completed: the count starts again
    fail = true;
    await tick(tl, clock);
    await tick(tl, clock);
    await pass(tl); // counting happens as a pass settles finished runs
    expect(await tl.getSchedule("s")).toMatchObject({ enabled: true, consecutiveFailures: 2 });
    await tick(tl, clock); // the third failure in a row
    await pass(tl); // settles it
    const s = await tl.getSchedule("s");
    expect(s).toMatchObject({ enabled: false, nextRunAt: null, consecutiveFailures: 3 });
    expect(s!.disabledReason).toBe("disabled after 3 consecutive failed runs (maxConsecutiveFailures); last error: the report server is down");
    expect((await eventsOf(tl, "s")).at(-1)).toMatchObject({
      kind: "DISABLED", data: { reason: "maxConsecutiveFailures", consecutiveFailures: 3, lastError: { message: "the report server is down" } },
    });
    clock.advance(10 * 60_000);
    expect(await pass(tl)).toMatchObject({ runs: 0 });

    // Resuming starts the count again: the failures before do not disable it at once.
    fail = false;
    expect(await tl.resumeSchedule("s", { actor: "ops" })).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null });
    fail = true;
    await tick(tl, clock);
    await pass(tl);
    expect(await tl.getSchedule("s")).toMatchObject({ enabled: true, consecutiveFailures: 1 });
  });

  it("cancelled runs neither count as failures nor reset the count", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:30Z");
    await tl.createSchedule("s", { cron: "* * * * *", topic: "nobody-runs-this", maxConsecutiveFailures: 2, overlap: "allow" });
    clock.advance(60_000);
    await pass(tl);
    const [run] = await runsOf(tl, "s");
    await tl.cancel(run!.taskId);
    await pass(tl);
    expect(await tl.getSchedule("s")).toMatchObject({ enabled: true, consecutiveFailures: 0 });
  });

  it("maxRuns ends the schedule after that many runs; raising it lets it be resumed", async () => {
    const tl = await backend.open();
    const clock = testClock(tl, "2030-01-01T00:00:00Z");
    await tl.createSchedule("s", { cron: "* * * * *", topic: "t", overlap: "allow", maxRuns: 2 });
    clock.set("2030-01-01T00:03:00Z");
    expect(await pass(tl)).toMatchObject({ runs: 2 });
    const s = await tl.getSchedule("s");
    expect(s).toMatchObject({ enabled: false, runs: 2, nextRunAt: null, disabledReason: "ended after 2 runs (maxRuns)" });
    expect(s!.events.map((e) => e.kind)).toContain("MAX_RUNS_REACHED");
    clock.set("2030-01-01T00:10:00Z");
    expect(await pass(tl)).toMatchObject({ runs: 0 });
    await expect(tl.resumeSchedule("s")).rejects.toBeInstanceOf(InvalidStateError);
    await tl.updateSchedule("s", { maxRuns: 3 });
    expect(await tl.resumeSchedule("s")).toMatchObject({ enabled: true, nextRunAt: new Date("2030-01-01T00:11:00Z") });
    clock.set("2030-01-01T00:15:00Z");
    expect(await pass(tl)).toMatchObject({ runs: 1 });
    expect(await tl.getSchedule("s")).toMatchObject({ enabled: false, runs: 3 });
    // Lowering maxRuns below the runs already made ends an enabled schedule at once.
    await tl.updateSchedule("s", { maxRuns: null });
    await tl.resumeSchedule("s");
    expect(await tl.updateSchedule("s", { maxRuns: 3 })).toMatchObject({ enabled: false, disabledReason: "ended after 3 runs (maxRuns)" });
  });
});

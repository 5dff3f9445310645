import { expect, it } from "vitest";
import { FatalError, BusinessError, LeaseLostError, type RunningTask, type ValidationError } from "../../src/index.js";
import { deferred, describeBackends, until } from "../support/backends.js";

describeBackends("worker", (backend) => {
  it("runs a task and stores its result", async () => {
    const tl = await backend.open();
    tl.define("add", async (task: RunningTask<{ a: number; b: number }>) => ({ sum: task.payload.a + task.payload.b }));
    const worker = tl.worker();
    await worker.start();
    const done = deferred<unknown>();
    tl.on("task:completed", (_t, result) => done.resolve(result));
    const task = await tl.enqueue("add", { a: 2, b: 3 });
    expect(await done.promise).toEqual({ sum: 5 });
    expect(await tl.getTask(task.id)).toMatchObject({ state: "completed", result: { sum: 5 }, attempt: 1 });
    const finished = (await tl.getTask(task.id))!;
    expect(finished.startedAt).not.toBeNull();
    expect(finished.finishedAt!.getTime()).toBeGreaterThanOrEqual(finished.startedAt!.getTime());
  });

  it("wakes an idle worker at once on enqueue (no waiting for the poll)", async () => {
    const tl = await backend.open();
    const started = deferred();
    tl.define("t", async () => started.resolve());
    // A poll interval far longer than the test timeout: only NOTIFY can wake it in time.
    await tl.worker({ pollIntervalMs: 600_000 }).start();
    await new Promise((r) => setImmediate(r));
    await tl.enqueue("t", null);
    await started.promise;
  }, 10_000);

  it("runs higher priorities first", async () => {
    const tl = await backend.open();
    const order: number[] = [];
    tl.define("p", async (task: RunningTask<number>) => void order.push(task.payload));
    await tl.enqueueMany([0, 5, -3, 10, 5].map((p) => ({ topic: "p", payload: p, priority: p })));
    const all = deferred();
    tl.on("task:completed", () => order.length === 5 && all.resolve());
    await tl.worker({ concurrency: 1 }).start();
    await all.promise;
    expect(order).toEqual([10, 5, 5, 0, -3]);
  });

  it("does not run a delayed task before its time, and runs it after", async () => {
    const tl = await backend.open();
    const ran: string[] = [];
    tl.define("d", async (task: RunningTask<string>) => void ran.push(task.payload));
    const later = await tl.enqueue("d", "later", { delayMs: 60_000 });
    const soon = await tl.enqueue("d", "soon", { delayMs: 300 });
    await tl.enqueue("d", "now");
    await tl.worker({ pollIntervalMs: 50 }).start();
    await until("the delayed task", async () => (await tl.getTask(soon.id))?.state === "completed");
    expect(ran).toEqual(["now", "soon"]);
    expect((await tl.getTask(later.id))!.state).toBe("ready");
  });

  it("claims untagged tasks, and tagged ones only with a matching tag", async () => {
    const tl = await backend.open();
    const seen: string[] = [];
    tl.define("t", async (task: RunningTask<string>, _ctx) => void seen.push(task.payload));
    const untagged = await tl.enqueue("t", "untagged");
    const blue = await tl.enqueue("t", "blue", { tags: ["blue"] });
    const red = await tl.enqueue("t", "red", { tags: ["red", "x"] });
    const plain = tl.worker({ pollIntervalMs: 50 });
    await plain.start();
    await until("untagged", async () => (await tl.getTask(untagged.id))?.state === "completed");
    await plain.stop();
    expect((await tl.getTask(blue.id))!.state).toBe("ready");
    await tl.worker({ tags: ["red"], pollIntervalMs: 50 }).start();
    await until("red", async () => (await tl.getTask(red.id))?.state === "completed");
    expect((await tl.getTask(blue.id))!.state).toBe("ready");
    expect(seen).toEqual(["untagged", "red"]);
  });

  it("runs only the topics it was given", async () => {
    const tl = await backend.open();
    tl.define("mine", async () => "ok");
    tl.define("other", async () => "ok");
    const other = await tl.enqueue("other", null);
    const mine = await tl.enqueue("mine", null);
    await tl.worker({ topics: ["mine"], pollIntervalMs: 50 }).start();
    await until("mine", async () => (await tl.getTask(mine.id))?.state === "completed");
    expect((await tl.getTask(other.id))!.state).toBe("ready");
  });

  it("retries a throwing handler per the policy, keeping every failed attempt", async () => {
    const tl = await backend.open();
    let calls = 0;
    tl.define("flaky", async () => {
      calls++;
      if (calls < 3) throw new Error(`boom ${calls}`);
      return "third time";
    }, { retry: { maxAttempts: 3, backoff: "constant", initialDelayMs: 0 } });
    const task = await tl.enqueue("flaky", null);
    await tl.worker({ pollIntervalMs: 20 }).start();
    await until("completion", async () => (await tl.getTask(task.id))?.state === "completed");
    expect(await tl.getTask(task.id)).toMatchObject({ attempt: 3, result: "third time" });
    const { attempts } = await tl.getTaskHistory(task.id);
    expect(attempts.map((a) => [a.attempt, a.outcome, a.error?.message])).toEqual([[1, "retried", "boom 1"], [2, "retried", "boom 2"]]);
    expect(attempts[0]!.error!.stack).toContain("boom 1");
  });

  it("fails after the last attempt with the error, its stack and attempt", async () => {
    const tl = await backend.open();
    tl.define("bad", async () => { throw new TypeError("always"); }, { retry: { maxAttempts: 2, backoff: "constant", initialDelayMs: 0 } });
    const failed = deferred<boolean>();
    tl.on("task:failed", (_t, _e, retrying) => !retrying && failed.resolve(retrying));
    const task = await tl.enqueue("bad", null);
    await tl.worker({ pollIntervalMs: 20 }).start();
    await failed.promise;
    const after = (await tl.getTask(task.id))!;
    expect(after).toMatchObject({ state: "failed", attempt: 2, error: { message: "always", name: "TypeError", attempt: 2 } });
    expect(after.error!.stack).toContain("TypeError: always");
    expect(after.finishedAt).not.toBeNull();
  });

  it("fails at once on FatalError and BusinessError, keeping the business code", async () => {
    const tl = await backend.open();
    tl.define("fatal", async () => { throw new FatalError("no recipient"); });
    tl.define("business", async () => { throw new BusinessError("INSUFFICIENT_FUNDS", "card declined"); });
    const a = await tl.enqueue("fatal", null);
    const b = await tl.enqueue("business", null);
    await tl.worker({ pollIntervalMs: 20 }).start();
    await until("both failed", async () => (await tl.getTask(a.id))?.state === "failed" && (await tl.getTask(b.id))?.state === "failed");
    expect(await tl.getTask(a.id)).toMatchObject({ attempt: 1, error: { code: "FATAL", message: "no recipient" } });
    expect(await tl.getTask(b.id)).toMatchObject({ attempt: 1, error: { code: "BUSINESS", businessCode: "INSUFFICIENT_FUNDS" } });
  });

  it("waits for the backoff before the next attempt", async () => {
    const tl = await backend.open();
    tl.define("slow-retry", async () => { throw new Error("x"); }, { retry: { maxAttempts: 2, backoff: "constant", initialDelayMs: 60_000, jitter: false } });
    const failed = deferred<boolean>();
    tl.on("task:failed", (_t, _e, retrying) => failed.resolve(retrying));
    const task = await tl.enqueue("slow-retry", null);
    await tl.worker({ pollIntervalMs: 20 }).start();
    expect(await failed.promise).toBe(true);
    const after = (await tl.getTask(task.id))!;
    expect(after.state).toBe("ready");
    const delay = after.runAt.getTime() - Date.now();
    expect(delay).toBeGreaterThan(55_000);
    expect(delay).toBeLessThanOrEqual(60_000);
  });

  it("stores heartbeat progress", async () => {
    const tl = await backend.open();
    const beat = deferred();
    const release = deferred();
    tl.define("long", async (_task, ctx) => {
      await ctx.heartbeat({ done: 40 });
      beat.resolve();
      await release.promise;
    });
    const task = await tl.enqueue("long", null);
    await tl.worker().start();
    await beat.promise;
    expect(await tl.getTask(task.id)).toMatchObject({ state: "running", progress: { done: 40 } });
    release.resolve();
  });

  it("cancels a running task: the handler's signal aborts and its late result is rejected", async () => {
    const tl = await backend.open();
    const started = deferred();
    const aborted = deferred<unknown>();
    const finish = deferred();
    tl.define("stubborn", async (_task, ctx) => {
      ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason));
      started.resolve();
      await finish.promise; // ignores the signal on purpose
      return "too late";
    });
    const task = await tl.enqueue("stubborn", null);
    await tl.worker().start();
    await started.promise;
    expect(await tl.cancel(task.id, { actor: "ops" })).toMatchObject({ state: "cancelled" });
    expect(String(await aborted.promise)).toContain("cancelled");
    finish.resolve();
    const { events } = await until("the cancel event", async () => {
      const h = await tl.getTaskHistory(task.id);
      return h.events.length ? h : undefined;
    });
    expect(events[0]).toMatchObject({ kind: "CANCELLED", actor: "ops", data: { from: "running" } });
    expect(await tl.getTask(task.id)).toMatchObject({ state: "cancelled", result: null });
  });

  it("gives a heartbeat of a lost attempt a LeaseLostError", async () => {
    const tl = await backend.open();
    const started = deferred();
    const proceed = deferred();
    const outcome = deferred<unknown>();
    tl.define("h", async (_task, ctx) => {
      started.resolve();
      await proceed.promise;
      outcome.resolve(await ctx.heartbeat().catch((e) => e));
    });
    const task = await tl.enqueue("h", null);
    await tl.worker().start();
    await started.promise;
    await tl.complete(task.id, { by: "operator" });
    proceed.resolve();
    expect(await outcome.promise).toBeInstanceOf(LeaseLostError);
    expect(await tl.getTask(task.id)).toMatchObject({ state: "completed", result: { by: "operator" } });
  });

  it("stop() waits for running handlers within the grace period", async () => {
    const tl = await backend.open();
    const started = deferred();
    const release = deferred();
    tl.define("w", async () => {
      started.resolve();
      await release.promise;
      return "finished";
    });
    const task = await tl.enqueue("w", null);
    const worker = tl.worker();
    await worker.start();
    await started.promise;
    const stopped = worker.stop({ graceMs: 30_000 });
    release.resolve();
    await stopped;
    expect(await tl.getTask(task.id)).toMatchObject({ state: "completed", result: "finished" });
  });

  it("stop() aborts past the grace period: the attempt fails and is retried", async () => {
    const tl = await backend.open();
    const started = deferred();
    tl.define("hang", async (_t, ctx) => {
      started.resolve();
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      return "ignored";
    }, { retry: { backoff: "constant", initialDelayMs: 0 } });
    const task = await tl.enqueue("hang", null);
    const worker = tl.worker();
    await worker.start();
    await started.promise;
    await worker.stop({ graceMs: 10 });
    expect(await tl.getTask(task.id)).toMatchObject({ state: "ready", attempt: 1, error: { message: expect.stringContaining("shutting down") } });
  });

  it("stop() hands a resumable topic's task back without using an attempt", async () => {
    const tl = await backend.open();
    const started = deferred();
    tl.define("resumable", async () => {
      started.resolve();
      await new Promise(() => undefined); // never ends, and ignores the signal
    }, { resumable: true });
    const task = await tl.enqueue("resumable", null);
    const worker = tl.worker();
    await worker.start();
    await started.promise;
    await worker.stop({ graceMs: 10 });
    expect(await tl.getTask(task.id)).toMatchObject({ state: "ready", attempt: 0 });
    expect((await tl.getTaskHistory(task.id)).attempts).toMatchObject([{ outcome: "interrupted", attempt: 1 }]);
  });

  it("gives the handler a context whose members work destructured; a plain task has no input, and its tags as enqueued", async () => {
    const tl = await backend.open();
    const seen: { task: RunningTask; checks: Record<string, unknown> }[] = [];
    tl.define("ctx", async (task, ctx) => {
      const { signal, heartbeat, waitForEvent, parents, failedParents, log } = ctx;
      await heartbeat({ step: 1 });
      let thrown: unknown;
      try {
        waitForEvent("");
      } catch (err) {
        thrown = err;
      }
      seen.push({
        task,
        checks: {
          signal: signal instanceof AbortSignal && !signal.aborted && signal === ctx.signal,
          parents, failedParents, log: typeof log.info,
          hasInput: "input" in ctx, event: ctx.event,
          waitFor: waitForEvent("paid", { timeoutMs: 1_000 }), invalidName: (thrown as ValidationError).code,
        },
      });
    });
    await tl.enqueue("ctx", null);
    await tl.enqueue("ctx", null, { tags: ["gpu"] });
    await tl.worker({ tags: ["gpu"], pollIntervalMs: 20 }).start();
    await until("both ran", async () => seen.length === 2);
    for (const { checks } of seen) {
      expect(checks).toEqual({
        signal: true, parents: {}, failedParents: {}, log: "function", hasInput: false, event: undefined,
        waitFor: expect.objectContaining({ name: "paid", timeoutMs: 1_000 }), invalidName: "VALIDATION",
      });
    }
    expect(seen.map((s) => s.task.tags).sort((a, b) => a.length - b.length)).toEqual([[], ["gpu"]]);
  });

  it("stores every result of one completion batch exactly: quotes, backslashes, braces, the text null and JSON null", async () => {
    const tl = await backend.open();
    const results: unknown[] = [
      'say "hi" \\ {x}, y', "null", "NULL", "", null, { a: "\\\"", b: [1, "{", "}"] }, [null], 1.5, true, "é 𝄞",
    ];
    tl.define("echo", async (task: RunningTask<{ i: number }>) => results[task.payload.i]);
    const tasks = await tl.enqueueMany(results.map((_, i) => ({ topic: "echo", payload: { i } })));
    await tl.worker({ concurrency: results.length, pollIntervalMs: 20 }).start();
    await until("all completed", async () => (await tl.listTasks({ state: "completed", limit: 100 })).tasks.length === results.length);
    const stored = await Promise.all(tasks.map((t) => tl.getTask(t.id)));
    expect(stored.map((t) => t!.result)).toEqual(results);
  });

  it("fails a task whose result is not JSON", async () => {
    const tl = await backend.open();
    tl.define("bigint", async () => ({ n: 1n }));
    const task = await tl.enqueue("bigint", null);
    await tl.worker({ pollIntervalMs: 20 }).start();
    await until("failure", async () => (await tl.getTask(task.id))?.state === "failed");
    expect((await tl.getTask(task.id))!.error!.message).toContain("not JSON");
  });

  it("prefetch: claims beyond concurrency, runs at most `concurrency` at once, drains everything", async () => {
    const tl = await backend.open();
    let running = 0;
    let peak = 0;
    tl.define("short", async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setImmediate(r));
      running--;
    });
    await tl.enqueueMany(Array.from({ length: 300 }, () => ({ topic: "short" })));
    await tl.worker({ concurrency: 3, prefetch: 100, pollIntervalMs: 50 }).start();
    await until("drained", async () => (await tl.listTasks({ state: "completed", limit: 1000 })).tasks.length === 300);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it("prefetch: stop() hands buffered tasks back without using an attempt", async () => {
    const tl = await backend.open();
    const started = deferred();
    const release = deferred();
    tl.define("held", async () => {
      started.resolve();
      await release.promise;
    });
    const tasks = await tl.enqueueMany(Array.from({ length: 5 }, () => ({ topic: "held" })));
    const worker = tl.worker({ concurrency: 1, prefetch: 10 });
    await worker.start();
    await started.promise;
    const stopping = worker.stop({ graceMs: 30_000 });
    release.resolve();
    await stopping;
    const states = await Promise.all(tasks.map((t) => tl.getTask(t.id)));
    expect(states.filter((t) => t!.state === "completed")).toHaveLength(1);
    expect(states.filter((t) => t!.state === "ready").map((t) => t!.attempt)).toEqual([0, 0, 0, 0]);
  });
});

import { expect, it } from "vitest";
import type { Logger } from "../../src/index.js";
import { deferred, describeBackends, until } from "../support/backends.js";

describeBackends("declarative set-up", (backend) => {
  it("defines tasks, schedules and a worker in one open() call, with a custom logger", async () => {
    const lines: { level: string; msg: string }[] = [];
    const log = (level: string) => (a: unknown, b?: string) => lines.push({ level, msg: typeof a === "string" ? a : b ?? "" });
    const logger: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
    const sent = deferred<unknown>();
    const tl = await backend.open({
      logger,
      tasks: {
        "email.send": async (task) => sent.resolve(task.payload),
        "report.build": { handler: async () => "built", retry: { maxAttempts: 7 } },
      },
      schedules: { nightly: { cron: "0 3 * * *", timezone: "Europe/Oslo", topic: "report.build" } },
      worker: { concurrency: 5, pollIntervalMs: 50 },
    });
    expect(tl.topics().sort()).toEqual(["email.send", "report.build"]);
    expect(tl.defaultWorker).toBeDefined();
    await tl.enqueue("email.send", { to: "a@b.c" });
    expect(await sent.promise).toEqual({ to: "a@b.c" });
    expect((await tl.enqueue("report.build", null)).maxAttempts).toBe(7);
    await until("the declared schedule", async () => (await tl.getSchedule("nightly")) ?? undefined);
    expect(lines.some((l) => l.level === "info" && l.msg === "applied migrations")).toBe(true);
  });

  it("rejects a malformed declaration and leaves nothing running", async () => {
    await expect(backend.open({ tasks: { bad: 42 as never } })).rejects.toMatchObject({ code: "VALIDATION", message: expect.stringContaining("tasks.bad") });
    await expect(backend.open({ logger: { info() {} } as never })).rejects.toMatchObject({ code: "VALIDATION" });
  });
});

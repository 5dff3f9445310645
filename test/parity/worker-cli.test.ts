import { describe, expect, inject, it } from "vitest";
import { Tasklane } from "../../src/index.js";
import { silentLogger } from "../../src/logger.js";
import { freshSchema, until } from "../support/backends.js";
import { spawnTs } from "../support/children.js";

const url = inject("pgUrl");

describe.skipIf(!url)("tasklane worker (command line)", () => {
  it("runs a module's tasks; SIGTERM mid-task lets the task finish and exits 0", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, maintenance: false });
    try {
      const cli = spawnTs("src/cli/main.ts", { DATABASE_URL: url!, TASKLANE_LOG_LEVEL: "error" }, [
        "worker", "--tasks", "test/fixtures/cli-tasks.ts", "--schema", schema, "--concurrency", "2", "--grace-ms", "20000",
      ]);
      await cli.waitFor(/^Tasklane worker .* running cli\.slow \(concurrency 2\)$/);
      const task = await tl.enqueue("cli.slow", { ms: 1_500 });
      await cli.waitFor(new RegExp(`^started ${task.id}$`));
      cli.process.kill("SIGTERM");
      expect(await cli.exited).toBe(0);
      expect(await tl.getTask(task.id)).toMatchObject({ state: "completed", result: { slept: 1_500 } });
      expect(cli.lines.some((l) => l.startsWith("stopped: 1 completed"))).toBe(true);
      // Nothing was left claimed by the stopped worker.
      await until("the worker marked stopped", async () => (await tl.listWorkers()).every((w) => w.state === "stopped"));
    } finally {
      await tl.close();
    }
  }, 60_000);

  it("a second signal stops at once; the task is handed back to be run again", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, maintenance: { intervalMs: 100 } });
    try {
      const cli = spawnTs("src/cli/main.ts", { DATABASE_URL: url!, TASKLANE_LOG_LEVEL: "error" }, [
        "worker", "--tasks", "test/fixtures/cli-tasks.ts", "--schema", schema, "--grace-ms", "60000", "--lease-ms", "1000",
      ]);
      await cli.waitFor(/^Tasklane worker /);
      const task = await tl.enqueue("cli.slow", { ms: 60_000 }, { retry: { maxAttempts: 2, backoff: "constant", initialDelayMs: 0 } });
      await cli.waitFor(new RegExp(`^started ${task.id}$`));
      cli.process.kill("SIGTERM");
      await cli.waitFor(/^stopping/);
      cli.process.kill("SIGTERM");
      expect(await cli.exited).toBe(130);
      // Its lease expires and maintenance makes the task ready for another attempt.
      tl.startMaintenance();
      await until("the task back in the queue", async () => (await tl.getTask(task.id))?.state === "ready", 60_000);
    } finally {
      await tl.close();
    }
  }, 90_000);

  it("tasklane prune --dry-run reports what would go and deletes nothing; without it, deletes", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, maintenance: false });
    try {
      const tasks = await tl.enqueueMany([{ topic: "x" }, { topic: "x" }, { topic: "x" }]);
      await tl.complete(tasks[0]!.id, 1);
      await tl.complete(tasks[1]!.id, 2);
      const args = ["prune", "--schema", schema, "--completed-days", "0"];
      const dry = spawnTs("src/cli/main.ts", { DATABASE_URL: url!, TASKLANE_LOG_LEVEL: "error" }, [...args, "--dry-run"]);
      expect(await dry.exited).toBe(0);
      expect(dry.lines).toContain("would delete: 2 tasks, 0 processes, 0 beyond --max-finished");
      expect((await tl.listTasks()).tasks).toHaveLength(3);
      const real = spawnTs("src/cli/main.ts", { DATABASE_URL: url!, TASKLANE_LOG_LEVEL: "error" }, args);
      expect(await real.exited).toBe(0);
      expect(real.lines).toContain("deleted: 2 tasks, 0 processes (0 steps), 0 beyond --max-finished");
      expect((await tl.listTasks()).tasks.map((t) => t.id)).toEqual([tasks[2]!.id]);
    } finally {
      await tl.close();
    }
  }, 60_000);

  it("rejects a missing --tasks or a module without tasks", async () => {
    const noFlag = spawnTs("src/cli/main.ts", { TASKLANE_LOG_LEVEL: "error" }, ["worker"]);
    expect(await noFlag.exited).toBe(2);
    const empty = spawnTs("src/cli/main.ts", { TASKLANE_LOG_LEVEL: "error", DATABASE_URL: "memory://" }, ["worker", "--tasks", "test/fixtures/no-tasks.ts"]);
    expect(await empty.exited).not.toBe(0);
  });
});

/**
 * Rolling upgrades: the oldest release's worker keeps working against the newest schema. The
 * old code comes from the first commit of this repository (schema version 1), run from a
 * temporary copy inside the project so it resolves the same node_modules.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { Tasklane } from "../src/index.js";
import { silentLogger } from "../src/logger.js";
import { freshSchema, until } from "./support/backends.js";
import { spawnTs } from "./support/children.js";

const url = inject("pgUrl");
let oldDir: string | null = null;
let why = "";
try {
  const first = execFileSync("git", ["rev-list", "--max-parents=0", "HEAD"], { encoding: "utf8" }).trim().split("\n")[0]!;
  oldDir = mkdtempSync(join(process.cwd(), ".old-release-"));
  execFileSync("sh", ["-c", `git archive ${first} src sql | tar -x -C "${oldDir}"`]);
} catch (err) {
  why = `the first release is not in this checkout's history (${(err as Error).message.split("\n")[0]})`;
  oldDir = null;
}
afterAll(() => {
  if (oldDir) rmSync(oldDir, { recursive: true, force: true });
});

describe.skipIf(!url || !oldDir)(`an old worker against the new schema${why ? ` (skipped: ${why})` : ""}`, () => {
  it("drains tasks enqueued by the new release, on a schema migrated by the new release", async () => {
    const schema = freshSchema();
    const tl = await Tasklane.open({ database: url!, schema, logger: silentLogger, maintenance: false });
    try {
      const script = join(oldDir!, "old-worker.ts");
      writeFileSync(script, `
        import { Tasklane } from "./src/index.ts";
        const tl = await Tasklane.open({ database: process.env.TL_DATABASE, schema: process.env.TL_SCHEMA, logger: { debug() {}, info() {}, warn() {}, error() {} } });
        tl.define("legacy", async (task) => ({ doubled: task.payload.n * 2 }));
        await tl.worker({ concurrency: 10, pollIntervalMs: 100 }).start();
        console.log("ready");
        process.on("SIGTERM", async () => { await tl.close(); process.exit(0); });
      `);
      const old = spawnTs(script, { TL_DATABASE: url!, TL_SCHEMA: schema });
      await old.waitFor(/^ready$/);
      const tasks = await tl.enqueueMany(Array.from({ length: 200 }, (_, n) => ({ topic: "legacy", payload: { n } })));
      await until("the old worker drained them", async () => (await tl.listTasks({ state: "completed", limit: 1000 })).tasks.length === 200, 30_000);
      expect(await tl.getTask(tasks[21]!.id)).toMatchObject({ state: "completed", result: { doubled: 42 } });
      old.process.kill("SIGTERM");
      expect(await old.exited).toBe(0);
    } finally {
      await tl.close();
    }
  }, 60_000);
});

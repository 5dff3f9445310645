import { afterEach, describe, expect, inject, it } from "vitest";
import { RemoteBusinessError, TasklaneClient } from "../../src/client-http/index.js";
import { deferred, until } from "../support/backends.js";
import { startExternalServer, type ExternalServer } from "./support.js";

const servers: ExternalServer[] = [];
const clients: TasklaneClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop({ graceMs: 0 })));
  await Promise.all(servers.splice(0).map((s) => s.server.close()));
});

for (const kind of ["pglite", "postgres"] as const) {
  describe.skipIf(kind === "postgres" && !inject("pgUrl"))(`tasklane/client, the Node worker over HTTP [${kind}]`, () => {
    async function setup() {
      const s = await startExternalServer(kind);
      servers.push(s);
      const client = new TasklaneClient({ baseUrl: s.url, token: s.tokens.work, workerId: "node-client-1" });
      clients.push(client);
      return { s, tl: s.server.tl, client };
    }

    it("runs remote handlers: results, service errors (retried per policy) and business errors", async () => {
      const { tl, client } = await setup();
      client.subscribe<{ a: number; b: number }>("remote.add", async (task) => ({ sum: task.payload.a + task.payload.b }), { longPollingMs: 1_000 });
      client.subscribe("remote.flaky", async () => { throw new Error("upstream down"); }, { longPollingMs: 1_000 });
      client.subscribe("remote.refuse", async () => { throw new RemoteBusinessError("CARD_DECLINED", "declined"); }, { longPollingMs: 1_000 });
      const add = await tl.enqueue("remote.add", { a: 2, b: 3 });
      const flaky = await tl.enqueue("remote.flaky", null, { retry: { maxAttempts: 2, backoff: "constant", initialDelayMs: 0 } });
      const refuse = await tl.enqueue("remote.refuse", null, { retry: { maxAttempts: 5 } });
      await until("all three ended", async () => {
        const states = await Promise.all([add, flaky, refuse].map(async (t) => (await tl.getTask(t.id))!.state));
        return states.every((st) => st === "completed" || st === "failed");
      }, 20_000);
      expect(await tl.getTask(add.id)).toMatchObject({ state: "completed", result: { sum: 5 }, workerId: "node-client-1" });
      expect(await tl.getTask(flaky.id)).toMatchObject({ state: "failed", attempt: 2, error: { message: "upstream down" } });
      expect(await tl.getTask(refuse.id)).toMatchObject({ state: "failed", attempt: 1, error: { code: "BUSINESS", businessCode: "CARD_DECLINED" } });
    });

    it("extends the lock while a handler runs past its lock duration; the task runs once", async () => {
      const { tl, client } = await setup();
      let runs = 0;
      client.subscribe("remote.slow", async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 1_500));
        return "slow but mine";
      }, { lockDurationMs: 400, longPollingMs: 1_000 });
      tl.startMaintenance(); // a rescuer is watching: an unextended lock would be taken back
      const task = await tl.enqueue("remote.slow", null);
      await until("completion", async () => (await tl.getTask(task.id))?.state === "completed", 20_000);
      expect(runs).toBe(1);
      expect((await tl.getTask(task.id))!.result).toBe("slow but mine");
    });

    it("stop() stops fetching and lets a running handler finish", async () => {
      const { tl, client } = await setup();
      const started = deferred();
      client.subscribe("remote.stop", async () => {
        started.resolve();
        await new Promise((r) => setTimeout(r, 300));
        return "finished";
      }, { longPollingMs: 1_000 });
      const task = await tl.enqueue("remote.stop", null);
      await started.promise;
      await client.stop({ graceMs: 10_000 });
      expect(await tl.getTask(task.id)).toMatchObject({ state: "completed", result: "finished" });
      const later = await tl.enqueue("remote.stop", null);
      expect((await tl.getTask(later.id))!.state).toBe("ready");
      expect(() => client.subscribe("x", async () => null)).toThrow(/stopped/);
    });
  });
}

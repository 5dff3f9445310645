/**
 * Handoff: a single enqueue that is due now is handed to an idle worker by the inserting
 * statement (inserted running, leased to the worker) and starts on the worker's notification.
 */
import { expect, it } from "vitest";
import pg from "pg";
import type { RunningTask, Tasklane } from "../../src/index.js";
import { deferred, describeBackends, until } from "../support/backends.js";

type Row = Record<string, unknown>;

async function sql<R = Row>(tl: Tasklane, text: string, params: unknown[] = []): Promise<R[]> {
  return tl.engine.driver.query<R>({ name: "", text }, params);
}

/** The worker's offer as the database has it. */
async function offerOf(tl: Tasklane, workerId: string): Promise<{ offer_slots: number; handed: number }> {
  const [row] = await sql<{ offer_slots: number; handed: string }>(tl, `SELECT offer_slots, handed FROM ${tl.schema}.worker WHERE id = $1`, [workerId]);
  return { offer_slots: row!.offer_slots, handed: Number(row!.handed) };
}

/** Resolves once the worker has an open offer of at least `slots` (it found nothing to claim). */
const offered = (tl: Tasklane, workerId: string, slots = 1) =>
  until(`an offer of ${slots} from ${workerId}`, async () => (await offerOf(tl, workerId)).offer_slots >= slots);

describeBackends("handoff", (backend) => {
  it("hands a single enqueue to the idle worker: it starts as the worker's first attempt, without a claim", async () => {
    const tl = await backend.open();
    const ran = deferred<RunningTask<{ to: string }>>();
    tl.define("email", async (task: RunningTask<{ to: string }>) => {
      ran.resolve(task);
      return { sent: true };
    });
    const worker = tl.worker({ concurrency: 4 });
    await worker.start();
    await offered(tl, worker.id, 4);

    const task = await tl.enqueue("email", { to: "a@b.c" }, { priority: 3, tags: [] });
    expect(task).toMatchObject({ state: "running", attempt: 1, workerId: worker.id, created: true });
    const seen = await ran.promise;
    expect(seen).toMatchObject({ id: task.id, payload: { to: "a@b.c" }, attempt: 1, priority: 3, topic: "email" });
    await until("completion", async () => (await tl.getTask(task.id))?.state === "completed");
    expect(await tl.getTask(task.id)).toMatchObject({ result: { sent: true }, attempt: 1, workerId: worker.id });
    // One slot taken; the worker tops its offer up again once it falls to half.
    expect((await offerOf(tl, worker.id)).handed).toBe(1);
  });

  it("leaves batches, delayed tasks, other topics, unmatched tags and enqueues inside a transaction to claims", async () => {
    const tl = await backend.open();
    const ran: string[] = [];
    tl.define("a", async (task: RunningTask<string>) => void ran.push(task.payload));
    tl.define("b", async (task: RunningTask<string>) => void ran.push(task.payload));
    const worker = tl.worker({ topics: ["a"], concurrency: 10, pollIntervalMs: 50 });
    await worker.start();
    await offered(tl, worker.id);

    const [batch] = await tl.enqueueMany([{ topic: "a", payload: "batch" }]);
    const delayed = await tl.enqueue("a", "delayed", { delayMs: 200 });
    const otherTopic = await tl.enqueue("b", "other topic");
    const tagged = await tl.enqueue("a", "tagged", { tags: ["gpu"] });
    const inTx = await tl.engine.driver.transaction(async (tx) => {
      // A caller's transaction: handed off, the worker's offer row would stay locked until it ends.
      const client = { query: async (text: string, values?: unknown[]) => ({ rows: await tx.query({ name: "", text }, values) }) };
      return tl.enqueue("a", "in a transaction", { tx: client });
    });
    for (const t of [batch!, delayed, otherTopic, tagged, inTx]) expect(t.state).toBe("ready");
    await until("the claimable tasks", async () => ran.length === 3);
    expect(ran.sort()).toEqual(["batch", "delayed", "in a transaction"]);
    expect((await tl.getTask(tagged.id))!.state).toBe("ready");
    expect((await tl.getTask(otherTopic.id))!.state).toBe("ready");
    expect((await offerOf(tl, worker.id)).handed).toBe(0);
  });

  it("a tagged task goes to a worker with a matching tag; an existing key takes no slot", async () => {
    const tl = await backend.open();
    tl.define("t", async () => null);
    const worker = tl.worker({ concurrency: 2, tags: ["gpu"] });
    await worker.start();
    await offered(tl, worker.id);
    const first = await tl.enqueue("t", 1, { tags: ["gpu"], key: "k-1" });
    expect(first).toMatchObject({ state: "running", workerId: worker.id, created: true });
    const again = await tl.enqueue("t", 1, { tags: ["gpu"], key: "k-1" });
    expect(again).toMatchObject({ id: first.id, created: false });
    expect((await offerOf(tl, worker.id)).handed).toBe(1);
  });

  it("never offers more than the free handler slots: a busy worker's tasks wait as ready", async () => {
    const tl = await backend.open();
    const release = deferred();
    let started = 0;
    tl.define("slow", async () => {
      started++;
      await release.promise;
    });
    const worker = tl.worker({ concurrency: 2, pollIntervalMs: 600_000 });
    await worker.start();
    await offered(tl, worker.id, 2);
    const tasks: Awaited<ReturnType<typeof tl.enqueue>>[] = [];
    for (let i = 0; i < 4; i++) tasks.push(await tl.enqueue("slow", i));
    expect(tasks.map((t) => t.state)).toEqual(["running", "running", "ready", "ready"]);
    await until("both handlers", async () => started === 2);
    release.resolve();
    await until("all four", async () => {
      const states = await Promise.all(tasks.map(async (t) => (await tl.getTask(t.id))!.state));
      return states.every((s) => s === "completed");
    });
    expect(started).toBe(4);
  });

  it("carries a payload too large for a notification by reading the task", async () => {
    const tl = await backend.open();
    const got = deferred<string>();
    tl.define("big", async (task: RunningTask<{ s: string }>) => got.resolve(task.payload.s));
    const worker = tl.worker();
    await worker.start();
    await offered(tl, worker.id);
    const s = "é".repeat(20_000);
    const task = await tl.enqueue("big", { s });
    expect(task.state).toBe("running");
    expect(await got.promise).toBe(s);
  });

  it("a stopping worker closes its offer and hands back what it holds but never received", async () => {
    const tl = await backend.open();
    tl.define("t", async () => null);
    const worker = tl.worker({ pollIntervalMs: 600_000 });
    await worker.start();
    await offered(tl, worker.id);
    // A task leased to the worker whose handoff notification never arrived (or whose claim
    // answer was lost): running in the database, unknown to the worker.
    const task = await tl.enqueue("t", null, { delayMs: 60_000 });
    await sql(tl, `UPDATE ${tl.schema}.task SET state = 'running', attempt = 1, lease_token = 1, lease_owner = $2,
                   lease_expires_at = now() + interval '1 hour' WHERE id = $1`, [task.id, worker.id]);
    await worker.stop();
    expect(await offerOf(tl, worker.id)).toMatchObject({ offer_slots: 0 });
    // Ready again, its attempt not used: another worker runs it as attempt 1.
    expect(await tl.getTask(task.id)).toMatchObject({ state: "ready", attempt: 0 });
  });
});

describeBackends("handoff on PostgreSQL", (backend) => {
  it("after losing its LISTEN connection the worker hands back handoffs it missed, then runs them by claim", async () => {
    const tl = await backend.open();
    const runs = new Map<string, number>();
    tl.define("t", async (task) => void runs.set(task.id, (runs.get(task.id) ?? 0) + 1));
    const worker = tl.worker({ pollIntervalMs: 600_000 });
    await worker.start();
    await offered(tl, worker.id);
    const [{ offer_pid: pid, offer_epoch: epoch }] = (await sql<{ offer_pid: number; offer_epoch: number }>(
      tl, `SELECT offer_pid, offer_epoch FROM ${tl.schema}.worker WHERE id = $1`, [worker.id])) as [{ offer_pid: number; offer_epoch: number }];
    // A handoff whose notification will be lost with the connection: leased to the worker in the
    // database, unknown to it.
    const lost = await tl.enqueue("t", "lost", { delayMs: 60_000 });
    await sql(tl, `UPDATE ${tl.schema}.task SET state = 'running', attempt = 1, lease_token = 1, lease_owner = $2,
                   lease_expires_at = now() + interval '1 hour', run_at = now() WHERE id = $1`, [lost.id, worker.id]);
    const admin = new pg.Client({ connectionString: backend.url! });
    await admin.connect();
    try {
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      // Handed off (to the new listener) or claimed: either way it runs once.
      const during = await tl.enqueue("t", "during");
      await until("both tasks to complete", async () => {
        const [a, b] = await Promise.all([tl.getTask(during.id), tl.getTask(lost.id)]);
        return a?.state === "completed" && b?.state === "completed";
      });
      expect(runs.get(during.id)).toBe(1);
      expect(runs.get(lost.id)).toBe(1);
      expect(await tl.getTask(lost.id)).toMatchObject({ attempt: 1 });
      // A new epoch and the new listener: handoffs resume.
      await until("a new offer", async () => {
        const [row] = await sql<{ offer_pid: number; offer_epoch: number; offer_slots: number }>(
          tl, `SELECT offer_pid, offer_epoch, offer_slots FROM ${tl.schema}.worker WHERE id = $1`, [worker.id]);
        return row!.offer_slots > 0 && row!.offer_pid !== pid && row!.offer_epoch > epoch;
      });
      const after = await tl.enqueue("t", "after");
      expect(after.state).toBe("running");
      await until("the last task", async () => (await tl.getTask(after.id))?.state === "completed");
    } finally {
      await admin.end();
    }
  });
}, "postgres");

import { expect, it } from "vitest";
import { ConflictError, ValidationError } from "../../src/index.js";
import { describeBackends } from "../support/backends.js";

describeBackends("enqueue", (backend) => {
  it("stores a task with its options and returns it as getTask does", async () => {
    const tl = await backend.open();
    const runAt = new Date(Date.now() + 60_000);
    const task = await tl.enqueue("email.send", { to: "a@b.c" }, { priority: 5, runAt, tags: ["main"], key: "welcome-42" });
    expect(task).toMatchObject({
      topic: "email.send", state: "ready", payload: { to: "a@b.c" }, priority: 5, tags: ["main"],
      key: "welcome-42", attempt: 0, maxAttempts: 3, created: true, result: null, error: null,
    });
    expect(task.runAt.getTime()).toBe(runAt.getTime());
    const { created: _created, ...rest } = task;
    expect(await tl.getTask(task.id)).toEqual(rest);
  });

  it("returns what getTask returns for uniform and mixed batches alike", async () => {
    const tl = await backend.open();
    tl.define("d", async () => null, { retry: { maxAttempts: 4 }, tags: ["from-def"] });
    const runAt = new Date(Date.now() + 60_000);
    // Uniform (one statement with shared options), delayed, with tags from the definition…
    const uniform = await tl.enqueueMany([
      { topic: "d", payload: { i: 1 }, delayMs: 5_000 },
      { topic: "d", payload: [1, "two"], delayMs: 5_000 },
      { topic: "d", payload: undefined, delayMs: 5_000 },
    ]);
    // …uniform over two topics at a fixed time, and mixed (per-row options).
    const twoTopics = await tl.enqueueMany([
      { topic: "x", payload: 1, runAt, tags: ["a", 'q"uote'] },
      { topic: "y", payload: 2, runAt, tags: ["a", 'q"uote'] },
    ]);
    const mixed = await tl.enqueueMany([{ topic: "x", payload: 3, priority: 1 }, { topic: "x", payload: 4 }]);
    for (const task of [...uniform, ...twoTopics, ...mixed]) {
      const { created, ...rest } = task;
      expect(created).toBe(true);
      expect(await tl.getTask(task.id)).toEqual(rest);
    }
    expect(uniform.map((t) => t.payload)).toEqual([{ i: 1 }, [1, "two"], null]);
    expect(uniform[0]).toMatchObject({ maxAttempts: 4, tags: ["from-def"] });
    expect(Number(uniform[1]!.id)).toBeGreaterThan(Number(uniform[0]!.id));
  });

  it("stores a uniform batch's payloads and topics exactly, whatever characters they hold, in input order", async () => {
    const tl = await backend.open();
    const payloads = [
      'q"uote', "back\\slash", "{a,b}", ",", "[1,2]", "\u00e9\u4e2d\ud83d\ude00", "line\nbreak\ttab", "\u0001",
      { nested: { "k\"ey": ["x", null, 1.5, true] } }, [], {}, 0, null, "",
    ];
    const topics = ['t,"1"', "t{2}", " t3 "];
    const tasks = await tl.enqueueMany(payloads.map((payload, i) => ({ topic: topics[i % 3]!, payload })));
    expect(tasks.map((t) => t.payload)).toEqual(payloads);
    expect(tasks.map((t) => t.topic)).toEqual(payloads.map((_, i) => topics[i % 3]!.trim()));
    const ids = tasks.map((t) => Number(t.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    for (const task of tasks) {
      const { created: _created, ...rest } = task;
      expect(await tl.getTask(task.id)).toEqual(rest);
    }
  });

  it("validates every item of a batch: an item with options is checked in full, a bad topic after a good one is refused", async () => {
    const tl = await backend.open();
    const unknown = await tl.enqueueMany([{ topic: "a" }, { topic: "a", colour: "red" } as never]).catch((e) => e);
    expect(unknown).toBeInstanceOf(ValidationError);
    expect(unknown.message).toContain("item 1");
    const empty = await tl.enqueueMany([{ topic: "a" }, { topic: "" }]).catch((e) => e);
    expect(empty).toBeInstanceOf(ValidationError);
    expect(empty.message).toContain("item 1");
    expect((await tl.listTasks()).tasks).toHaveLength(0);
  });

  it("returns the existing task for a key that exists, and says it was not created", async () => {
    const tl = await backend.open();
    const first = await tl.enqueue("a", { n: 1 }, { key: "k" });
    const second = await tl.enqueue("a", { n: 2 }, { key: "k" });
    expect(second.created).toBe(false);
    expect(second.id).toBe(first.id);
    expect(second.payload).toEqual({ n: 1 });
    expect((await tl.listTasks()).tasks).toHaveLength(1);
  });

  it("refuses a key that belongs to another topic", async () => {
    const tl = await backend.open();
    await tl.enqueue("a", null, { key: "k" });
    const err = await tl.enqueue("b", null, { key: "k" }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.code).toBe("CONFLICT");
    expect((await tl.listTasks()).tasks).toHaveLength(1);
  });

  it("uses the topic's definition for policy and tags, and the task's own options over it", async () => {
    const tl = await backend.open();
    tl.define("t", async () => null, { retry: { maxAttempts: 7 }, tags: ["blue"] });
    expect(await tl.enqueue("t", null)).toMatchObject({ maxAttempts: 7, tags: ["blue"] });
    expect(await tl.enqueue("t", null, { retry: { maxAttempts: 2 }, tags: [] })).toMatchObject({ maxAttempts: 2, tags: [] });
  });

  it("enqueueMany inserts in order and maps keys back to their items", async () => {
    const tl = await backend.open();
    await tl.enqueue("a", "old", { key: "dup" });
    const items = [
      { topic: "a", payload: 1 },
      { topic: "a", payload: 2, key: "dup" },
      { topic: "a", payload: 3, key: "fresh" },
      { topic: "a", payload: 4, key: "fresh" },
      { topic: "b", payload: 5 },
    ];
    const tasks = await tl.enqueueMany(items);
    expect(tasks.map((t) => [t.payload, t.created])).toEqual([[1, true], ["old", false], [3, true], [3, false], [5, true]]);
    expect(tasks[3]!.id).toBe(tasks[2]!.id);
    expect(BigInt(tasks[0]!.id) < BigInt(tasks[2]!.id)).toBe(true);
    expect((await tl.listTasks()).tasks).toHaveLength(4);
  });

  it("enqueueMany writes nothing when one key belongs to another topic", async () => {
    const tl = await backend.open();
    await tl.enqueue("a", null, { key: "taken" });
    const err = await tl.enqueueMany([{ topic: "b", payload: 1 }, { topic: "b", payload: 2, key: "taken" }]).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((await tl.listTasks()).tasks).toHaveLength(1);
  });

  it("enqueueMany writes nothing when one item is invalid", async () => {
    const tl = await backend.open();
    const err = await tl.enqueueMany([{ topic: "a", payload: 1 }, { topic: "", payload: 2 }]).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toContain("item 1");
    expect((await tl.listTasks()).tasks).toHaveLength(0);
  });

  it("enqueues inside the caller's transaction: rolled back, no task", async () => {
    const tl = await backend.open();
    if (backend.kind === "postgres") {
      const pg = (await import("pg")).default;
      const client = new pg.Client({ connectionString: backend.url! });
      await client.connect();
      try {
        await client.query("BEGIN");
        const inTx = await tl.enqueue("a", { n: 1 }, { tx: client });
        expect(await tl.getTask(inTx.id)).toBeNull(); // invisible outside the transaction
        await client.query("ROLLBACK");
        expect(await tl.getTask(inTx.id)).toBeNull();
        await client.query("BEGIN");
        const committed = await tl.enqueue("a", { n: 2 }, { tx: client });
        await client.query("COMMIT");
        expect(await tl.getTask(committed.id)).toMatchObject({ payload: { n: 2 }, state: "ready" });
      } finally {
        await client.end();
      }
    } else {
      // PGlite has one connection: the caller's transaction is PGlite's own transaction object.
      const db = await backend.pglite();
      let rolledBack = "";
      await db.transaction(async (tx) => {
        rolledBack = (await tl.enqueue("a", { n: 1 }, { tx })).id;
        await tx.rollback();
      });
      expect(await tl.getTask(rolledBack)).toBeNull();
      const committed = await db.transaction((tx) => tl.enqueue("a", { n: 2 }, { tx }));
      expect(await tl.getTask(committed.id)).toMatchObject({ payload: { n: 2 }, state: "ready" });
    }
  });

  it.each([
    ["an empty topic", () => ["", {}, {}]],
    ["a topic that is not a string", () => [42, {}, {}]],
    ["an unknown option", () => ["a", {}, { priorty: 1 }]],
    ["a priority out of range", () => ["a", {}, { priority: 2 ** 40 }]],
    ["a fractional priority", () => ["a", {}, { priority: 1.5 }]],
    ["zero max attempts", () => ["a", {}, { retry: { maxAttempts: 0 } }]],
    ["an unknown backoff", () => ["a", {}, { retry: { backoff: "fibonacci" } }]],
    ["runAt and delayMs together", () => ["a", {}, { runAt: new Date(), delayMs: 5 }]],
    ["an invalid runAt", () => ["a", {}, { runAt: new Date("nope") }]],
    ["a BigInt payload", () => ["a", { n: 1n }, {}]],
    ["a cyclic payload", () => { const o: Record<string, unknown> = {}; o.self = o; return ["a", o, {}]; }],
    ["a function payload", () => ["a", () => 1, {}]],
    ["an empty key", () => ["a", {}, { key: "" }]],
    ["a tx that is not a client", () => ["a", {}, { tx: {} }]],
    ["a NUL in the payload", () => ["a", { s: "a\u0000b" }, {}]],
    ["an unpaired surrogate in a payload key", () => ["a", { ["x\uD800"]: 1 }, {}]],
    ["an unpaired surrogate in the key", () => ["a", {}, { key: "k\uDC00" }]],
    ["a NUL in the topic", () => ["a\u0000", {}, {}]],
    ["a NUL in a tag", () => ["a", {}, { tags: ["t\u0000"] }]],
    ["a runAt before 1970", () => ["a", {}, { runAt: new Date("0001-01-01T00:00:00Z") }]],
  ])("rejects %s with a ValidationError and writes nothing", async (_name, args) => {
    const tl = await backend.open();
    const [topic, payload, options] = args() as [string, unknown, object];
    const err = await tl.enqueue(topic, payload, options).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.code).toBe("VALIDATION");
    expect(err.message.length).toBeGreaterThan(10);
    expect((await tl.listTasks()).tasks).toHaveLength(0);
  });

  it("rejects a payload over maxPayloadBytes", async () => {
    const tl = await backend.open({ maxPayloadBytes: 100 });
    const err = await tl.enqueue("a", { blob: "x".repeat(200) }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toContain("maxPayloadBytes");
  });
});


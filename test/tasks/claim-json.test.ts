/**
 * TaskClaimJson is TaskClaim answered as one JSON text per row (the worker's claim on PGlite,
 * whose driver parses answers field by field in JavaScript). It includes TaskClaim's text
 * (test/queries.test.ts); here both claims of the same tasks must give the worker the same rows.
 */
import { expect, it } from "vitest";
import { sequence, type Tasklane } from "../../src/index.js";
import { adHoc } from "../../src/db/queries.js";
import { describeBackends } from "../support/backends.js";

/** Thrown to roll a transaction back after reading what it claimed. */
class Rollback extends Error {
  constructor(readonly rows: Record<string, unknown>[]) {
    super("rollback");
  }
}

/** What `name` claims right now (as a worker of both tags), in a transaction rolled back after, so both claims see the same tasks. */
async function claimAndRollBack(tl: Tasklane, name: "TaskClaim" | "TaskClaimJson", topics: string[]): Promise<Record<string, unknown>[]> {
  const { driver, queries } = tl.engine;
  try {
    await driver.transaction(async (tx) => {
      const rows = await tx.query<Record<string, unknown>>(queries.get(name), [topics, ["gpu", "eu,west"], 100, "w-test", 30_000, null]);
      throw new Rollback(name === "TaskClaimJson" ? rows.map((r) => JSON.parse(r.j as string) as Record<string, unknown>) : rows);
    });
  } catch (err) {
    if (err instanceof Rollback) return err.rows;
    throw err;
  }
  throw new Error("unreachable");
}

describeBackends("the JSON claim", (backend) => {
  it("answers the same rows as TaskClaim: plain tasks of every option, and process steps with input and parents", async () => {
    const tl = await backend.open({ maintenance: false });
    await tl.enqueueMany([
      { topic: "cj.plain", payload: { text: "quote \" backslash \\ comma , brace { unicode é 𝄞", n: 1.5, nested: [1, { a: null }] } },
      { topic: "cj.plain", payload: null },
      {
        topic: "cj.plain", payload: "a string",
        key: "cj-key", priority: 5, tags: ["gpu", "eu,west"], timeouts: { startToCloseMs: 60_000, heartbeatMs: 5_000, scheduleToCloseMs: 3_600_000 },
      },
    ]);
    // A trace context and an event, as enqueueing under a span and waking from waitForEvent leave them.
    await tl.engine.driver.query(
      adHoc(`UPDATE "${tl.schema}".task SET trace = $1::jsonb, event = $2::jsonb WHERE topic = 'cj.plain' AND coalesce(payload, 'null') = 'null'`),
      [JSON.stringify({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }), JSON.stringify({ name: "paid", data: { amount: 3 } })],
    );
    const { process } = await tl.startProcess({
      name: "cj.flow", input: { order: 7 },
      steps: sequence({ name: "first", topic: "cj.first" }, { name: "second", topic: "cj.second" }),
    });
    // The first step finishes with a result, so the second is ready and sees it as a parent.
    const { driver, queries } = tl.engine;
    const [first] = await driver.query<Record<string, unknown>>(queries.get("TaskClaim"), [["cj.first"], [], 1, "w-test", 30_000, null]);
    const [done] = await driver.query<{ ids: string }>(queries.get("TaskCompleteMany"), [[first!.id], [first!.lease_token], [JSON.stringify({ ok: true })]]);
    expect(done!.ids).toBe(String(first!.id));

    const topics = ["cj.plain", "cj.second"];
    const asRows = await claimAndRollBack(tl, "TaskClaim", topics);
    const asJson = await claimAndRollBack(tl, "TaskClaimJson", topics);
    expect(asRows).toHaveLength(4);
    expect(asJson).toEqual(asRows);
    // The JSON answer gives ids as text (exact past 2^53), and the values the worker reads typed.
    const step = asJson.find((r) => r.step === "second")!;
    expect(step).toMatchObject({ process_id: process.id, process_input: { order: 7 }, parents: { first: { state: "completed", result: { ok: true }, error: null } } });
    expect(typeof asJson[0]!.id).toBe("string");
    expect(typeof asRows[0]!.id).toBe("string");
    expect(asJson.find((r) => r.topic === "cj.plain" && r.payload === null)).toMatchObject({ trace: { traceparent: expect.any(String) }, event: { name: "paid", data: { amount: 3 } } });
    const keyed = asJson.find((r) => r.key === "cj-key")!;
    expect(keyed).toMatchObject({ priority: 5, tags: ["gpu", "eu,west"], start_to_close_ms: 60_000, heartbeat_timeout_ms: 5_000, lease_token: 1, attempt: 1 });
    expect(typeof keyed.deadline_ms).toBe("number");
    expect(typeof keyed.created_ms).toBe("number");
  });
});

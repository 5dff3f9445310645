/**
 * The process routes of /api/v1 against a real server: idempotent start (201/200/409), read by
 * id or key, list with a cursor, operator control and events.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Worker } from "../../src/runtime/worker.js";
import { until } from "../support/backends.js";
import { describeServers, expectError, expectJson, startServer, type TestServer } from "./support.js";

type ProcessJson = { id: string; key: string | null; state: string; created?: boolean; steps: { name: string; state: string; taskId: string }[] };

describeServers("HTTP process API", (kind) => {
  let t: TestServer;
  let worker: Worker;
  beforeAll(async () => {
    t = await startServer(kind);
    t.server.tl.define("proc.wait", async (_task, ctx) => (ctx.event ? ctx.event.data : ctx.waitForEvent("go", { timeoutMs: 60_000 })));
    worker = t.server.tl.worker({ topics: ["proc.wait"], pollIntervalMs: 20 });
    await worker.start();
  });
  afterAll(async () => {
    await worker?.stop({ graceMs: 0 });
    await t?.server.close();
  });

  const definition = {
    key: "order-42",
    name: "order.fulfil",
    input: { orderId: 42 },
    steps: [
      { name: "reserve", topic: "stock.reserve" },
      { name: "charge", topic: "payment.charge", dependsOn: ["reserve"] },
    ],
  };

  it("POST /processes: 201 created, 200 the same again, 409 another definition with the key", async () => {
    const res = await t.call("POST", "/api/v1/processes", { body: definition });
    const created = await expectJson<ProcessJson>(res, 201);
    expect(created).toMatchObject({ key: "order-42", state: "running", created: true });
    expect(created.steps.map((s) => [s.name, s.state])).toEqual([["reserve", "ready"], ["charge", "pending"]]);
    expect(res.headers.get("location")).toBe(`/api/v1/processes/${created.id}`);
    const again = await expectJson<ProcessJson>(await t.call("POST", "/api/v1/processes", { body: definition }), 200);
    expect(again).toMatchObject({ id: created.id, created: false });
    const conflict = await expectError(await t.call("POST", "/api/v1/processes", { body: { ...definition, input: { orderId: 43 } } }), 409, "CONFLICT");
    expect(conflict.details).toMatchObject({ key: "order-42", processId: created.id });
  });

  it("accepts sequence/parallel groups as { kind, items }", async () => {
    const body = {
      name: "grouped",
      steps: { kind: "sequence", items: [{ name: "a", topic: "g" }, { kind: "parallel", items: [{ name: "b", topic: "g" }, { name: "c", topic: "g" }] }, { name: "d", topic: "g" }] },
    };
    const p = await expectJson<ProcessJson>(await t.call("POST", "/api/v1/processes", { body }), 201);
    expect(p.steps.map((s) => [s.name, s.state])).toEqual([["a", "ready"], ["b", "pending"], ["c", "pending"], ["d", "pending"]]);
  });

  it("refuses a bad definition with 400 and writes nothing", async () => {
    const before = (await t.server.tl.listProcesses({ limit: 1000 })).processes.length;
    const bad = [
      { name: "x", steps: [] },
      { name: "x", steps: [{ name: "a", topic: "t", dependsOn: ["a"] }] },
      { name: "x", steps: [{ name: "a", topic: "t", dependsOn: ["b"] }, { name: "b", topic: "t", dependsOn: ["a"] }] },
      { name: "x", steps: [{ name: "a", topic: "t", retries: 3 }] },
      { name: "x", steps: [{ name: "a", topic: "t" }], extra: 1 },
      { name: "x", steps: { kind: "loop", items: [] } },
      { name: "x", steps: [{ name: "a", topic: "t", payload: "\u0000" }] },
      { name: "", steps: [{ name: "a", topic: "t" }] },
      { name: "x", key: "k\u0000", steps: [{ name: "a", topic: "t" }] },
    ];
    for (const body of bad) await expectError(await t.call("POST", "/api/v1/processes", { body }), 400, "VALIDATION");
    // Groups nested far deeper than any real definition: refused before any recursive validation.
    const deep = `{"name":"x","steps":${'{"kind":"sequence","items":['.repeat(5000)}{"name":"a","topic":"t"}${"]}".repeat(5000)}}`;
    await expectError(await t.call("POST", "/api/v1/processes", { raw: deep }), 400, "VALIDATION");
    expect((await t.server.tl.listProcesses({ limit: 1000 })).processes.length).toBe(before);
  });

  it("GET /processes/:idOrKey by id and by key; 404 for neither", async () => {
    const byKey = await expectJson<ProcessJson>(await t.call("GET", "/api/v1/processes/order-42"), 200);
    const byId = await expectJson<ProcessJson>(await t.call("GET", `/api/v1/processes/${byKey.id}`), 200);
    expect(byId).toEqual(byKey);
    for (const id of ["987654321", "no-such-key", "%00", "99999999999999999999"]) await expectError(await t.call("GET", `/api/v1/processes/${id}`), 404, "NOT_FOUND");
  });

  it("GET /processes lists newest first with a cursor and filters", async () => {
    const first = await expectJson<{ processes: ProcessJson[]; nextCursor: string }>(await t.call("GET", "/api/v1/processes?limit=1"), 200);
    expect(first.processes).toHaveLength(1);
    const second = await expectJson<{ processes: ProcessJson[] }>(await t.call("GET", `/api/v1/processes?limit=1&cursor=${first.nextCursor}`), 200);
    expect(Number(second.processes[0]!.id)).toBeLessThan(Number(first.processes[0]!.id));
    const named = await expectJson<{ processes: ProcessJson[] }>(await t.call("GET", "/api/v1/processes?name=order.fulfil&state=running"), 200);
    expect(named.processes.map((p) => p.key)).toEqual(["order-42"]);
    for (const q of ["state=done", "limit=0", "cursor=!!", "name=%00"]) await expectError(await t.call("GET", `/api/v1/processes?${q}`), 400, "VALIDATION");
  });

  it("suspend, resume and cancel, each refused in the wrong state", async () => {
    await expectJson(await t.call("POST", "/api/v1/processes", { body: { key: "ctl", name: "ctl", steps: [{ name: "a", topic: "idle" }] } }), 201);
    expect(await expectJson(await t.call("POST", "/api/v1/processes/ctl/suspend"), 200)).toMatchObject({ state: "suspended" });
    await expectError(await t.call("POST", "/api/v1/processes/ctl/suspend"), 409, "INVALID_STATE");
    expect(await expectJson(await t.call("POST", "/api/v1/processes/ctl/resume"), 200)).toMatchObject({ state: "running" });
    await expectError(await t.call("POST", "/api/v1/processes/ctl/resume"), 409, "INVALID_STATE");
    const cancelled = await expectJson<ProcessJson>(await t.call("POST", "/api/v1/processes/ctl/cancel"), 200);
    expect(cancelled).toMatchObject({ state: "cancelled", steps: [{ state: "cancelled" }] });
    await expectError(await t.call("POST", "/api/v1/processes/ctl/cancel"), 409, "INVALID_STATE");
    for (const action of ["cancel", "suspend", "resume"]) await expectError(await t.call("POST", `/api/v1/processes/nope/${action}`), 404, "NOT_FOUND");
  });

  it("POST /processes/:idOrKey/events wakes the steps waiting for it", async () => {
    await expectJson(await t.call("POST", "/api/v1/processes", { body: { key: "ev", name: "ev", steps: [{ name: "w", topic: "proc.wait" }] } }), 201);
    await until("waiting", async () => (await t.server.tl.getProcess("ev"))?.steps[0]?.state === "waiting");
    const { woken } = await expectJson<{ woken: string[] }>(await t.call("POST", "/api/v1/processes/ev/events", { body: { name: "go", data: 7 } }), 200);
    expect(woken).toHaveLength(1);
    await until("completed", async () => (await t.server.tl.getProcess("ev"))?.state === "completed");
    await expectError(await t.call("POST", "/api/v1/processes/ev/events", { body: { name: "go" } }), 409, "INVALID_STATE");
    await expectError(await t.call("POST", "/api/v1/processes/nope/events", { body: { name: "go" } }), 404, "NOT_FOUND");
    // A key made of digits beyond bigint is a key, not a task id.
    await expectError(await t.call("POST", "/api/v1/processes/99999999999999999999/events", { body: { name: "go" } }), 404, "NOT_FOUND");
  });

  it("no request was a server fault", () => {
    expect(t.logged).toEqual([]);
  });
});

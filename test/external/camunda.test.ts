/**
 * The Camunda 7 external-task REST API over HTTP (base /engine-rest): Camunda's DTOs, typed
 * variables, error shapes and status codes, queries, and long polling.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { until } from "../support/backends.js";
import { describeServers, expectJson, startExternalServer, type ExternalServer } from "./support.js";

const base = "/engine-rest/external-task";

describeServers("Camunda 7 external task API", (kind) => {
  let s: ExternalServer;
  beforeAll(async () => {
    s = await startExternalServer(kind);
  }, 60_000);
  afterAll(async () => {
    expect(s.logged).toEqual([]);
    await s.server.close();
  });

  const post = (path: string, body?: unknown, raw?: string) => s.call("POST", `${base}${path}`, { body, raw });
  const get = (path: string) => s.call("GET", `${base}${path}`);
  const fetchAndLock = (topics: unknown[], workerId = "cw1", extra: Record<string, unknown> = {}) =>
    post("/fetchAndLock", { workerId, maxTasks: 10, usePriority: true, topics, ...extra });
  async function expectCamundaError(res: Response, status: number, type: string): Promise<string> {
    const body = (await res.json()) as { type: string; message: string };
    expect({ status: res.status, type: body.type }).toEqual({ status, type });
    expect(typeof body.message).toBe("string");
    return body.message;
  }

  it("needs a token with the work scope", async () => {
    expect((await s.call("POST", `${base}/fetchAndLock`, { body: { workerId: "x", topics: [] }, token: null })).status).toBe(401);
    expect((await s.call("GET", `${base}/count`, { token: s.tokens.read })).status).toBe(403);
  });

  it("fetchAndLock answers Camunda's locked task DTO with typed variables", async () => {
    const payload = { s: "x", b: true, i: 5, l: 2 ** 40, d: 1.5, n: null, o: { a: 1 }, arr: [1, 2] };
    const task = await s.server.tl.enqueue("cam.shape", payload, { priority: 7, key: "biz-1" });
    const res = await fetchAndLock([{ topicName: "cam.shape", lockDuration: 60_000, variables: null, localVariables: false }], "cw1", {
      sorting: [{ sortBy: "createTime", sortOrder: "asc" }],
    });
    // The JavaScript client parses a body only when the type is exactly this.
    expect(res.headers.get("content-type")).toBe("application/json");
    const [dto] = await expectJson<Record<string, unknown>[]>(res, 200);
    expect(dto).toMatchObject({
      id: task.id, topicName: "cam.shape", workerId: "cw1", retries: 3, errorMessage: null, errorDetails: null, priority: 7,
      processInstanceId: null, activityId: "cam.shape", businessKey: "biz-1", suspended: false, tenantId: null, executionId: task.id,
    });
    expect(dto!.lockExpirationTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(dto!.variables).toEqual({
      s: { type: "String", value: "x", valueInfo: {} },
      b: { type: "Boolean", value: true, valueInfo: {} },
      i: { type: "Integer", value: 5, valueInfo: {} },
      l: { type: "Long", value: 2 ** 40, valueInfo: {} },
      d: { type: "Double", value: 1.5, valueInfo: {} },
      n: { type: "Null", value: null, valueInfo: {} },
      o: { type: "Json", value: '{"a":1}', valueInfo: {} },
      arr: { type: "Json", value: "[1,2]", valueInfo: {} },
    });
  });

  it("a topic's variables list limits the variables; a step sees its process input and parents' results", async () => {
    const { process } = await s.server.tl.startProcess({
      key: "cam-order-1", name: "cam.order", input: { orderId: 9, note: "input" },
      steps: [{ name: "reserve", topic: "cam.reserve" }, { name: "charge", topic: "cam.charge", dependsOn: ["reserve"], payload: { note: "payload" } }],
    });
    const [reserve] = await expectJson<Record<string, unknown>[]>(await fetchAndLock([{ topicName: "cam.reserve", lockDuration: 10_000, variables: ["orderId"] }]), 200);
    expect(reserve).toMatchObject({ activityId: "reserve", businessKey: "cam-order-1", processInstanceId: process.id, processDefinitionKey: "cam.order" });
    expect(reserve!.variables).toEqual({ orderId: { type: "Integer", value: 9, valueInfo: {} } });
    const done = await post(`/${reserve!.id}/complete`, { workerId: "cw1", variables: { reserved: { value: true, type: "Boolean" } } });
    expect(done.status).toBe(204);
    const [charge] = await expectJson<Record<string, unknown>[]>(await fetchAndLock([{ topicName: "cam.charge", lockDuration: 10_000 }]), 200);
    expect(charge!.variables).toMatchObject({
      orderId: { value: 9 }, reserved: { type: "Boolean", value: true }, note: { value: "payload" },
    });
  });

  it("complete merges typed variables into the result; fencing answers 400 and 404 like Camunda", async () => {
    const task = await s.server.tl.enqueue("cam.complete", null);
    await fetchAndLock([{ topicName: "cam.complete", lockDuration: 10_000 }], "holder");
    await expectCamundaError(await post(`/${task.id}/complete`, { workerId: "other" }), 400, "BadUserRequestException");
    await expectCamundaError(await post("/123456789/complete", { workerId: "holder" }), 404, "RestException");
    const res = await post(`/${task.id}/complete`, {
      workerId: "holder",
      variables: {
        total: { value: 12.5, type: "Double" }, count: { value: "3", type: "Integer" }, doc: { value: '{"k":[1]}', type: "Json" },
        obj: { value: '{"x":1}', type: "Object", valueInfo: { serializationDataFormat: "application/json", objectTypeName: "java.util.HashMap" } },
        nothing: { value: null, type: "Null" }, name: { value: "n", type: "string" },
      },
      localVariables: { local: { value: 1, type: "Integer" } },
    });
    expect(res.status).toBe(204);
    expect(await s.server.tl.getTask(task.id)).toMatchObject({
      state: "completed", result: { total: 12.5, count: 3, doc: { k: [1] }, obj: { x: 1 }, nothing: null, name: "n", local: 1 },
    });
    await expectCamundaError(await post(`/${task.id}/complete`, { workerId: "holder" }), 404, "RestException");
    await expectCamundaError(await get(`/${task.id}`), 404, "RestException");
  });

  it("failure with retries 0 is an incident listed with retries 0; with retries it comes back", async () => {
    const incident = await s.server.tl.enqueue("cam.fail", null);
    await fetchAndLock([{ topicName: "cam.fail", lockDuration: 10_000 }]);
    const failed = await post(`/${incident.id}/failure`, { workerId: "cw1", errorMessage: "boom", errorDetails: "at line 1\nat line 2", retries: 0, retryTimeout: 0 });
    expect(failed.status).toBe(204);
    const listed = await expectJson<Record<string, unknown>[]>(await get("?topicName=cam.fail&noRetriesLeft=true"), 200);
    expect(listed).toMatchObject([{ id: incident.id, retries: 0, errorMessage: "boom" }]);
    const details = await get(`/${incident.id}/errorDetails`);
    expect([details.status, await details.text()]).toEqual([200, "at line 1\nat line 2"]);
    await expectCamundaError(await post(`/${incident.id}/complete`, { workerId: "cw1" }), 400, "BadUserRequestException");

    const retried = await s.server.tl.enqueue("cam.retry", null);
    await fetchAndLock([{ topicName: "cam.retry", lockDuration: 10_000 }]);
    expect((await post(`/${retried.id}/failure`, { workerId: "cw1", errorMessage: "again", retries: 2, retryTimeout: 0 })).status).toBe(204);
    const [again] = await expectJson<Record<string, unknown>[]>(await fetchAndLock([{ topicName: "cam.retry", lockDuration: 10_000 }]), 200);
    expect(again).toMatchObject({ id: retried.id, retries: 2, errorMessage: "again" });
    await expectCamundaError(await post(`/${retried.id}/failure`, { workerId: "cw1", retries: -1 }), 400, "InvalidRequestException");
  });

  it("bpmnError, extendLock, lock and unlock", async () => {
    const t = await s.server.tl.enqueue("cam.misc", null);
    expect((await post(`/${t.id}/lock`, { workerId: "cw1", lockDuration: 5_000 })).status).toBe(204);
    await expectCamundaError(await post(`/${t.id}/lock`, { workerId: "cw2", lockDuration: 5_000 }), 400, "BadUserRequestException");
    expect((await post(`/${t.id}/extendLock`, { workerId: "cw1", newDuration: 90_000 })).status).toBe(204);
    await expectCamundaError(await post(`/${t.id}/extendLock`, { workerId: "cw2", newDuration: 90_000 }), 400, "BadUserRequestException");
    const dto = await expectJson<Record<string, unknown>>(await get(`/${t.id}`), 200);
    expect(Date.parse((dto.lockExpirationTime as string).replace("+0000", "Z"))).toBeGreaterThan(Date.now() + 80_000);
    expect((await s.call("POST", `${base}/${t.id}/unlock`)).status).toBe(204);
    expect(await expectJson(await get(`/${t.id}`), 200)).toMatchObject({ workerId: null, lockExpirationTime: null });
    await fetchAndLock([{ topicName: "cam.misc", lockDuration: 5_000 }], "cw3");
    expect((await post(`/${t.id}/bpmnError`, { workerId: "cw3", errorCode: "REJECTED", errorMessage: "no", variables: { why: { value: "x", type: "String" } } })).status).toBe(204);
    expect(await s.server.tl.getTask(t.id)).toMatchObject({ state: "failed", error: { code: "BUSINESS", businessCode: "REJECTED", variables: { why: "x" } } });
  });

  it("queries and counts filter, sort and page (GET and POST)", async () => {
    const ids = [];
    for (const p of [1, 5, 3]) ids.push((await s.server.tl.enqueue("cam.query", null, { priority: p })).id);
    await fetchAndLock([{ topicName: "cam.query", lockDuration: 10_000 }], "cq", { maxTasks: 1 });
    const sorted = await expectJson<{ id: string }[]>(await get("?topicName=cam.query&sortBy=taskPriority&sortOrder=desc"), 200);
    expect(sorted.map((t) => t.id)).toEqual([ids[1], ids[2], ids[0]]);
    const paged = await expectJson<{ id: string }[]>(await get("?topicName=cam.query&sortBy=id&sortOrder=asc&firstResult=1&maxResults=1"), 200);
    expect(paged.map((t) => t.id)).toEqual([ids[1]]);
    expect(await expectJson(await get("/count?topicName=cam.query&locked=true&workerId=cq"), 200)).toEqual({ count: 1 });
    expect(await expectJson(await get("/count?topicName=cam.query&notLocked=true"), 200)).toEqual({ count: 2 });
    expect(await expectJson(await post("/count", { topicName: "cam.query", priorityHigherThanOrEquals: 3 }), 200)).toEqual({ count: 2 });
    const byIds = await expectJson<{ id: string }[]>(await post("?maxResults=10", { externalTaskIdIn: [ids[0], ids[2]], sorting: [{ sortBy: "id", sortOrder: "desc" }] }), 200);
    expect(byIds.map((t) => t.id)).toEqual([ids[2], ids[0]]);
    await expectCamundaError(await get("?sortBy=taskPriority"), 400, "InvalidRequestException");
    await expectCamundaError(await get("?locked=yes"), 400, "InvalidRequestException");
  });

  it("bad input is a 400 InvalidRequestException and changes nothing", async () => {
    const t = await s.server.tl.enqueue("cam.bad", null);
    for (const body of [
      { workerId: 1, topics: [] },
      { workerId: "w", topics: "cam.bad" },
      { workerId: "w", topics: [{ topicName: "cam.bad", lockDuration: "long" }] },
      { workerId: "w", asyncResponseTimeout: 1e9, topics: [] },
    ]) {
      await expectCamundaError(await post("/fetchAndLock", body), 400, "InvalidRequestException");
    }
    await expectCamundaError(await post("/fetchAndLock", undefined, "{oops"), 400, "InvalidRequestException");
    await expectCamundaError(await post(`/${t.id}/complete`, { workerId: "w", variables: { x: { value: "nope", type: "Integer" } } }), 400, "InvalidRequestException");
    await expectCamundaError(await post(`/${t.id}/extendLock`, { workerId: "w", newDuration: -5 }), 400, "InvalidRequestException");
    expect(await s.server.tl.getTask(t.id)).toMatchObject({ state: "ready", attempt: 0 });
  });

  it("asyncResponseTimeout long-polls until a task arrives; a tenant filter matches nothing", async () => {
    const tl = s.server.tl;
    const polling = fetchAndLock([{ topicName: "cam.poll", lockDuration: 10_000 }], "cw1", { asyncResponseTimeout: 10_000 });
    await until("the poll to wait", async () => tl.external.waiting === 1);
    const task = await tl.enqueue("cam.poll", { v: 1 });
    expect((await expectJson<{ id: string }[]>(await polling, 200)).map((t) => t.id)).toEqual([task.id]);

    await tl.enqueue("cam.tenant", null);
    const t0 = Date.now();
    const none = await fetchAndLock([{ topicName: "cam.tenant", lockDuration: 1000, tenantIdIn: ["acme"] }], "cw1", { asyncResponseTimeout: 200 });
    expect(await expectJson(none, 200)).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });
});

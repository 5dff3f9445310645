import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type RunningServer } from "../../src/server/serve.js";
import { silentLogger, type Logger } from "../../src/logger.js";

let server: RunningServer;
/** The admin token the embedded server created at its first start. */
let auth: Record<string, string>;
/** Ids of every task a successful request created; nothing else may exist at the end. */
const created = new Set<string>();
/** What the server logged as errors: a request that reaches one is a server fault. */
const logged: unknown[] = [];

beforeAll(async () => {
  const logger: Logger = { ...silentLogger, error: (obj: unknown) => void logged.push(obj) };
  server = await serve({ database: "memory://", port: 0, logger });
  auth = { authorization: `Bearer ${server.createdToken!.token}` };
}, 30_000);

afterAll(async () => {
  await server?.close();
}, 30_000);

function post(body: unknown, init: { raw?: boolean; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${server.url}/api/v1/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth, ...init.headers },
    body: init.raw ? (body as string) : JSON.stringify(body),
  });
}

async function expectError(res: Response, status: number, code: string): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  const body = (await res.json()) as { error: { code: string; message: string; details?: Record<string, unknown> } };
  expect({ status: res.status, code: body.error.code }).toEqual({ status, code });
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

describe("HTTP API", () => {
  it("binds to loopback by default", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("GET /healthz answers ok", async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  let first: Record<string, unknown>;

  it("POST /api/v1/tasks creates a task: 201", async () => {
    const res = await post({
      topic: "email.send",
      payload: { to: "a@example.com", n: [1, 2] },
      priority: 5,
      key: "order-42",
      tags: ["eu"],
      retry: { maxAttempts: 7, backoff: "linear" },
      timeouts: { startToCloseMs: 60_000 },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    first = (await res.json()) as Record<string, unknown>;
    created.add(first.id as string);
    expect(first).toMatchObject({
      topic: "email.send",
      state: "ready",
      payload: { to: "a@example.com", n: [1, 2] },
      priority: 5,
      key: "order-42",
      tags: ["eu"],
      maxAttempts: 7,
      attempt: 0,
      created: true,
    });
    expect(first.id).toMatch(/^\d+$/);
    expect(res.headers.get("location")).toBe(`/api/v1/tasks/${first.id}`);
    // Dates travel as ISO 8601 strings.
    expect(first.createdAt).toBe(new Date(first.createdAt as string).toISOString());
    expect(first.runAt).toBe(new Date(first.runAt as string).toISOString());
  });

  it("POST with a key that exists answers 200 with the same task and created: false", async () => {
    const res = await post({ topic: "email.send", payload: { other: true }, key: "order-42" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id: first.id, created: false, payload: first.payload });
  });

  it("POST accepts runAt with an offset and a minimal body", async () => {
    const res = await post({ topic: "report.build", runAt: "2031-05-01T10:00:00+02:00" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    created.add(body.id as string);
    expect(body).toMatchObject({ runAt: "2031-05-01T08:00:00.000Z", payload: null, state: "ready" });
  });

  it("POST accepts a streamed body without Content-Length", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ topic: "streamed", payload: { ok: true } }));
    const res = await fetch(`${server.url}/api/v1/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.subarray(0, 5));
          controller.enqueue(bytes.subarray(5));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    created.add(body.id as string);
    expect(body).toMatchObject({ topic: "streamed", payload: { ok: true } });
  });

  it("GET /api/v1/tasks/:id returns the task with its attempts and events", async () => {
    const res = await fetch(`${server.url}/api/v1/tasks/${first.id}`, { headers: auth });
    expect(res.status).toBe(200);
    const { created: _created, ...task } = first;
    expect(await res.json()).toEqual({ ...task, attempts: [], events: [] });
  });

  it("GET an unknown or malformed id answers 404 NOT_FOUND", async () => {
    for (const id of ["999999999", "abc", "0", "-1", "99999999999999999999999"]) {
      await expectError(await fetch(`${server.url}/api/v1/tasks/${id}`, { headers: auth }), 404, "NOT_FOUND");
    }
  });

  it("an unknown route answers 404 NOT_FOUND in the error envelope", async () => {
    await expectError(await fetch(`${server.url}/nope`), 404, "NOT_FOUND");
    await expectError(await fetch(`${server.url}/api/v1/tasks/1`, { method: "DELETE", headers: auth }), 404, "NOT_FOUND");
  });

  describe("bad input answers 4xx and writes nothing", () => {
    it("malformed JSON: 400 BAD_JSON", async () => {
      await expectError(await post('{"topic": "x",', { raw: true }), 400, "BAD_JSON");
      await expectError(await post("", { raw: true }), 400, "BAD_JSON");
    });

    it("a body that is JSON but not an object: 400 VALIDATION", async () => {
      for (const body of ["[]", "null", '"x"', "42"]) {
        await expectError(await post(body, { raw: true }), 400, "VALIDATION");
      }
    });

    it("an unknown field: 400 VALIDATION naming it", async () => {
      const error = await expectError(await post({ topic: "t", prio: 1 }), 400, "VALIDATION");
      expect(error.message).toContain("prio");
      expect(error.details?.issues).toBeInstanceOf(Array);
      await expectError(await post({ topic: "t", retry: { attempts: 3 } }), 400, "VALIDATION");
      await expectError(await post({ topic: "t", tx: {} }), 400, "VALIDATION");
    });

    it("a field of the wrong type or out of range: 400 VALIDATION", async () => {
      const error = await expectError(await post({ topic: "t", priority: "high" }), 400, "VALIDATION");
      expect(error.message).toContain("priority");
      await expectError(await post({ topic: "t", priority: 1.5 }), 400, "VALIDATION");
      await expectError(await post({ topic: "t", priority: 2 ** 31 }), 400, "VALIDATION");
      await expectError(await post({ topic: "t", delayMs: -1 }), 400, "VALIDATION");
      await expectError(await post({ topic: "t", tags: "eu" }), 400, "VALIDATION");
      await expectError(await post({ topic: "t", retry: { backoff: "random" } }), 400, "VALIDATION");
      await expectError(await post({ topic: "t", timeouts: { heartbeatMs: 0 } }), 400, "VALIDATION");
    });

    it("a missing or empty topic: 400 VALIDATION", async () => {
      await expectError(await post({ topic: "" }), 400, "VALIDATION");
      await expectError(await post({ topic: "   " }), 400, "VALIDATION");
      await expectError(await post({ payload: {} }), 400, "VALIDATION");
      await expectError(await post({ topic: 42 }), 400, "VALIDATION");
    });

    it("a bad runAt: 400 VALIDATION", async () => {
      for (const runAt of ["tomorrow", "2030-01-01", "2030-01-01T10:00:00", "2030-02-30T00:00:00Z", "0000-06-01T00:00:00Z", 1_700_000_000_000]) {
        await expectError(await post({ topic: "t", runAt }), 400, "VALIDATION");
      }
      await expectError(await post({ topic: "t", runAt: "2030-01-01T00:00:00Z", delayMs: 10 }), 400, "VALIDATION");
    });

    it("text PostgreSQL cannot store: 400 VALIDATION, not a database error", async () => {
      await expectError(await post({ topic: "t", payload: { a: "x\u0000y" } }), 400, "VALIDATION");
      await expectError(await post({ topic: "t", payload: { ["k\u0000"]: 1 } }), 400, "VALIDATION");
      await expectError(await post({ topic: "t", key: "k\u0000" }), 400, "VALIDATION");
      await expectError(await post({ topic: "t\u0000" }), 400, "VALIDATION");
      await expectError(await post({ topic: "t", tags: ["ok", "a\u0000"] }), 400, "VALIDATION");
      // Unpaired surrogates can only arrive as escapes: fetch would replace raw ones.
      await expectError(await post('{"topic": "t", "payload": ["\\ud800"]}', { raw: true }), 400, "VALIDATION");
      await expectError(await post('{"topic": "t", "key": "\\udc00x"}', { raw: true }), 400, "VALIDATION");
    });

    it("a number JavaScript cannot hold: 400 VALIDATION, not silently null", async () => {
      const error = await expectError(await post('{"topic": "t", "payload": {"n": [1e400]}}', { raw: true }), 400, "VALIDATION");
      expect(error.details?.issues).toEqual([{ path: "payload.n.0", message: expect.stringContaining("double") }]);
    });

    it("a payload nested too deep: 400 VALIDATION", async () => {
      const deep = "[".repeat(101) + "]".repeat(101);
      const error = await expectError(await post(`{"topic": "t", "payload": ${deep}}`, { raw: true }), 400, "VALIDATION");
      expect(error.message).toContain("deeper");
      const veryDeep = "[".repeat(200_000) + "]".repeat(200_000);
      await expectError(await post(`{"topic": "t", "payload": ${veryDeep}}`, { raw: true }), 400, "VALIDATION");
    });

    it("a key of another topic: 409 CONFLICT", async () => {
      const error = await expectError(await post({ topic: "other.topic", key: "order-42" }), 409, "CONFLICT");
      expect(error.details).toMatchObject({ key: "order-42", taskId: first.id });
    });

    it("a body over the limit: 413 PAYLOAD_TOO_LARGE", async () => {
      const big = { topic: "t", payload: "x".repeat(1024 * 1024 + 1) };
      await expectError(await post(big), 413, "PAYLOAD_TOO_LARGE");
      // Without a Content-Length the limit is enforced on the bytes as they arrive.
      const bytes = new TextEncoder().encode(JSON.stringify(big));
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
          controller.close();
        },
      });
      const res = await fetch(`${server.url}/api/v1/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: stream,
        duplex: "half",
      } as RequestInit);
      await expectError(res, 413, "PAYLOAD_TOO_LARGE");
    });

    it("a body that is not JSON: 415 UNSUPPORTED_MEDIA_TYPE", async () => {
      const body = JSON.stringify({ topic: "t" });
      await expectError(await post(body, { raw: true, headers: { "content-type": "text/plain" } }), 415, "UNSUPPORTED_MEDIA_TYPE");
      await expectError(
        await post(body, { raw: true, headers: { "content-type": "application/json; charset=latin1" } }),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      );
      await expectError(
        await fetch(`${server.url}/api/v1/tasks`, { method: "POST", body: new Blob([body]), headers: auth }),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      );
    });

    it("no bad request wrote a task or was a server fault", async () => {
      const { tasks } = await server.tl.listTasks({ limit: 1000 });
      expect(new Set(tasks.map((t) => t.id))).toEqual(created);
      expect(logged).toEqual([]);
    });
  });

  it("accepts application/json with a UTF-8 charset", async () => {
    const res = await post(JSON.stringify({ topic: "café.ünïcode", payload: "😀" }), {
      raw: true,
      headers: { "content-type": "application/json; charset=UTF-8" },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ topic: "café.ünïcode", payload: "😀" });
  });
});

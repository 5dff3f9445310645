/**
 * createApp on its own (no server, no database): how errors map to responses, and its options.
 */
import { describe, expect, it } from "vitest";
import { ClosedError } from "../../src/errors.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { createApp } from "../../src/server/app.js";
import { Tasklane } from "../../src/tasklane.js";
import { expectError } from "./support.js";

describe("createApp error mapping", () => {
  /** Accepts the one secret these tests send, as an admin. */
  const authenticate = async (token: string) => (token === "test-secret" ? { id: "1", name: "test", scopes: ["admin" as const] } : null);
  const headers = { authorization: "Bearer test-secret" };
  /** Just enough of an instance to build the app (its metrics subscribe to events). */
  const fake = (methods: Record<string, unknown> = {}) => ({ on() {}, engine: { logger: silentLogger }, ...methods }) as unknown as Tasklane;

  /** An instance whose reads fail as given, to reach error paths a healthy database never takes. */
  function failingApp(error: Error): { app: ReturnType<typeof createApp>; logged: unknown[] } {
    const logged: unknown[] = [];
    const logger: Logger = { ...silentLogger, error: (obj: unknown) => void logged.push(obj) };
    const tl = fake({ getTask: () => Promise.reject(error) });
    return { app: createApp(tl, { logger, authenticate }), logged };
  }

  it("an unexpected error answers 500 INTERNAL without its message, and is logged", async () => {
    const { app, logged } = failingApp(new Error("connection to 10.0.0.5 refused: password=hunter2"));
    const res = await app.request("/api/v1/tasks/1", { headers });
    const error = await expectError(res, 500, "INTERNAL");
    expect(error.message).not.toContain("hunter2");
    expect(error.details).toBeUndefined();
    expect(logged).toHaveLength(1);
  });

  it("a closed instance answers 503 CLOSED", async () => {
    const { app, logged } = failingApp(new ClosedError());
    await expectError(await app.request("/api/v1/tasks/1", { headers }), 503, "CLOSED");
    expect(logged).toHaveLength(0);
  });

  it("a full queue answers 429 BACKPRESSURE with Retry-After, at once, and writes nothing", async () => {
    const tl = await Tasklane.open({ database: "memory://", logger: silentLogger, maintenance: false, backpressure: { maxUnfinished: 1, waitMs: 60_000 } });
    try {
      await tl.enqueue("t", null);
      const t0 = Date.now();
      const res = await createApp(tl, { logger: silentLogger, authenticate }).request("/api/v1/tasks", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ topic: "t" }),
      });
      expect(Date.now() - t0).toBeLessThan(5_000); // not the instance's 60 s wait
      expect(res.headers.get("retry-after")).toBe("1");
      await expectError(res, 429, "BACKPRESSURE");
      expect((await tl.listTasks()).tasks).toHaveLength(1);
    } finally {
      await tl.close();
    }
  });

  it("rejects a bad body limit", () => {
    expect(() => createApp({} as Tasklane, { bodyLimitBytes: 0, logger: silentLogger })).toThrow(/bodyLimitBytes/);
  });

  it("honours a custom body limit", async () => {
    const small = createApp(fake(), { bodyLimitBytes: 16, logger: silentLogger, authenticate });
    const res = await small.request("/api/v1/tasks", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "40", ...headers },
      body: JSON.stringify({ topic: "a-topic-that-is-long-enough" }),
    });
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });
});

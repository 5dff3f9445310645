/**
 * Authentication and scopes: every route of /openapi.json refuses a missing token, each scope
 * opens exactly its routes, operator actions record the token's name, and tokens are stored hashed.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { adHoc } from "../../src/db/queries.js";
import { describeServers, expectError, expectJson, startServer, type TestServer } from "./support.js";

describeServers("HTTP auth", (kind) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(kind);
  });
  afterAll(async () => {
    await t?.server.close();
  });

  it("every route of /openapi.json but the open ones answers 401 without a token", async () => {
    const doc = await expectJson<{ paths: Record<string, Record<string, { security: unknown[] }>> }>(await fetch(`${t.url}/openapi.json`), 200);
    const open: string[] = [];
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const url = t.url + path.replace(/\{\w+\}/g, "1");
        if (op.security.length === 0) {
          open.push(`${method.toUpperCase()} ${path}`);
          continue;
        }
        const res = await fetch(url, { method: method.toUpperCase(), ...(method !== "get" && { headers: { "content-type": "application/json" }, body: "{}" }) });
        expect({ route: `${method} ${path}`, status: res.status }).toEqual({ route: `${method} ${path}`, status: 401 });
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
        checked++;
      }
    }
    expect(open.sort()).toEqual(["GET /healthz", "GET /openapi.json", "GET /readyz"]);
    expect(checked).toBeGreaterThan(40);
  });

  it("the open routes answer without a token", async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect(await expectJson(await fetch(`${t.url}/readyz`), 200)).toEqual({ status: "ready" });
    expect((await fetch(`${t.url}/openapi.json`)).status).toBe(200);
  });

  it("a malformed, unknown or revoked token answers 401 with error=invalid_token", async () => {
    const { id, token } = await t.server.tl.createToken({ name: "soon-revoked", scopes: ["read"] });
    expect((await t.call("GET", "/api/v1/tasks", { token })).status).toBe(200);
    await expectJson(await t.call("DELETE", `/api/v1/tokens/${id}`), 200);
    const unknown = `tl_${"A".repeat(43)}`;
    for (const header of [`Bearer ${token}`, `Bearer ${unknown}`, "Bearer", "Bearer a b", "Basic YTpi", `Bearer ${"x".repeat(5000)}`, `bearer  ${unknown}`]) {
      const res = await fetch(`${t.url}/api/v1/tasks`, { headers: { authorization: header } });
      await expectError(res, 401, "UNAUTHORIZED");
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="tasklane", error="invalid_token"');
    }
    const none = await fetch(`${t.url}/api/v1/tasks`);
    await expectError(none, 401, "UNAUTHORIZED");
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="tasklane"');
  });

  it("unknown paths under /api need a token too, so the route table is not revealed", async () => {
    await expectError(await t.call("GET", "/api/v1/nothing-here", { token: null }), 401, "UNAUTHORIZED");
    await expectError(await t.call("GET", "/api/v1/nothing-here"), 404, "NOT_FOUND");
  });

  it("each scope opens its routes and gets 403 FORBIDDEN naming the scope elsewhere", async () => {
    const task = await t.server.tl.enqueue("scoped", null);
    const cases: [method: string, path: string, scope: "read" | "start" | "admin" | "work", body?: unknown][] = [
      ["GET", "/api/v1/tasks", "read"],
      ["GET", `/api/v1/tasks/${task.id}`, "read"],
      ["GET", "/api/v1/stats", "read"],
      ["GET", "/metrics", "read"],
      ["POST", "/api/v1/tasks", "start", { topic: "scoped" }],
      ["POST", "/api/v1/processes", "start", { name: "p", steps: [{ name: "a", topic: "scoped" }] }],
      ["POST", `/api/v1/tasks/${task.id}/suspend`, "admin"],
      ["GET", "/api/v1/tokens", "admin"],
      ["POST", "/api/external_task/v1/fetch_and_lock", "work", { workerId: "w", topicName: "none", maxTasks: 1, longPollingTimeout: 0, lockDuration: 1000 }],
      ["POST", "/engine-rest/external-task/fetchAndLock", "work", { workerId: "w", maxTasks: 1, topics: [{ topicName: "none", lockDuration: 1000 }] }],
    ];
    for (const [method, path, needed, body] of cases) {
      for (const scope of ["work", "start", "read", "admin"] as const) {
        const res = await t.call(method, path, { token: t.tokens[scope], body });
        const allowed = scope === needed || scope === "admin";
        if (allowed) {
          expect({ method, path, scope, status: res.status < 400 || res.status === 404 }).toEqual({ method, path, scope, status: true });
          await res.body?.cancel();
        } else {
          const error = await expectError(res, 403, "FORBIDDEN");
          expect(error.details).toEqual({ scope: needed, granted: [scope] });
          expect(error.message).toContain(`"${needed}"`);
          expect(res.headers.get("www-authenticate")).toContain(`scope="${needed}"`);
        }
      }
    }
  });

  it("operator actions record the token's name as the actor", async () => {
    const { token } = await t.server.tl.createToken({ name: "ops-alice", scopes: ["admin"] });
    const task = await t.server.tl.enqueue("audited", null);
    await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/suspend`, { token }), 200);
    await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/resume`, { token }), 200);
    await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/cancel`, { token }), 200);
    await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/retry`, { token }), 200);
    await expectJson(await t.call("POST", `/api/v1/tasks/${task.id}/complete`, { token, body: { result: 1 } }), 200);
    const { events } = await t.server.tl.getTaskHistory(task.id);
    expect(events.map((e) => [e.kind, e.actor])).toEqual([
      ["SUSPENDED", "ops-alice"], ["RESUMED", "ops-alice"], ["CANCELLED", "ops-alice"], ["RETRIED", "ops-alice"], ["MARKED_COMPLETED", "ops-alice"],
    ]);
    await expectJson(await t.call("POST", "/api/v1/schedules", { token, body: { name: "audited", cron: "0 3 * * *", topic: "x" } }), 201);
    await expectJson(await t.call("POST", "/api/v1/schedules/audited/pause", { token }), 200);
    const schedule = await t.server.tl.getSchedule("audited");
    expect(schedule?.events.map((e) => [e.kind, e.actor])).toEqual(expect.arrayContaining([["CREATED", "ops-alice"], ["PAUSED", "ops-alice"]]));
    const created = await expectJson<{ id: string }>(await t.call("POST", "/api/v1/tokens", { token, body: { name: "by-alice", scopes: ["read"] } }), 201);
    await expectJson(await t.call("DELETE", `/api/v1/tokens/${created.id}`, { token }), 200);
    const listed = (await t.server.tl.listTokens()).find((x) => x.id === created.id);
    expect(listed).toMatchObject({ createdBy: "ops-alice", revokedBy: "ops-alice" });
  });

  it("token routes: create shows the secret once, list never does, revoke takes effect at once", async () => {
    const created = await expectJson<{ id: string; token: string; name: string; scopes: string[] }>(
      await t.call("POST", "/api/v1/tokens", { body: { name: "worker-1", scopes: ["work", "read", "read"] } }),
      201,
    );
    expect(created).toMatchObject({ name: "worker-1", scopes: ["work", "read"] });
    expect(created.token).toMatch(/^tl_[A-Za-z0-9_-]{43}$/);
    expect((await t.call("GET", "/api/v1/stats", { token: created.token })).status).toBe(200);
    const listText = await (await t.call("GET", "/api/v1/tokens")).text();
    expect(listText).toContain("worker-1");
    expect(listText).not.toContain(created.token);
    await expectError(await t.call("POST", "/api/v1/tokens", { body: { name: "worker-1", scopes: ["work"] } }), 409, "CONFLICT");
    await expectError(await t.call("POST", "/api/v1/tokens", { body: { name: "x", scopes: ["root"] } }), 400, "VALIDATION");
    await expectError(await t.call("POST", "/api/v1/tokens", { body: { name: "x", scopes: [] } }), 400, "VALIDATION");
    await expectError(await t.call("POST", "/api/v1/tokens", { body: { name: "", scopes: ["read"] } }), 400, "VALIDATION");
    const revoked = await expectJson<{ revokedAt: string | null }>(await t.call("DELETE", `/api/v1/tokens/${created.id}`), 200);
    expect(revoked.revokedAt).not.toBeNull();
    await expectError(await t.call("GET", "/api/v1/stats", { token: created.token }), 401, "UNAUTHORIZED");
    // A revoked token frees its name.
    await expectJson(await t.call("POST", "/api/v1/tokens", { body: { name: "worker-1", scopes: ["work"] } }), 201);
    for (const id of ["999999", "abc", "-1", "99999999999999999999"]) await expectError(await t.call("DELETE", `/api/v1/tokens/${id}`), 404, "NOT_FOUND");
  });

  it("stores only the SHA-256 of a secret, and refreshes last use at most once a minute", async () => {
    const { id, token } = await t.server.tl.createToken({ name: "hashed", scopes: ["read"] });
    const { driver } = t.server.tl.engine;
    const [row] = await driver.query<Record<string, unknown>>(adHoc(`SELECT * FROM ${t.server.tl.schema}.token WHERE id = $1`), [id]);
    expect(row!.hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(token.slice(3));
    expect(await t.server.tl.authenticateToken(token)).toEqual({ id, name: "hashed", scopes: ["read"] });
    const first = (await t.server.tl.listTokens()).find((x) => x.id === id)!.lastUsedAt;
    expect(first).toBeInstanceOf(Date);
    await t.server.tl.authenticateToken(token);
    expect((await t.server.tl.listTokens()).find((x) => x.id === id)!.lastUsedAt).toEqual(first);
    expect(await t.server.tl.authenticateToken("tl_short")).toBeNull();
    await expect(t.server.tl.createToken({ name: "bad", scopes: ["root" as never] })).rejects.toMatchObject({ code: "VALIDATION" });
  });

  it("no bad request was a server fault", () => {
    expect(t.logged).toEqual([]);
  });
});

import { afterEach, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.js";
import { serve, type RunningServer } from "../../src/server/serve.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

it("whoami, the audit log of operator actions, and tasks by creation time", async () => {
  const server = await serve({ database: "memory://", port: 0, logger: silentLogger });
  servers.push(server);
  const { token } = await server.tl.createToken({ name: "alice", scopes: ["admin"] });
  const { token: reader } = await server.tl.createToken({ name: "bob", scopes: ["read"] });
  const get = (path: string, t = token) => fetch(server.url + path, { headers: { authorization: `Bearer ${t}` } }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const post = (path: string, body: unknown = {}) =>
    fetch(server.url + path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });

  expect(await get("/api/v1/whoami", reader)).toMatchObject({ status: 200, body: { name: "bob", scopes: ["read"] } });

  const before = new Date();
  const a = await server.tl.enqueue("audit.t", null);
  const b = await server.tl.enqueue("audit.t", null);
  expect((await post(`/api/v1/tasks/${a.id}/cancel`)).status).toBe(200);
  expect((await post(`/api/v1/tasks/${b.id}/suspend`)).status).toBe(200);

  const log = await get("/api/v1/events?operatorOnly=true");
  expect(log.status).toBe(200);
  type Entry = { kind: string; actor: string; taskId: string | null; topic: string | null; schedule: string | null };
  const row = (e: Entry) => [e.kind, e.actor, e.taskId ?? e.schedule, e.topic];
  expect(log.body.events.map(row)).toEqual([
    ["SUSPENDED", "alice", b.id, "audit.t"],
    ["CANCELLED", "alice", a.id, "audit.t"],
  ]);
  const page = await get("/api/v1/events?limit=1");
  expect(page.body.events).toHaveLength(1);
  expect((await get(`/api/v1/events?limit=1&cursor=${page.body.nextCursor}`)).body.events[0].kind).toBe("CANCELLED");
  expect((await get("/api/v1/events?limit=0")).status).toBe(400);

  const after = encodeURIComponent(new Date(before.getTime() - 1).toISOString());
  expect((await get(`/api/v1/tasks?createdAfter=${after}`)).body.tasks).toHaveLength(2);
  const future = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
  expect((await get(`/api/v1/tasks?createdAfter=${future}`)).body.tasks).toHaveLength(0);
  expect((await get(`/api/v1/tasks?createdBefore=${after}`)).body.tasks).toHaveLength(0);
  expect((await get("/api/v1/tasks?createdAfter=yesterday")).status).toBe(400);

  // Schedules' operator actions are in the same log, merged by time, and page with the rest.
  expect((await post("/api/v1/schedules", { name: "audit-sched", cron: "0 3 * * *", topic: "audit.t" })).status).toBe(201);
  expect((await post("/api/v1/schedules/audit-sched/pause")).status).toBe(200);
  const c = await server.tl.enqueue("audit.t", null);
  expect((await post(`/api/v1/tasks/${c.id}/cancel`)).status).toBe(200);
  const expected = [
    ["CANCELLED", "alice", c.id, "audit.t"],
    ["PAUSED", "alice", "audit-sched", null],
    ["CREATED", "alice", "audit-sched", null],
    ["SUSPENDED", "alice", b.id, "audit.t"],
    ["CANCELLED", "alice", a.id, "audit.t"],
  ];
  expect((await get("/api/v1/events?operatorOnly=true")).body.events.map(row)).toEqual(expected);
  for (const size of [1, 2, 3]) {
    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const next = await get(`/api/v1/events?operatorOnly=true&limit=${size}${cursor ? `&cursor=${cursor}` : ""}`);
      expect(next.status).toBe(200);
      seen.push(...next.body.events.map(row));
      cursor = next.body.nextCursor;
    } while (cursor);
    expect(seen, `pages of ${size}`).toEqual(expected);
  }
  for (const bad of ["1.2.3", "x", "0.1", "1."]) expect((await get(`/api/v1/events?cursor=${Buffer.from(bad).toString("base64url")}`)).status).toBe(400);

});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../src/index.js";
import { silentLogger } from "../../src/logger.js";
import { serve, type RunningServer } from "../../src/server/serve.js";
import { until } from "../support/backends.js";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

it("a push endpoint defined over the HTTP API delivers its topic's tasks, signed; deleting it stops delivery", async () => {
  const bodies: { body: string; signature: string }[] = [];
  const receiver: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      bodies.push({ body, signature: String(req.headers["tasklane-signature"]) });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: bodies.length }));
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => receiver.close(r)));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in`;

  const server: RunningServer = await serve({ database: "memory://", port: 0, logger: silentLogger });
  closers.push(() => server.close());
  const { token } = await server.tl.createToken({ name: "ops", scopes: ["admin"] });
  const call = (method: string, path: string, body?: unknown) =>
    fetch(server.url + path, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, ...(body !== undefined && { body: JSON.stringify(body) }) });

  const secret = "a-secret-of-sixteen-chars";
  const created = await call("POST", "/api/v1/push-endpoints", { topic: "hook.in", url: hook, secret, headers: { "x-tenant": "7" } });
  expect(created.status).toBe(201);
  expect(await created.json()).toMatchObject({ topic: "hook.in", url: hook, method: "POST", signed: true });
  expect((await call("POST", "/api/v1/push-endpoints", { topic: "hook.in", url: "ftp://nope" })).status).toBe(400);
  expect((await call("GET", "/api/v1/push-endpoints").then((r) => r.json())).endpoints).toHaveLength(1);

  const enq = await call("POST", "/api/v1/tasks", { topic: "hook.in", payload: { n: 1 } });
  const task = await enq.json();
  await until("delivery", async () => (await server.tl.getTask(task.id))?.state === "completed", 20_000);
  expect((await server.tl.getTask(task.id))!.result).toEqual({ ok: 1 });
  expect(JSON.parse(bodies[0]!.body)).toMatchObject({ id: task.id, topic: "hook.in", payload: { n: 1 } });
  expect(verifyWebhookSignature(secret, bodies[0]!.body, bodies[0]!.signature)).toBe(true);

  expect((await call("DELETE", "/api/v1/push-endpoints/hook.in")).status).toBe(200);
  expect((await call("DELETE", "/api/v1/push-endpoints/hook.in")).status).toBe(404);
  const after = await (await call("POST", "/api/v1/tasks", { topic: "hook.in", payload: { n: 2 } })).json();
  await new Promise((r) => setTimeout(r, 1_500)); // long enough for a poll or a wake-up to have delivered it
  expect((await server.tl.getTask(after.id))!.state).toBe("ready");
  expect(bodies).toHaveLength(1);
}, 60_000);

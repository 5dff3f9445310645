import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { sequence, verifyWebhookSignature, webhook } from "../../src/index.js";
import { describeBackends, until } from "../support/backends.js";

/** A real HTTP receiver on loopback whose answers the test scripts. */
async function receiver(answer: (req: IncomingMessage, body: string, n: number) => { status: number; headers?: Record<string, string>; body?: string }) {
  const seen: { headers: IncomingMessage["headers"]; body: string }[] = [];
  const server: Server = createServer((req, res: ServerResponse) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ headers: req.headers, body });
      const a = answer(req, body, seen.length);
      res.writeHead(a.status, { "content-type": "application/json", ...a.headers });
      res.end(a.body ?? "");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, seen };
}
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describeBackends("push tasks (webhooks)", (backend) => {
  it("delivers a signed task; a 2xx JSON body becomes the result", async () => {
    const tl = await backend.open();
    const hook = await receiver(() => ({ status: 200, body: JSON.stringify({ invoice: "INV-1" }) }));
    tl.define("invoice.send", webhook({ url: hook.url, secret: "s3cret", headers: { "x-api-key": "k" } }));
    const task = await tl.enqueue("invoice.send", { amount: 12 });
    await tl.worker({ pollIntervalMs: 50 }).start();
    await until("completion", async () => (await tl.getTask(task.id))?.state === "completed");
    expect((await tl.getTask(task.id))!.result).toEqual({ invoice: "INV-1" });
    const [req] = hook.seen;
    expect(JSON.parse(req!.body)).toMatchObject({ id: task.id, topic: "invoice.send", payload: { amount: 12 }, attempt: 1, processId: null });
    expect(req!.headers["x-api-key"]).toBe("k");
    expect(req!.headers["idempotency-key"]).toBe(task.id);
    expect(verifyWebhookSignature("s3cret", req!.body, req!.headers["tasklane-signature"] as string)).toBe(true);
    expect(verifyWebhookSignature("wrong", req!.body, req!.headers["tasklane-signature"] as string)).toBe(false);
    expect(verifyWebhookSignature("s3cret", req!.body + " ", req!.headers["tasklane-signature"] as string)).toBe(false);
  });

  it("retries on 503 honouring Retry-After, then completes", async () => {
    const tl = await backend.open();
    const hook = await receiver((_r, _b, n) => (n === 1 ? { status: 503, headers: { "retry-after": "1" } } : { status: 204 }));
    tl.define("flaky.hook", webhook({ url: hook.url }), { retry: { maxAttempts: 3, initialDelayMs: 60_000, backoff: "constant" } });
    const task = await tl.enqueue("flaky.hook", null);
    await tl.worker({ pollIntervalMs: 50 }).start();
    const retried = await until("the retry", async () => {
      const t = await tl.getTask(task.id);
      return t?.attempt === 1 && t.state === "ready" ? t : undefined;
    });
    // Retry-After: 1 s replaced the 60 s backoff.
    expect(retried.runAt.getTime() - Date.now()).toBeLessThan(1_500);
    await until("completion", async () => (await tl.getTask(task.id))?.state === "completed");
    expect(await tl.getTask(task.id)).toMatchObject({ attempt: 2, result: null });
    expect(hook.seen).toHaveLength(2);
  });

  it("fails at once on 400", async () => {
    const tl = await backend.open();
    const hook = await receiver(() => ({ status: 400, body: '{"error":"bad amount"}' }));
    tl.define("bad.hook", webhook({ url: hook.url }), { retry: { maxAttempts: 5 } });
    const task = await tl.enqueue("bad.hook", null);
    await tl.worker({ pollIntervalMs: 50 }).start();
    await until("failure", async () => (await tl.getTask(task.id))?.state === "failed");
    expect(await tl.getTask(task.id)).toMatchObject({ attempt: 1, error: { code: "FATAL", message: expect.stringContaining("400") } });
    expect(hook.seen).toHaveLength(1);
  });

  it("a push step inside a process gets the process input and its parents' results", async () => {
    const tl = await backend.open();
    const hook = await receiver((_r, body) => ({ status: 200, body: JSON.stringify({ echoed: JSON.parse(body).parents }) }));
    tl.define("local", async () => ({ total: 42 }));
    tl.define("notify.hook", webhook({ url: hook.url }));
    const { process } = await tl.startProcess({ name: "p", input: { order: 1 }, steps: sequence({ name: "sum", topic: "local" }, { name: "push", topic: "notify.hook" }) });
    await tl.worker({ pollIntervalMs: 50 }).start();
    await until("process", async () => (await tl.getProcess(process.id))?.state === "completed");
    expect(JSON.parse(hook.seen[0]!.body)).toMatchObject({ processId: process.id, step: "push", input: { order: 1 }, parents: { sum: { total: 42 } } });
    expect((await tl.getProcess(process.id))!.output).toEqual({ push: { echoed: { sum: { total: 42 } } } });
  });

  it("rejects a webhook with a bad URL", () => {
    expect(() => webhook({ url: "not a url" })).toThrow(/not a URL/);
    expect(() => webhook({ url: "ftp://x" })).toThrow(/http or https/);
  });
});

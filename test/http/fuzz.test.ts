/**
 * Fuzz: every route of /openapi.json gets malformed bodies (not JSON, wrong types, huge numbers,
 * NUL characters, arrays, deep nesting, unknown fields), bad ids and malformed query strings,
 * and every path gets the methods it does not have. Nothing may answer 5xx, and afterwards every
 * task, process, schedule and token is exactly as before. The generator is seeded: a failure
 * names the request, and the same seed replays it.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeServers, startServer, type TestServer } from "./support.js";

const seed = 0x7a5c1e;

/** mulberry32: a small, good-enough seeded generator. */
function random(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type Schema = { type?: string | string[]; properties?: Record<string, Schema> };
type Op = { requestBody?: { content: Record<string, { schema: Schema }> }; security: unknown[] };

/** A value of another type than `schema` wants. */
function wrongValue(schema: Schema, rnd: () => number): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  const options: unknown[] = { string: [12345, [], { a: 1 }, true], integer: ["12", 1.5, 1e400, -1e308, [1]], number: ["x", {}, null], boolean: ["true", 0], array: [{}, "a,b"], object: [[], "{}", 7] }[type ?? ""] ?? [
    "\u0000",
    [null],
    -1,
  ];
  return options[Math.floor(rnd() * options.length)];
}

/** Malformed bodies, as raw text: none of them is a valid request to any route. */
function malformedBodies(schema: Schema | undefined, rnd: () => number): string[] {
  const props = Object.entries(schema?.properties ?? {});
  const wrongTypes = Object.fromEntries(props.map(([k, s]) => [k, wrongValue(s, rnd)]));
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const key = props.length ? pick(props)[0] : "topic";
  const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
  return [
    pick(['{"topic": "x",', "undefined", "<xml/>", "{'a': 1}", '{"a" 1}', "\u0000", "{}}"]),
    JSON.stringify({ ...wrongTypes, [`unknown_${Math.floor(rnd() * 1e6)}`]: 1 }),
    `{"${key}": ${pick(["1e400", "-1e400", "123456789012345678901234567890", "9".repeat(400)])}, "zz": 0}`,
    JSON.stringify({ [key]: "a\u0000b", ["k\u0000"]: pick(["\u0000", "x"]) }),
    pick(["[]", '[{"topic": "x"}]', JSON.stringify([wrongTypes])]),
    `{"${key}": ${deep(pick([150, 5_000, 50_000]))}}`,
    `{"name": {"kind": "sequence", "items": [${'{"kind": "sequence", "items": ['.repeat(3000)}${"]}".repeat(3000)}]}}`,
    pick(["null", "42", '"text"', "true"]),
    `{"${key}": "\\ud800", "zz": 1}`,
  ];
}

const badIds = ["-1", "abc", "0", "99999999999999999999", "%00", "%ZZ", "a%2Fb", "x".repeat(300), "1.5", "%F0%9F%98%80"];
const badQueries = ["limit=-1", "limit=99999", "cursor=%00", "cursor=AAAA", "state=nope", "zzz=1", "limit=1&limit=2", "topic=%00", "nextRuns=abc", "search=" + "x".repeat(500)];
const methods = ["get", "post", "put", "patch", "delete"];

describeServers("HTTP fuzz", (kind) => {
  let t: TestServer;
  let ids: Record<string, string>;
  beforeAll(async () => {
    t = await startServer(kind);
    const tl = t.server.tl;
    const task = await tl.enqueue("fuzz.topic", { a: 1 }, { runAt: new Date("2099-01-01T00:00:00Z") });
    const failed = await tl.enqueue("fuzz.topic", null);
    await tl.complete(failed.id, "done");
    await tl.startProcess({ key: "fuzz-process", name: "fuzz", steps: [{ name: "a", topic: "fuzz.step" }] });
    await tl.createSchedule("fuzz-schedule", { cron: "0 3 * * *", topic: "fuzz.cron" });
    const { id: tokenId } = await tl.createToken({ name: "fuzz-victim", scopes: ["read"] });
    ids = { id: task.id, idOrKey: "fuzz-process", name: "fuzz-schedule", tokenId };
  });
  afterAll(async () => {
    await t?.server.close();
  });

  /** Everything a request could change. */
  async function snapshot(): Promise<string> {
    const tl = t.server.tl;
    const tasks = (await tl.listTasks({ limit: 1000 })).tasks.map((x) => [x.id, x.state, x.attempt, x.maxAttempts, x.result, x.runAt]);
    const processes = (await tl.listProcesses({ limit: 1000 })).processes.map((p) => [p.id, p.state]);
    const schedules = (await tl.listSchedules()).map((s) => [s.name, s.cron, s.enabled, s.updatedAt]);
    const tokens = (await tl.listTokens()).map((x) => [x.id, x.name, x.scopes, x.revokedAt]);
    const events = await Promise.all((await tl.listTasks({ limit: 1000 })).tasks.map(async (x) => (await tl.getTaskHistory(x.id)).events.length));
    return JSON.stringify({ tasks, processes, schedules, tokens, events });
  }

  it("no malformed request answers 5xx or changes anything", async () => {
    const before = await snapshot();
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, Op>> };
    const rnd = random(seed);
    const failures: string[] = [];
    let sent = 0;
    const send = async (method: string, path: string, body?: string | Blob, contentType = "application/json") => {
      const headers: Record<string, string> = { authorization: `Bearer ${t.tokens.admin}` };
      if (body !== undefined) headers["content-type"] = contentType;
      const res = await fetch(t.url + path, { method: method.toUpperCase(), headers, body: method === "get" ? undefined : body });
      await res.arrayBuffer();
      sent++;
      // Tasklane's own API refuses every one of these; the dialects and /metrics may ignore what
      // their protocols do not know (an unknown query parameter), but never fail.
      const refused = res.status >= 400 && res.status < 500;
      if (res.status >= 500 || (path.startsWith("/api/v1/") && !refused)) failures.push(`${res.status} ${method.toUpperCase()} ${path} ${String(body ?? "").slice(0, 120)}`);
    };
    const real = (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => (path.startsWith("/api/v1/tokens") ? ids.tokenId! : ids[name]!));
    const bad = (path: string) => path.replace(/\{\w+\}/g, () => badIds[Math.floor(rnd() * badIds.length)]!);

    for (const [path, ops] of Object.entries(doc.paths)) {
      const templated = path.includes("{");
      const ours = path.startsWith("/api/v1/");
      for (const [method, op] of Object.entries(ops)) {
        if (op.security.length === 0) continue;
        if (templated) for (const id of badIds) await send(method, path.replace(/\{\w+\}/g, id), method === "get" ? undefined : "{}");
        if (method === "get") {
          // Real ids are safe to read with: only the query string is malformed.
          for (const q of badQueries) await send(method, `${real(path)}?${q}`);
          continue;
        }
        // Malformed bodies go to real ids on our own routes that take a body (nothing may
        // change), and to bad ids elsewhere: a route without a body (DELETE) ignores the body,
        // and the dialects' protocols ignore what they do not know.
        const target = ours && op.requestBody ? real(path) : bad(path);
        const schema = op.requestBody?.content["application/json"]?.schema;
        for (const body of malformedBodies(schema, rnd)) await send(method, target, body);
        await send(method, target, JSON.stringify({ topic: "x" }), "text/plain");
        await send(method, target, new Blob([new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])]));
        if (ours) await send(method, target, JSON.stringify({ payload: "x".repeat(1024 * 1024) }));
      }
      for (const method of methods.filter((m) => !(m in ops))) await send(method, bad(path), method === "get" ? undefined : "{}");
    }
    expect(failures, `seed ${seed}`).toEqual([]);
    expect(sent).toBeGreaterThan(500);
    expect(await snapshot()).toBe(before);
    expect(t.logged).toEqual([]);
  }, 300_000);
});

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { run } from "../../src/cli/run.js";
import { shutdownOnSignals } from "../../src/cli/signals.js";
import { fakeIO } from "./cli-io.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** The environment of a child CLI, without settings the test runner's own environment may carry. */
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !["DATABASE_URL", "PORT", "HOST", "TASKLANE_SCHEMA"].includes(k)),
);

/** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null) => reject(new Error(`exited with ${code} before printing ${pattern}:\n${stderr}`));
    child.once("exit", onExit);
    lines.on("line", (line) => {
      const m = line.match(pattern);
      if (!m) return;
      child.off("exit", onExit);
      lines.close();
      resolve(m);
    });
  });
}

describe("tasklane CLI (child process)", () => {
  it("migrate --print writes the SQL for the schema", async () => {
    const { stdout } = await promisify(execFile)("npx", ["tsx", "src/cli/main.ts", "migrate", "--print", "--schema", "abc"], {
      cwd: root,
      env: childEnv,
    });
    expect(stdout).toContain("CREATE SCHEMA IF NOT EXISTS abc;");
    expect(stdout).toContain("CREATE TABLE abc.task");
    expect(stdout).not.toContain("{schema}");
  }, 30_000);

  it("serve listens, answers, and exits 0 on SIGTERM", async () => {
    // `node --import tsx` rather than `npx tsx`: npm exec does not pass SIGTERM on to the command,
    // so the signal would end npm and orphan the server instead of testing its shutdown.
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--database", "memory://", "--port", "0"], {
      cwd: root,
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const { input: line, 1: url } = await waitForLine(child, /listening on (http:\/\/\S+)/);
      expect(line).toMatch(/^Tasklane listening on http:\/\/127\.0\.0\.1:\d+ \(database: memory:\/\/\)$/);
      const res = await fetch(`${url}/healthz`);
      expect(await res.json()).toEqual({ status: "ok" });
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      expect(await exited).toEqual([0, null]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 30_000);
});

describe("tasklane CLI (in process)", () => {
  it("--help prints usage and exits 0; no command exits 2", async () => {
    const help = fakeIO();
    expect(await run(["--help"], help.io)).toBe(0);
    expect(help.stdout).toContain("Usage: tasklane <command>");
    const none = fakeIO();
    expect(await run([], none.io)).toBe(2);
    expect(none.stderr).toContain("Usage: tasklane <command>");
    const serveHelp = fakeIO();
    expect(await run(["serve", "--help"], serveHelp.io)).toBe(0);
    expect(serveHelp.stdout).toContain("--port N");
  });

  it("an unknown command prints usage and exits 2", async () => {
    const cli = fakeIO();
    expect(await run(["bogus"], cli.io)).toBe(2);
    expect(cli.stderr).toContain('unknown command "bogus"');
    expect(cli.stderr).toContain("Usage: tasklane <command>");
  });

  it("an unknown flag or a stray argument exits 2", async () => {
    for (const argv of [["serve", "--nope"], ["serve", "extra"], ["migrate", "--print=yes"]]) {
      const cli = fakeIO();
      expect(await run(argv, cli.io)).toBe(2);
      expect(cli.stderr).toMatch(/^error: .*\nRun "tasklane \w+ --help" for usage\.\n$/);
    }
  });

  it("a bad port exits 2 naming the flag or variable it came from", async () => {
    const fromEnv = fakeIO({ PORT: "abc" });
    expect(await run(["serve"], fromEnv.io)).toBe(2);
    expect(fromEnv.stderr).toContain('PORT must be an integer from 0 to 65535, got "abc"');
    for (const port of ["65536", "-1", "3000.5", "0x10", " 80", ""]) {
      const cli = fakeIO();
      expect(await run(["serve", `--port=${port}`], cli.io)).toBe(2);
      expect(cli.stderr).toContain(`--port must be an integer from 0 to 65535, got ${JSON.stringify(port)}`);
    }
  });

  it("an empty host exits 2", async () => {
    const cli = fakeIO();
    expect(await run(["serve", "--host", ""], cli.io)).toBe(2);
    expect(cli.stderr).toContain("--host must not be empty");
  });

  it("serve runs until its shutdown signal, then exits 0", async () => {
    const cli = fakeIO({ PORT: "0", DATABASE_URL: "memory://" });
    const exit = run(["serve"], cli.io);
    const [, url] = await cli.waitFor(/listening on (http:\/\/\S+) \(database: memory:\/\/\)\n/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    cli.stop.abort();
    expect(await exit).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 30_000);

  it("serve on a port in use exits 1 with the reason", async () => {
    const blocker = createServer().listen(0, "127.0.0.1");
    await once(blocker, "listening");
    try {
      const cli = fakeIO();
      const port = String((blocker.address() as AddressInfo).port);
      expect(await run(["serve", "--database", "memory://", "--port", port], cli.io)).toBe(1);
      expect(cli.stderr).toMatch(/^error: .*EADDRINUSE/);
    } finally {
      blocker.close();
    }
  }, 30_000);

  it("migrate --print takes the schema from TASKLANE_SCHEMA and checks it", async () => {
    const cli = fakeIO({ TASKLANE_SCHEMA: "from_env" });
    expect(await run(["migrate", "--print"], cli.io)).toBe(0);
    expect(cli.stdout).toContain("CREATE TABLE from_env.task");
    const bad = fakeIO();
    expect(await run(["migrate", "--print", "--schema", "x; DROP TABLE y"], bad.io)).toBe(2);
    expect(bad.stderr).toMatch(/^error \[VALIDATION\]: .*schema/);
    expect(bad.stdout).toBe("");
    const both = fakeIO();
    expect(await run(["migrate", "--print", "--database", "memory://"], both.io)).toBe(2);
  });

  it("migrate applies what is missing, then finds nothing to do", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tasklane-cli-"));
    try {
      const database = `pglite://${join(dir, "db")}`;
      const first = fakeIO();
      expect(await run(["migrate", "--database", database, "--schema", "mig"], first.io)).toBe(0);
      expect(first.stdout).toMatch(/^Applied migrations? 1 \(tasks\).* to schema "mig"/);
      const second = fakeIO();
      expect(await run(["migrate", "--database", database, "--schema", "mig"], second.io)).toBe(0);
      expect(second.stdout).toMatch(/^Nothing to apply: schema "mig" .* is up to date\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("a library error prints its code: VALIDATION exits 2", async () => {
    const cli = fakeIO({ DATABASE_URL: "mysql://user:secret@db/x" });
    expect(await run(["migrate"], cli.io)).toBe(2);
    expect(cli.stderr).toMatch(/^error \[VALIDATION\]: database: unsupported URL/);
    expect(cli.stderr).not.toContain("secret");
  });
});

describe("shutdownOnSignals", () => {
  it("aborts at the first signal and forces at the second", () => {
    const source = new EventEmitter();
    const forced: string[] = [];
    const signal = shutdownOnSignals(source as never, (s) => forced.push(s));
    expect(signal.aborted).toBe(false);
    source.emit("SIGTERM", "SIGTERM");
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe("SIGTERM");
    expect(forced).toEqual([]);
    source.emit("SIGINT", "SIGINT");
    expect(forced).toEqual(["SIGINT"]);
  });
});

/**
 * `tasklane token` and what `tasklane serve` says about tokens at start.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { run } from "../../src/cli/run.js";
import { silentLogger } from "../../src/logger.js";
import { Tasklane } from "../../src/tasklane.js";
import { freshSchema } from "../support/backends.js";
import { fakeIO } from "./cli-io.js";

describe("tasklane token and the start message", () => {
  const tokenLine = /^tl_[A-Za-z0-9_-]{43}$/;
  const lastLine = (text: string) => text.trimEnd().split("\n").at(-1)!;

  it("token create prints the token on its last line; list shows it without the secret; revoke ends it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tasklane-token-"));
    try {
      const database = `pglite://${join(dir, "db")}`;
      const create = fakeIO({ DATABASE_URL: database });
      expect(await run(["token", "create", "--scope", "work", "--scope", "read", "--name", "billing"], create.io)).toBe(0);
      const token = lastLine(create.stdout);
      expect(token).toMatch(tokenLine);
      expect(create.stdout).toMatch(/^Created token (\d+) "billing" with scopes work, read\./);
      const id = /^Created token (\d+)/.exec(create.stdout)![1]!;
      const tl = await Tasklane.open({ database, logger: silentLogger });
      try {
        expect(await tl.authenticateToken(token)).toEqual({ id, name: "billing", scopes: ["work", "read"] });
      } finally {
        await tl.close();
      }
      const list = fakeIO();
      expect(await run(["token", "list", "--database", database], list.io)).toBe(0);
      expect(list.stdout).toContain(`${id}\tbilling\twork,read\t`);
      expect(list.stdout).not.toContain(token);
      const again = fakeIO({ DATABASE_URL: database });
      expect(await run(["token", "create", "--scope", "read", "--name", "billing"], again.io)).toBe(1);
      expect(again.stderr).toMatch(/^error \[CONFLICT\]: a token named "billing" exists/);
      const revoke = fakeIO({ DATABASE_URL: database });
      expect(await run(["token", "revoke", id], revoke.io)).toBe(0);
      expect(revoke.stdout).toBe(`Revoked token ${id} "billing".\n`);
      const unknown = fakeIO({ DATABASE_URL: database });
      expect(await run(["token", "revoke", "424242"], unknown.io)).toBe(1);
      expect(unknown.stderr).toMatch(/^error \[NOT_FOUND\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("token refuses bad input with exit 2 naming the setting", async () => {
    const cases: [string[], RegExp][] = [
      [["token", "create"], /needs at least one --scope/],
      [["token", "create", "--scope", "root"], /--scope must be one of work, start, read, admin, got "root"/],
      [["token", "create", "--scope", "read", "--name", " "], /--name must not be empty/],
      [["token", "destroy"], /unknown token command "destroy"/],
      [["token", "revoke"], /takes one token id/],
      [["token", "list", "extra"], /unexpected argument "extra"/],
      [["token", "create", "--scope", "read", "--database", ""], /--database must not be empty/],
    ];
    for (const [argv, message] of cases) {
      const cli = fakeIO();
      expect(await run(argv, cli.io)).toBe(2);
      expect(cli.stderr).toMatch(message);
    }
    const help = fakeIO();
    expect(await run(["token", "--help"], help.io)).toBe(0);
    expect(help.stdout).toContain("Usage: tasklane token create --scope S");
  });

  it("serve on an embedded database creates an admin token at its first start only, and prints it once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tasklane-serve-"));
    try {
      const database = `pglite://${join(dir, "db")}`;
      const first = fakeIO({ PORT: "0", DATABASE_URL: database });
      const exit = run(["serve"], first.io);
      const [, url, token] = await first.waitFor(/listening on (http:\/\/\S+) [\s\S]*keep it:\n(tl_\S+)\n/);
      expect(lastLine(first.stdout)).toBe(token);
      expect((await fetch(`${url}/api/v1/stats`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(`${url}/api/v1/stats`)).status).toBe(401);
      first.stop.abort();
      expect(await exit).toBe(0);
      const second = fakeIO({ PORT: "0", DATABASE_URL: database });
      const again = run(["serve"], second.io);
      await second.waitFor(/listening on/);
      expect(second.stdout).toMatch(/^Tasklane listening on \S+ \(database: pglite:\/\/\S+\)\n/);
      expect(second.stdout).not.toMatch(/tl_|admin token|No API token/);
      second.stop.abort();
      expect(await again).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it.skipIf(!inject("pgUrl"))("serve on PostgreSQL creates no token and says how to make one", async () => {
    const schema = freshSchema();
    const cli = fakeIO({ PORT: "0", DATABASE_URL: inject("pgUrl")!, TASKLANE_SCHEMA: schema });
    const exit = run(["serve"], cli.io);
    await cli.waitFor(/tasklane token create/);
    expect(cli.stdout).toContain("No API token exists yet");
    expect(cli.stdout).toContain(`--schema ${schema}`);
    expect(cli.stdout).not.toMatch(/tl_/);
    cli.stop.abort();
    expect(await exit).toBe(0);
  }, 60_000);
});

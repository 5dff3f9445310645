/**
 * Runs one behaviour suite on both backends: embedded PGlite and a real PostgreSQL server. Each
 * test gets a fresh schema, so tests never see each other's tasks; PGlite is shared per file
 * (starting one takes ~2 s) and PostgreSQL per run.
 */
import { afterAll, afterEach, describe, inject } from "vitest";
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { Tasklane, type OpenOptions } from "../../src/index.js";
import { silentLogger } from "../../src/logger.js";

/** What a suite gets for one backend. */
export interface Backend {
  readonly kind: "pglite" | "postgres";
  /** Opens an instance in a fresh schema (or `options.schema`), closed after the test. */
  open(options?: OpenOptions): Promise<Tasklane>;
  /** PostgreSQL only: the server's URL, for child processes and raw clients. */
  readonly url: string | null;
  /** PGlite only: the shared in-memory database the instances of this file use. */
  pglite(): Promise<PGlite>;
}

/** A fresh schema name. */
export function freshSchema(): string {
  return `t_${randomBytes(5).toString("hex")}`;
}

/** `describe` once per backend; the PostgreSQL run is skipped when there is no server (never in CI). */
export function describeBackends(title: string, suite: (backend: Backend) => void, only?: "pglite" | "postgres"): void {
  for (const kind of ["pglite", "postgres"] as const) {
    if (only && only !== kind) continue;
    const url = kind === "postgres" ? inject("pgUrl") : null;
    describe.skipIf(kind === "postgres" && !url)(`${title} [${kind}]`, () => {
      const open: Tasklane[] = [];
      let pglite: Promise<PGlite> | undefined;
      const backend: Backend = {
        kind,
        url,
        pglite: () => (pglite ??= PGlite.create("memory://")),
        async open(options = {}) {
          const database = kind === "postgres" ? url! : await (pglite ??= PGlite.create("memory://"));
          const tl = await Tasklane.open({ database, schema: freshSchema(), logger: silentLogger, ...options });
          open.push(tl);
          return tl;
        },
      };
      afterEach(async () => {
        await Promise.all(open.splice(0).map((tl) => tl.close({ graceMs: 0 })));
      });
      afterAll(async () => {
        if (pglite) await (await pglite).close();
      });
      suite(backend);
    });
  }
}

/** Resolves with the first truthy answer of `probe` (asked every 20 ms); rejects after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A promise with its resolve function, for handlers that signal the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The PGlite driver: PostgreSQL compiled to WebAssembly, in this process. One connection, so
 * statements are serialised by PGlite itself; LISTEN/NOTIFY works in-process.
 *
 * @internal
 * @module
 */
import { mkdir } from "node:fs/promises";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { Capabilities, Driver, Executor } from "./driver.js";
import type { Query } from "./queries.js";

function executorOf(db: PGlite | Transaction): Executor {
  return {
    async query<R>(query: Query, params: readonly unknown[] = []): Promise<R[]> {
      const result = await db.query<R>(query.text, params as unknown[]);
      return result.rows;
    },
    async exec(script: string): Promise<void> {
      await db.exec(script);
    },
  };
}

/** @internal */
export class PgliteDriver implements Driver {
  readonly kind = "pglite" as const;
  readonly capabilities: Capabilities = { multiProcess: false, maxConnections: 1, rowsAsJson: true };
  readonly #db: PGlite;
  readonly #executor: Executor;
  readonly #owned: boolean;
  #closed = false;

  private constructor(db: PGlite, owned: boolean) {
    this.#db = db;
    this.#owned = owned;
    this.#executor = executorOf(db);
  }

  /** Uses a PGlite instance the caller opened (and will close). */
  static wrap(db: PGlite): PgliteDriver {
    return new PgliteDriver(db, false);
  }

  /** Opens (and creates when missing) the database at `dataDir`; `undefined` keeps it in memory. */
  static async open(dataDir: string | undefined): Promise<PgliteDriver> {
    if (dataDir) await mkdir(dataDir, { recursive: true });
    return new PgliteDriver(await PGlite.create(dataDir ?? "memory://"), true);
  }

  query<R>(query: Query, params?: readonly unknown[]): Promise<R[]> {
    return this.#executor.query<R>(query, params);
  }

  exec(script: string): Promise<void> {
    return this.#executor.exec(script);
  }

  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return this.#db.transaction((tx) => fn(executorOf(tx)));
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    // In-process: the listener cannot lose its connection, so there is never a reconnect.
    const unlisten = await this.#db.listen(channel, onMessage);
    return async () => {
      if (!this.#db.closed) await unlisten();
    };
  }

  listenerPid(): null {
    return null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) await this.#db.close();
  }
}

/** True for a PGlite instance (duck-typed, so a second copy of the package also counts). */
export function isPglite(value: unknown): value is PGlite {
  return typeof value === "object" && value !== null && "waitReady" in value && typeof (value as PGlite).listen === "function";
}

/**
 * The internal seam between the engine and a database. The core never imports a database
 * client: it sees only {@link Driver} and {@link Executor}. Drivers are thin: they adapt
 * connections, transactions and LISTEN, and report what they can do. All SQL is shared.
 *
 * Not a public API: its shape may change in any release.
 *
 * @internal
 * @module
 */
import type { Query } from "./queries.js";

/** Something that runs statements: the driver's pool, a transaction, or a caller's client. */
export interface Executor {
  /** Runs one named statement with positional parameters and returns its rows. */
  query<R = Record<string, unknown>>(query: Query, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/** What a backend can do; the core branches on these flags, never on the driver's kind. */
export interface Capabilities {
  /** Other processes can share this database (false for an in-process PGlite). */
  readonly multiProcess: boolean;
  /** Connections the pool may open at once (1 for PGlite); reported to operators. */
  readonly maxConnections: number;
  /**
   * True when a wide answer of many rows is cheaper as one JSON text per row than as its columns:
   * PGlite parses every field of an answer in JavaScript, on the thread that also runs the
   * database. The worker's claim then uses `TaskClaimJson` instead of `TaskClaim`.
   */
  readonly rowsAsJson: boolean;
}

/** One database backend. */
export interface Driver extends Executor {
  readonly kind: "pg" | "pglite";
  readonly capabilities: Capabilities;
  /**
   * Runs `fn` inside one transaction on one connection. The transaction commits when `fn`
   * resolves and rolls back when it throws.
   */
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a NOTIFY channel. `onMessage` receives each payload; `onReconnect` runs after
   * the listening connection was lost and re-established (notifications may have been missed,
   * so the listener should poll once). Resolves to an unsubscribe function.
   */
  listen(channel: string, onMessage: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
  /**
   * The server process of the LISTEN connection while it is up (PostgreSQL), or null: not
   * connected, or PGlite, whose listener lives in this process. Handoff offers name it, so that
   * enqueues stop handing tasks to a worker whose notifications can no longer arrive.
   */
  listenerPid(): number | null;
  /** Closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** Anything with node-postgres' `query(text, values)` shape: a `pg.Client`, `pg.PoolClient`, PGlite or its transaction. */
export interface ForeignClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * Wraps a caller's own client (for `enqueue(…, { tx })`) so the statement runs on the caller's
 * connection and inside the caller's transaction: rolled back there, no task.
 */
export function foreignExecutor(client: ForeignClient): Executor {
  return {
    async query<R>(query: Query, params: readonly unknown[] = []): Promise<R[]> {
      const result = await client.query(query.text, params as unknown[]);
      return result.rows as R[];
    },
    async exec(script: string): Promise<void> {
      await client.query(script);
    },
  };
}

/**
 * The node-postgres driver: a pool for statements and one dedicated connection for LISTEN,
 * re-established on its own after the server restarts or the network drops.
 *
 * @internal
 * @module
 */
import pg from "pg";
import type { Capabilities, Driver, Executor } from "./driver.js";
import type { Query } from "./queries.js";
import type { Logger } from "../logger.js";

/** Options of {@link PgDriver}. */
export interface PgDriverOptions {
  readonly connectionString: string;
  /** Pool size. Claims and completions are batched, so a worker process needs few. */
  readonly poolSize: number;
  readonly logger: Logger;
}

function executorOf(client: pg.ClientBase | pg.Pool): Executor {
  return {
    async query<R>(query: Query, params: readonly unknown[] = []): Promise<R[]> {
      // A named query is prepared once per connection and then only bound and executed:
      // it saves the parse/plan round on every claim and completion.
      const config: pg.QueryConfig = query.name
        ? { name: query.name, text: query.text, values: params as unknown[] }
        : { text: query.text, values: params as unknown[] };
      const result = await client.query(config);
      return result.rows as R[];
    },
    async exec(script: string): Promise<void> {
      await client.query(script);
    },
  };
}

/** @internal */
export class PgDriver implements Driver {
  readonly kind = "pg" as const;
  readonly capabilities: Capabilities;
  readonly #pool: pg.Pool;
  readonly #pooled: Executor;
  readonly #options: PgDriverOptions;
  readonly #channels = new Map<string, Set<{ onMessage: (p: string) => void; onReconnect?: () => void }>>();
  #listener: pg.Client | undefined;
  #listenerPid: number | null = null;
  #listenerQueue: Promise<void> = Promise.resolve();
  #connecting: Promise<void> | undefined;
  #closed = false;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(options: PgDriverOptions) {
    this.#options = options;
    this.#pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize });
    // An idle pooled connection that dies (server restart) must not crash the process; the pool
    // drops it and opens a new one on the next query.
    this.#pool.on("error", (err) => options.logger.warn({ err }, "idle database connection lost"));
    this.#pooled = executorOf(this.#pool);
    this.capabilities = { multiProcess: true, maxConnections: options.poolSize, rowsAsJson: false };
  }

  query<R>(query: Query, params?: readonly unknown[]): Promise<R[]> {
    return this.#pooled.query<R>(query, params);
  }

  exec(script: string): Promise<void> {
    return this.#pooled.exec(script);
  }

  async transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken = false;
    // A checked-out client has no error listener (the pool removes its own while the client is
    // lent out), and a connection that dies between two statements of the transaction (a server
    // restart) emits 'error' with no query to fail: unheard, that would crash the process. The
    // next statement fails instead, and the broken client is destroyed on release.
    const onError = (err: Error) => {
      broken = true;
      this.#options.logger.warn({ err }, "database connection lost inside a transaction");
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const value = await fn(executorOf(client));
      await client.query("COMMIT");
      return value;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => (broken = true));
      throw err;
    } finally {
      client.removeListener("error", onError);
      client.release(broken);
    }
  }

  async listen(channel: string, onMessage: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>> {
    let subscribers = this.#channels.get(channel);
    const fresh = !subscribers;
    if (!subscribers) this.#channels.set(channel, (subscribers = new Set()));
    const entry = { onMessage, onReconnect };
    subscribers.add(entry);
    await this.#ensureListener();
    if (fresh) await this.#onListener(`LISTEN ${quoteIdent(channel)}`);
    return async () => {
      subscribers.delete(entry);
      if (subscribers.size === 0) {
        this.#channels.delete(channel);
        await this.#onListener(`UNLISTEN ${quoteIdent(channel)}`).catch(() => undefined);
      }
    };
  }

  /**
   * Runs LISTEN or UNLISTEN on the listening connection, one at a time: subscribers come and go
   * concurrently (a stopping worker leaves three channels at once), and a pg client must not be
   * given a query while it runs another.
   */
  #onListener(sql: string): Promise<void> {
    const run = this.#listenerQueue.then(async () => {
      await this.#listener?.query(sql);
    });
    this.#listenerQueue = run.catch(() => undefined);
    return run;
  }

  #ensureListener(): Promise<void> {
    if (this.#listener) return Promise.resolve();
    this.#connecting ??= this.#connectListener().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.connectionString });
    client.on("notification", (msg) => {
      for (const s of this.#channels.get(msg.channel) ?? []) s.onMessage(msg.payload ?? "");
    });
    const lost = (err?: Error) => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      this.#listenerPid = null;
      client.end().catch(() => undefined);
      if (this.#closed) return;
      this.#options.logger.warn({ err }, "LISTEN connection lost; reconnecting");
      this.#scheduleReconnect(250);
    };
    client.on("error", lost);
    client.on("end", () => lost());
    await client.connect();
    for (const channel of this.#channels.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    this.#listenerPid = rows[0]!.pid;
    this.#listener = client;
  }

  listenerPid(): number | null {
    return this.#listenerPid;
  }

  #scheduleReconnect(delayMs: number): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#ensureListener().then(
        () => {
          // Notifications sent while we were away are gone: every subscriber polls once.
          for (const subs of this.#channels.values()) for (const s of subs) s.onReconnect?.();
        },
        (err) => {
          this.#options.logger.debug({ err }, "LISTEN reconnect failed; trying again");
          this.#scheduleReconnect(Math.min(delayMs * 2, 5_000));
        },
      );
    }, delayMs);
    this.#retryTimer.unref();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const listener = this.#listener;
    this.#listener = undefined;
    this.#listenerPid = null;
    await listener?.end().catch(() => undefined);
    await this.#pool.end();
  }
}

/** Quotes a channel name as an SQL identifier (channel names are derived from the schema name). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Throwaway PostgreSQL server clusters for the test suite and benchmarks.
 *
 * Each cluster lives in its own temporary directory with its own port, so test
 * files can run in parallel and nothing depends on a system-wide server.
 * Settings are PostgreSQL's defaults (fsync and synchronous_commit stay on),
 * because benchmarks compare durability at default settings.
 */
import { execFile, execFileSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { chmod, chown, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A running throwaway PostgreSQL cluster. */
export interface PgCluster {
  /** Superuser connection string over loopback TCP, e.g. `postgres://postgres@127.0.0.1:5433/postgres`. */
  url: string;
  port: number;
  /** The cluster's data directory (inside a temp directory that `stop()` removes). */
  dataDir: string;
  /** Kills the server (`pg_ctl stop -m immediate`) and deletes all its files. Idempotent. */
  stop(): Promise<void>;
  /** `pgStop()` then `pgStart()`: same port, same data. */
  restart(): Promise<void>;
  /** Stops the server but keeps its data. `fast` (default) is a clean shutdown, `immediate` a crash. */
  pgStop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts the server again after `pgStop()`, on the same port. */
  pgStart(): Promise<void>;
}

/**
 * Finds the directory holding `initdb`, `pg_ctl` and `postgres`: `$TASKLANE_PG_BIN`,
 * else the newest `/usr/lib/postgresql/<version>/bin` (Debian), else the real
 * location of `initdb` on PATH. Returns null when there is none.
 */
export function findPgBin(): string | null {
  if (process.env.TASKLANE_PG_BIN) return process.env.TASKLANE_PG_BIN;
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    // Client-only packages create <version>/bin without initdb, so check for it.
    const versions = readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(debian, v, "bin", "initdb")))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    if (versions[0]) return join(debian, versions[0], "bin");
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, "initdb"), constants.X_OK);
      // initdb on PATH may be a symlink; its real directory is the one that also has `postgres`.
      return dirname(realpathSync(join(dir, "initdb")));
    } catch {
      // not in this PATH entry
    }
  }
  return null;
}

// PostgreSQL refuses to run as root, so as root every binary runs as the `postgres` OS user.
const asRoot = process.getuid?.() === 0;
const command = (bin: string, tool: string, args: string[]): [string, string[]] =>
  asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, tool), ...args]] : [join(bin, tool), args];

/** Clusters still running, killed synchronously if the process exits without stopping them. */
const live = new Map<string, { bin: string; dataDir: string }>();
let exitHookInstalled = false;
function killAllSync(): void {
  for (const [tmp, { bin, dataDir }] of live) {
    try {
      execFileSync(...command(bin, "pg_ctl", ["stop", "-m", "immediate", "-D", dataDir]), { stdio: "ignore", timeout: 30_000 });
    } catch {
      // already stopped
    }
    rmSync(tmp, { recursive: true, force: true });
  }
  live.clear();
}

/**
 * Creates a fresh cluster (`initdb`) in a temp directory and starts it on a free
 * loopback port. Call `stop()` when done; an exit hook kills forgotten clusters.
 */
export async function startPgCluster(opts: { log?: (line: string) => void } = {}): Promise<PgCluster> {
  const log = opts.log ?? (() => {});
  const bin = findPgBin();
  if (!bin || !existsSync(join(bin, "initdb"))) {
    throw new Error(
      `PostgreSQL server binaries (initdb, pg_ctl, postgres) not found${bin ? ` in ${bin}` : ""}. ` +
        "Install PostgreSQL (on Debian: apt-get install -y postgresql) or set TASKLANE_PG_BIN to the directory containing them.",
    );
  }
  const tmp = await mkdtemp(join(tmpdir(), "tasklane-pg-"));
  const dataDir = join(tmp, "data");
  const logFile = join(tmp, "server.log");
  const pg = (tool: string, args: string[]) => run(...command(bin, tool, args), { cwd: tmp, timeout: 120_000 });
  let port = 0;
  let running = false;

  const pgStart = async () => {
    if (running) return;
    // The socket directory is the temp dir: no clash with a system server's /var/run/postgresql.
    const serverOpts = `-p ${port} -k ${shQuote(tmp)} -c listen_addresses=127.0.0.1 -c max_connections=200`;
    try {
      await pg("pg_ctl", ["start", "-w", "-t", "60", "-D", dataDir, "-l", logFile, "-o", serverOpts]);
    } catch (err) {
      throw await failure("pg_ctl start", err, logFile);
    }
    running = true;
    log(`postgres: running on port ${port} (${dataDir})`);
  };
  const pgStop = async (mode: "fast" | "immediate" = "fast") => {
    if (!running) return;
    try {
      await pg("pg_ctl", ["stop", "-w", "-m", mode, "-D", dataDir]);
    } catch (err) {
      throw await failure("pg_ctl stop", err, logFile);
    }
    running = false;
    log(`postgres: stopped (${mode}) on port ${port}`);
  };
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      live.delete(tmp);
      // Try even when we think it is down: a failed start may have left a postmaster behind.
      await pg("pg_ctl", ["stop", "-w", "-m", "immediate", "-D", dataDir]).catch(() => {});
      running = false;
      await rm(tmp, { recursive: true, force: true });
      log(`postgres: removed cluster on port ${port}`);
    })());

  try {
    if (asRoot) await handToPostgresUser(tmp);
    log(`postgres: initdb with ${bin}`);
    try {
      await pg("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]);
    } catch (err) {
      throw await failure("initdb", err, logFile);
    }
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on("exit", killAllSync);
    }
    live.set(tmp, { bin, dataDir });
    // Another process can grab the port between our probe and postgres binding it; retry then.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await pgStart();
        break;
      } catch (err) {
        const inUse = /could not bind|already in use/i.test(await readFile(logFile, "utf8").catch(() => ""));
        if (!inUse || attempt >= 3) throw err;
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const restart = async () => {
    await pgStop();
    await pgStart();
  };
  return { url, port, dataDir, stop, restart, pgStop, pgStart };
}

/** Gives the temp dir to the `postgres` user, who must also be able to reach it. */
async function handToPostgresUser(dir: string): Promise<void> {
  let ids: number[];
  try {
    ids = await Promise.all(["-u", "-g"].map(async (f) => Number((await run("id", [f, "postgres"])).stdout.trim())));
  } catch {
    throw new Error(
      "Running as root, but PostgreSQL refuses to run as root and there is no `postgres` OS user to run it as. " +
        "Install PostgreSQL (on Debian: apt-get install -y postgresql), which creates that user, or run as a normal user.",
    );
  }
  await chown(dir, ids[0]!, ids[1]!);
  await chmod(dir, 0o700);
  for (let d = dirname(dir); ; d = dirname(d)) {
    if (((await stat(d)).mode & 0o001) === 0) {
      throw new Error(`The postgres user cannot traverse ${d} (from os.tmpdir()); set TMPDIR to a directory like /tmp.`);
    }
    if (d === dirname(d)) break;
  }
}

/** Asks the OS for a free loopback port. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().unref().on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** pg_ctl hands its -o string to /bin/sh, so paths in it need quoting. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** An Error carrying the tool's stderr and the end of the server log. */
async function failure(what: string, err: unknown, logFile: string): Promise<Error> {
  const { message, stderr } = err as { message?: string; stderr?: string };
  const tail = await readFile(logFile, "utf8")
    .then((text) => text.trimEnd().split("\n").slice(-30).join("\n"))
    .catch(() => "(no server log)");
  return new Error(
    `${what} failed: ${message?.split("\n")[0] ?? String(err)}\n` +
      `--- stderr ---\n${stderr?.trim() || "(empty)"}\n--- server log (tail) ---\n${tail}`,
    { cause: err },
  );
}

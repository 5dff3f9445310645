/**
 * Runs the peers' harness (`shared/peers/`: graphile-worker, pg-boss, BullMQ on Redis and on
 * PostgreSQL, raw PostgreSQL) on this machine, in the same benchmark run, so Tasklane's numbers sit
 * next to numbers taken under the same conditions. Their code is copied to a temp directory and
 * installed there (`npm ci`, which also brings the Node 24 they need); nothing of theirs enters
 * this repository except their result files, copied to `bench/results/peers-<date>/` (a `--quick`
 * pass: next to the quick results, in the temp directory).
 *
 * PostgreSQL: the benchmark's own server (passed in). Redis: `redis-server` from Debian's package,
 * started here on a free loopback port without persistence (as their README says); without it,
 * BullMQ on Redis is skipped with a message. Never run while another benchmark runs.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PEERS_DIR } from "./report.js";
import { RESULTS_DIR, today } from "./lib/results.js";

function which(cmd: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().unref().on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: "inherit" });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}`))));
  });
}

/**
 * The headline subset of their run-all.sh, same counts and 3 runs each (about 20 minutes instead
 * of over an hour): their raw ceiling; A and C of every peer; B at each peer's best setting of
 * their own run; D with 10,000 workflows at concurrency 1,000 and 10,000 where they ran it.
 */
const CORE_SCRIPT = `#!/bin/sh
set -e
cd "$(dirname "$0")"
N=./node24
R="--runs 3"; J="--jobs 100000 --single 10000 --lat-jobs 1000"
mkdir -p results/logs
$N bench-pg-raw.mjs --runs 3 --duration 10                                     2>&1 | tee results/logs/pg-raw.log
$N bench-graphile.mjs --scenario A,B,C,D $R $J --configs c10-batched --d-jobs 10000 2>&1 | tee results/logs/graphile.log
$N bench-graphile.mjs --scenario D --d-conc 10000 $R --d-jobs 10000              2>&1 | tee -a results/logs/graphile.log
$N bench-pgboss.mjs --scenario A,B,C $R $J --configs lc10-b100                   2>&1 | tee results/logs/pgboss.log
$N bench-pgboss.mjs --scenario D --d-conc 10000 $R --d-jobs 10000                2>&1 | tee -a results/logs/pgboss.log
$N bench-bullmq.mjs --scenario A,B,C,D $R $J --configs c1000 --d-jobs 10000      2>&1 | tee results/logs/bullmq.log
$N bench-bullmq.mjs --scenario D --d-conc 10000 $R --d-jobs 10000                2>&1 | tee -a results/logs/bullmq.log
$N bench-bullmq-pg.mjs --scenario A,B,C $R $J --configs c10                      2>&1 | tee results/logs/bullmq-pg.log
$N summarize.mjs > results/RESULTS.md
`;

/**
 * Runs their `run-all.sh` (its `--quick` pass, or with `core` the subset above) against
 * `pgUrl`'s server; returns the directory their result files were copied to, or null when the
 * peers' harness is not there.
 */
export async function runPeers({ pgUrl, quick, core = false, outDir = RESULTS_DIR }: { pgUrl: string; quick: boolean; core?: boolean; outDir?: string }): Promise<string | null> {
  if (!existsSync(join(PEERS_DIR, "run-all.sh"))) {
    console.log(`[peers] the peers' harness is not at ${PEERS_DIR} (set TASKLANE_PEERS_DIR): skipped`);
    return null;
  }
  const work = mkdtempSync(join(tmpdir(), "tasklane-peers-"));
  let redis: ChildProcess | undefined;
  try {
    cpSync(PEERS_DIR, work, {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|results)([/\\]|$)/.test(src.slice(PEERS_DIR.length)),
    });
    execFileSync("chmod", ["-R", "u+w", work]);
    console.log("[peers] npm ci (their packages and Node 24) in a temp copy");
    try {
      await sh("npm", ["ci", "--no-audit", "--no-fund"], work);
    } catch {
      // Their lock file lacks some platforms' optional packages, which newer npm's `ci` refuses;
      // `npm install` resolves the same version ranges (in the temp copy only).
      console.log("[peers] npm ci refused their lock file; falling back to npm install in the temp copy");
      await sh("npm", ["install", "--no-audit", "--no-fund"], work);
    }

    const env: NodeJS.ProcessEnv = { ...process.env };
    const u = new URL(pgUrl);
    Object.assign(env, { PGHOST: u.hostname, PGPORT: u.port || "5432", PGUSER: decodeURIComponent(u.username || "postgres") });
    delete env.RESULTS_DIR;

    let script = core && !quick ? CORE_SCRIPT : readFileSync(join(work, "run-all.sh"), "utf8");
    const redisServer = which("redis-server");
    if (redisServer) {
      const port = await freePort();
      redis = spawn(redisServer, ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"], { stdio: "ignore" });
      env.REDIS_HOST = "127.0.0.1";
      env.REDIS_PORT = String(port);
      await new Promise((r) => setTimeout(r, 500));
      console.log(`[peers] redis-server on 127.0.0.1:${port} (no persistence)`);
    } else {
      console.log("[peers] Redis not found (Debian: apt-get install -y redis-server): BullMQ on Redis skipped; BullMQ on PostgreSQL still runs");
      script = script.split("\n").filter((l) => !/bench-bullmq\.mjs/.test(l)).join("\n");
    }
    if (!which("pgbench")) console.log("[peers] pgbench not on PATH (Debian: postgresql-client): their raw PostgreSQL part will fail");
    writeFileSync(join(work, "run-tasklane.sh"), script);
    console.log(`[peers] running their ${core && !quick ? "headline subset" : `run-all.sh${quick ? " --quick" : ""}`} (sequentially; the full pass takes over an hour)`);
    await sh("sh", ["run-tasklane.sh", ...(quick ? ["--quick"] : [])], work, env);

    const from = join(work, quick ? "results/quick" : "results");
    const to = join(outDir, `peers-${today()}${quick ? "-quick" : ""}`);
    mkdirSync(to, { recursive: true });
    for (const f of readdirSync(from).filter((f) => f.endsWith(".json") || f === "RESULTS.md")) copyFileSync(join(from, f), join(to, f));
    console.log(`[peers] results copied to ${to}`);
    return to;
  } finally {
    if (redis && redis.exitCode === null) redis.kill("SIGTERM");
    rmSync(work, { recursive: true, force: true });
  }
}

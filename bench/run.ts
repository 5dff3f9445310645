/**
 * The benchmark harness: scenarios A–E of the peers' harness (`shared/peers/`) on Tasklane, same
 * method (same counts, every measurement in a fresh process on a fresh schema or database, median
 * of 3 runs, PostgreSQL at its default settings), on PostgreSQL and on PGlite.
 *
 *   npm run bench                          # everything, both backends; writes bench/results and docs/benchmarks.md
 *   npm run bench -- --quick               # smoke pass: 1 run, small counts, results to a temp dir
 *   npm run bench -- --only A,B --backend pg
 *   npm run bench -- --peers               # also run the peers' harness in a temp copy, same machine, same run
 *
 * Options: --quick · --only A,B,C,D,E · --backend pg|pglite|both · --runs N · --out FILE ·
 * --configs c10,c100,c1000,c10-p1000,c100-p1000 (B worker settings) · --b-worker process|inproc (B's worker on
 * PostgreSQL: own process, default, or the producer's process as in the peers' harness) · --history N (finished tasks before B's extra
 * run; 0 = skip) · --history-config NAME · --d-jobs 10000,100000 · --d-conc 1000,10000 · --d-prefetch N
 * (D worker prefetch, default 1000) ·
 * --d-million (add D with 1,000,000 processes at concurrency 10,000, 1 run; PostgreSQL only) ·
 * --d-million-pglite (that run on PGlite too: its in-memory database lives in the measuring
 * process, so that process's memory grows with the data by construction) · --d-jobs none (only the 1m run) · --peers (their whole
 * run-all.sh, over an hour) · --peers-core (their headline subset: A, B at each one's best setting,
 * C, D with 10,000 at concurrency 1,000 and 10,000, and their raw ceiling; about 20 minutes) ·
 * --peers-from DIR (name a separate peers' run on this machine, e.g. bench/results/peers-2026-11-23, instead of running them) ·
 * --timeout S (per measurement) · --no-report · --clean (mark the results as taken on an idle machine).
 * PostgreSQL: a throwaway cluster at default settings, or the server `TASKLANE_BENCH_PG_URL` names.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir, cpus, totalmem, loadavg } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pgServer, pgServerInfo, type BackendKind } from "./lib/db.js";
import { loadResultFile, summarize, today, RESULTS_DIR, REPO_DIR, type Entry, type ResultFile } from "./lib/results.js";
import { now, round } from "./lib/timing.js";
import type { MeasureConfig, MeasureResult } from "./scenarios/types.js";

const MEASURE = fileURLToPath(new URL("./measure.ts", import.meta.url));

/**
 * B worker settings (and C's): concurrency, and prefetch (tasks claimed ahead into a local
 * buffer, like graphile-worker's localQueue in its best B settings, c10-batched and c100-batched).
 */
export const WORKER_CONFIGS: Record<string, MeasureConfig["worker"]> = {
  c10: { label: "concurrency 10", concurrency: 10 },
  c100: { label: "concurrency 100", concurrency: 100 },
  c1000: { label: "concurrency 1000", concurrency: 1000 },
  "c10-p1000": { label: "concurrency 10, prefetch 1000", concurrency: 10, prefetch: 1000 },
  "c100-p1000": { label: "concurrency 100, prefetch 1000", concurrency: 100, prefetch: 1000 },
};

const { values: opt } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string", default: "A,B,C,D,E" },
    backend: { type: "string", default: "both" },
    runs: { type: "string" },
    out: { type: "string" },
    configs: { type: "string", default: "c10,c100,c1000,c10-p1000,c100-p1000" },
    history: { type: "string" },
    "history-config": { type: "string", default: "c1000" },
    "b-worker": { type: "string", default: "process" },
    "d-jobs": { type: "string" },
    "d-conc": { type: "string", default: "1000,10000" },
    "d-million": { type: "boolean", default: false },
    "d-million-pglite": { type: "boolean", default: false },
    "d-in-flight": { type: "string", default: "50" },
    "d-prefetch": { type: "string", default: "1000" },
    peers: { type: "boolean", default: false },
    "peers-core": { type: "boolean", default: false },
    "peers-from": { type: "string" },
    timeout: { type: "string", default: "1800" },
    "no-report": { type: "boolean", default: false },
    clean: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (opt.help) {
  const text = readFileSync(fileURLToPath(import.meta.url), "utf8");
  console.log(/\/\*\*([\s\S]*?)\*\//.exec(text)?.[1]?.replace(/^ \* ?/gm, "") ?? "");
  process.exit(0);
}

const quick = opt.quick;
const runs = Number(opt.runs ?? (quick ? 1 : 3));
const scenarios = opt.only.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean) as MeasureConfig["scenario"][];
const backends: BackendKind[] = opt.backend === "both" ? ["pg", "pglite"] : [opt.backend as BackendKind];
for (const b of backends) if (b !== "pg" && b !== "pglite") throw new Error(`--backend: pg, pglite or both, not ${b}`);
const history = Number(opt.history ?? (quick ? 5_000 : 1_000_000));

/** The peers' counts (run-all.sh), or its --quick counts. */
const base: Omit<MeasureConfig, "scenario" | "backend" | "url" | "worker"> = quick
  ? { jobs: 10_000, single: 1_000, singleParallel: 10, chunk: 1_000, latJobs: 200, warmup: 20, bWorker: "process", history: 0, dJobs: 2_000, dConc: 1_000, stepMs: 500, dInFlight: Number(opt["d-in-flight"]), dPrefetch: Number(opt["d-prefetch"]), eDurationS: 2 }
  : { jobs: 100_000, single: 10_000, singleParallel: 10, chunk: 1_000, latJobs: 1_000, warmup: 20, bWorker: "process", history: 0, dJobs: 10_000, dConc: 1_000, stepMs: 500, dInFlight: Number(opt["d-in-flight"]), dPrefetch: Number(opt["d-prefetch"]), eDurationS: 10 };
base.bWorker = opt["b-worker"] === "inproc" ? "inproc" : "process";
const dJobs = (opt["d-jobs"] ?? (quick ? "2000" : "10000,100000")).split(",").filter((s) => s && s !== "none").map(Number);
const dConcs = opt["d-conc"].split(",").map(Number);

interface PlanItem {
  key: string;
  config: string | null;
  cfg: Omit<MeasureConfig, "backend" | "url">;
  runs: number;
  /** Only on these backends (default: every backend of the run). */
  backends?: BackendKind[];
}

function plan(): PlanItem[] {
  const items: PlanItem[] = [];
  const c10 = WORKER_CONFIGS.c10!;
  for (const sc of scenarios) {
    if (sc === "A") items.push({ key: "A", config: null, cfg: { ...base, scenario: "A", worker: c10 }, runs });
    if (sc === "B") {
      for (const name of opt.configs.split(",")) {
        const worker = WORKER_CONFIGS[name];
        if (!worker) throw new Error(`unknown B config ${name}; have ${Object.keys(WORKER_CONFIGS).join(", ")}`);
        items.push({ key: `B:${name}`, config: name, cfg: { ...base, scenario: "B", worker }, runs });
      }
      if (history > 0) {
        const name = opt["history-config"];
        const worker = WORKER_CONFIGS[name];
        if (!worker) throw new Error(`unknown --history-config ${name}`);
        items.push({ key: `B:${name}:history`, config: name, cfg: { ...base, scenario: "B", worker, history }, runs });
      }
    }
    if (sc === "C") items.push({ key: "C:c10", config: "c10", cfg: { ...base, scenario: "C", worker: c10 }, runs });
    if (sc === "D") {
      for (const dConc of dConcs) {
        for (const n of dJobs) {
          items.push({ key: `D:${n}:c${dConc}`, config: `concurrency ${dConc}, prefetch ${base.dPrefetch}`, cfg: { ...base, scenario: "D", worker: c10, dJobs: n, dConc }, runs });
        }
      }
      if (opt["d-million"]) {
        items.push({ key: "D:1000000:c10000", config: `concurrency 10000, prefetch ${base.dPrefetch}`, cfg: { ...base, scenario: "D", worker: c10, dJobs: 1_000_000, dConc: 10_000 }, runs: 1, backends: opt["d-million-pglite"] ? ["pg", "pglite"] : ["pg"] });
      }
    }
    if (sc === "E") items.push({ key: "E", config: null, cfg: { ...base, scenario: "E", worker: c10 }, runs });
  }
  return items;
}

/** Runs one measurement in a fresh process; resolves with its RESULT. */
function measureInChild(cfg: MeasureConfig, timeoutS: number): Promise<MeasureResult> {
  return new Promise((resolve) => {
    // TASKLANE_BENCH_NODE_ARGS: extra Node flags for the measuring process (the producer, and the
    // worker where it shares the producer's process), e.g. "--cpu-prof --cpu-prof-dir=prof".
    const extra = (process.env.TASKLANE_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
    const child = spawn(process.execPath, [...extra, "--import", "tsx", MEASURE, JSON.stringify(cfg)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutS * 1000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const line = out.split("\n").reverse().find((l) => l.startsWith("RESULT "));
      if (line) resolve(JSON.parse(line.slice(7)) as MeasureResult);
      else resolve({ error: `measurement process exited (code ${code}, signal ${signal})`, output_tail: out.slice(-2000) });
    });
  });
}

function version(pkg: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(REPO_DIR, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return null;
  }
}

const brief = (r: MeasureResult) =>
  r.error
    ? `ERROR ${r.error}`
    : r.skipped
      ? `SKIPPED ${r.skipped}`
      : JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => k !== "memory_curve").map(([k, v]) => [k, typeof v === "number" ? round(v, 2) : v])));

function outFileFor(backend: BackendKind): string {
  if (opt.out) {
    if (opt.out.includes("{backend}")) return opt.out.replace("{backend}", backend);
    return backends.length > 1 ? opt.out.replace(/(\.json)?$/, `-${backend}.json`) : opt.out;
  }
  const dir = quick ? join(tmpdir(), "tasklane-bench-quick") : RESULTS_DIR;
  return join(dir, `${today()}-${backend}.json`);
}

async function main(): Promise<void> {
  const items = plan();
  const needsPg = backends.includes("pg") || opt.peers || opt["peers-core"];
  const server = needsPg ? await pgServer((l) => console.log(`[bench] ${l}`)) : undefined;
  let failures = 0;
  const written: string[] = [];
  try {
    for (const backend of backends) {
      const outFile = outFileFor(backend);
      mkdirSync(dirname(outFile), { recursive: true });
      const file: ResultFile = loadResultFile(outFile) ?? ({ entries: {}, provisional: false } as ResultFile);
      // Whether a measurement was taken on an idle machine belongs to its entry: a later partial
      // run, clean or not, must not relabel the entries it did not measure. Entries from before
      // this was recorded per entry take their file's label.
      for (const e of Object.values(file.entries)) e.clean ??= !file.provisional;
      const label = () => {
        const provisional = Object.values(file.entries).some((e) => !e.clean);
        file.provisional = provisional;
        file.note = provisional ? "provisional: some entries were taken while other work ran on the machine" : "taken on an otherwise idle machine";
      };
      Object.assign(file, {
        tool: "tasklane",
        backend,
        versions: {
          tasklane: (JSON.parse(readFileSync(join(REPO_DIR, "package.json"), "utf8")) as { version: string }).version,
          node: process.version,
          ...(backend === "pg" ? { pg: version("pg") } : { "@electric-sql/pglite": version("@electric-sql/pglite") }),
        },
        machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, mem_gb: Math.round(totalmem() / 2 ** 30) },
      });
      label();
      if (backend === "pg") file.postgres = await pgServerInfo(server!.url);
      for (const item of items) {
        if (item.backends && !item.backends.includes(backend)) continue;
        const results: MeasureResult[] = [];
        for (let r = 0; r < item.runs; r++) {
          const t0 = now();
          const load = loadavg()[0];
          const res = await measureInChild({ ...item.cfg, backend, url: backend === "pg" ? server!.url : null }, Number(opt.timeout));
          res.run = r + 1;
          res.process_s = round((now() - t0) / 1000, 1);
          res.load_avg_1m_before = round(load, 2);
          results.push(res);
          if (res.error) failures++;
          console.log(`[tasklane ${backend}] ${item.key} run ${r + 1}/${item.runs}: ${brief(res)}`);
          if (res.skipped) break;
        }
        const s = summarize(item.cfg.scenario, results);
        const { worker, ...params } = item.cfg;
        const entry: Entry = {
          scenario: item.cfg.scenario,
          config: item.config,
          params: { ...params, worker },
          ...s,
          runs: results,
          at: new Date().toISOString(),
          clean: Boolean(opt.clean),
        };
        file.entries[item.key] = entry;
        label();
        console.log(`[tasklane ${backend}] ${item.key} MEDIAN ${JSON.stringify(s.median)} (ok ${s.runs_ok}/${item.runs})${s.skipped ? ` ${s.skipped}` : ""}`);
        writeFileSync(outFile, JSON.stringify(file, null, 2) + "\n");
      }
      written.push(outFile);
      console.log(`[bench] results written to ${relative(process.cwd(), outFile)}`);
    }
    if (opt["peers-from"]) {
      // A separate peers' run on this machine (a bench/results/peers-* folder), named in the
      // results so that the report shows it as such and not as measured in this run.
      const dir = resolve(opt["peers-from"]);
      if (!existsSync(join(dir, "graphile-worker.json"))) throw new Error(`--peers-from ${opt["peers-from"]}: no peers' results there`);
      for (const f of written) {
        const file = loadResultFile(f)!;
        file.peers_results = relative(REPO_DIR, dir);
        file.peers_same_run = false;
        writeFileSync(f, JSON.stringify(file, null, 2) + "\n");
      }
    } else if (opt.peers || opt["peers-core"]) {
      const { runPeers } = await import("./peers.js");
      const dir = await runPeers({ pgUrl: server!.adminUrl, quick, core: opt["peers-core"], outDir: dirname(outFileFor(backends[0]!)) });
      if (dir) {
        for (const f of written) {
          const file = loadResultFile(f)!;
          file.peers_results = relative(REPO_DIR, dir);
          writeFileSync(f, JSON.stringify(file, null, 2) + "\n");
        }
      }
    }
  } finally {
    await server?.stop();
  }
  if (!quick && !opt["no-report"] && !opt.out) {
    const { writeReport } = await import("./report.js");
    console.log(`[bench] ${relative(process.cwd(), writeReport())} updated`);
  } else if (quick) {
    const { renderReport } = await import("./report.js");
    console.log(renderReport({ files: written }));
  }
  if (failures) {
    console.error(`[bench] ${failures} measurement(s) failed`);
    process.exitCode = 1;
  }
}

await main();

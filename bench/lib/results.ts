/** Result files: `bench/results/<date>-<backend>.json`, merged entry by entry like the peers' files. */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, round } from "./timing.js";
import type { MeasureConfig, MeasureResult } from "../scenarios/types.js";

export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
export const RESULTS_DIR = join(BENCH_DIR, "results");
export const REPO_DIR = join(BENCH_DIR, "..");

export interface Entry {
  scenario: MeasureConfig["scenario"];
  config: string | null;
  params: Partial<MeasureConfig>;
  median: Record<string, number | null>;
  runs_ok: number;
  runs_failed: number;
  skipped?: string;
  runs: MeasureResult[];
  at: string;
  /** Taken on an otherwise idle machine (`--clean`). Missing in files from before it was per entry. */
  clean?: boolean;
}

export interface ResultFile {
  tool: "tasklane";
  backend: "pg" | "pglite";
  versions: Record<string, string | null>;
  machine: { cpus: number; cpu_model?: string; mem_gb: number };
  postgres?: Record<string, string>;
  /** True while any entry was taken without `--clean` (other work may have run on the machine). */
  provisional: boolean;
  note?: string;
  /** Where the peers' numbers of this run are (relative to the repository), when `--peers` ran them. */
  peers_results?: string;
  /**
   * False when `peers_results` names a separate peers' run on the same machine (`--peers-from`),
   * not one made in this run.
   */
  peers_same_run?: boolean;
  entries: Record<string, Entry>;
}

/** Keys whose median is reported, per scenario (as the peers' harness does). */
const MEDIAN_KEYS: Record<string, string[]> = {
  A: ["batch_jobs_per_s", "single_seq_jobs_per_s", "single_par_jobs_per_s"],
  B: ["jobs_per_s", "jobs_per_s_incl_start", "enqueue_ms", "drain_ms", "history_seed_ms", "worker_cpu_us_per_task"],
  C: ["p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms", "enqueue_call_p50_ms"],
  D: ["wall_s", "ideal_floor_s", "efficiency", "workflows_per_s", "enqueue_ms", "max_inflight_seen", "peak_rss_mb", "peak_heap_mb"],
};

/** Per-run bookkeeping the orchestrator adds; never a result. */
const BOOKKEEPING = new Set(["run", "process_s", "load_avg_1m_before", "rows", "duration_s"]);

export function summarize(scenario: string, runs: MeasureResult[]): Pick<Entry, "median" | "runs_ok" | "runs_failed" | "skipped"> {
  const ok = runs.filter((r) => !r.error && !r.skipped);
  const skipped = runs.find((r) => r.skipped)?.skipped;
  const keys = MEDIAN_KEYS[scenario] ??
    [...new Set(ok.flatMap((r) => Object.keys(r).filter((k) => typeof r[k] === "number" && !BOOKKEEPING.has(k))))];
  const med: Record<string, number | null> = {};
  for (const k of keys) med[k] = round(median(ok.map((r) => r[k] as number)), k === "efficiency" ? 3 : 2);
  return { median: med, runs_ok: ok.length, runs_failed: runs.filter((r) => r.error).length, ...(skipped && { skipped }) };
}

export function loadResultFile(file: string): ResultFile | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ResultFile;
  } catch {
    return null;
  }
}

/** The newest `<date>-<backend>.json` in `dir`. */
export function latestResultFile(dir: string, backend: "pg" | "pglite"): string | null {
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => new RegExp(`^\\d{4}-\\d{2}-\\d{2}-${backend}\\.json$`).test(f)).sort();
  return files.length ? join(dir, files[files.length - 1]!) : null;
}

export const today = (): string => new Date().toISOString().slice(0, 10);

/**
 * The series behind the overview's charts, sampled by the browser while it is signed in: the
 * counts of `GET /stats` (tasks by state, database-wide) and the counters of `GET /metrics`
 * (completions, failures and the attempt-duration histogram of this server's workers). Kept in
 * sessionStorage, so that a reload keeps the last hour.
 */
import { api } from "./api";
import type { Stats } from "./types";

export interface Sample {
  /** Milliseconds since the epoch. */
  t: number;
  ready: number;
  running: number;
  waiting: number;
  failed: number;
  /** Completed per second since the previous sample (metrics), or null for the first. */
  completedRate: number | null;
  failedRate: number | null;
  /** Attempt durations in the interval, seconds; null without attempts. */
  p50: number | null;
  p95: number | null;
}

export const sampleEveryMs = 5000;
/** One hour of samples. */
const maxSamples = 720;
const storageKey = "tasklane.samples";

/** Sums of the metric families the charts use. */
export interface Counters {
  completions: number;
  failures: number;
  /** Cumulative bucket counts by upper bound (seconds), summed over labels. */
  buckets: Map<number, number>;
}

/** Reads the counters the charts need from Prometheus text exposition. */
export function parseMetrics(text: string): Counters {
  const out: Counters = { completions: 0, failures: 0, buckets: new Map() };
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, name, labels = "", raw] = m;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    if (name === "tasklane_task_completions_total") out.completions += value;
    else if (name === "tasklane_task_failures_total") out.failures += value;
    else if (name === "tasklane_attempt_duration_seconds_bucket") {
      const le = /le="([^"]+)"/.exec(labels)?.[1];
      const bound = le === "+Inf" ? Infinity : Number(le);
      if (!Number.isNaN(bound)) out.buckets.set(bound, (out.buckets.get(bound) ?? 0) + value);
    }
  }
  return out;
}

/**
 * A quantile of the observations between two readings of a cumulative histogram, interpolated
 * linearly inside its bucket (as Prometheus's histogram_quantile does); null when there were none.
 */
export function quantile(q: number, before: Map<number, number> | undefined, after: Map<number, number>): number | null {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => Math.max(0, (after.get(b) ?? 0) - (before?.get(b) ?? 0)));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const upper = bounds[i]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      if (upper === Infinity) return lower;
      const below = i === 0 ? 0 : counts[i - 1]!;
      const inBucket = counts[i]! - below;
      return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
    }
  }
  return bounds[bounds.length - 2] ?? null;
}

type SamplesListener = (samples: readonly Sample[]) => void;

let samples: Sample[] = load();
let lastCounters: { t: number; counters: Counters } | undefined;
const listeners = new Set<SamplesListener>();
let timer: ReturnType<typeof setInterval> | undefined;
let running = false;

function load(): Sample[] {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(storageKey) ?? "[]") as Sample[];
    return Array.isArray(parsed) ? parsed.filter((s) => Date.now() - s.t < maxSamples * sampleEveryMs) : [];
  } catch {
    return [];
  }
}

function save(): void {
  try {
    sessionStorage.setItem(storageKey, JSON.stringify(samples));
  } catch {
    // storage full or disabled: the series lives in memory
  }
}

export function getSamples(): readonly Sample[] {
  return samples;
}

export function onSamples(listener: SamplesListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Takes one sample: `/stats` always, `/metrics` when it answers. */
export async function sampleOnce(): Promise<void> {
  if (running) return;
  running = true;
  try {
    const [stats, metrics] = await Promise.all([
      api<Stats>("/stats"),
      api<string>("/metrics", { text: true }).then(parseMetrics, () => undefined),
    ]);
    const t = Date.now();
    const sample: Sample = {
      t,
      ready: stats.tasks.ready ?? 0,
      running: stats.tasks.running ?? 0,
      waiting: stats.tasks.waiting ?? 0,
      failed: stats.tasks.failed ?? 0,
      completedRate: null,
      failedRate: null,
      p50: null,
      p95: null,
    };
    if (metrics) {
      const prev = lastCounters;
      // A restarted server starts its counters at zero: no rate across the restart.
      if (prev && metrics.completions >= prev.counters.completions && metrics.failures >= prev.counters.failures) {
        const seconds = Math.max(0.001, (t - prev.t) / 1000);
        sample.completedRate = (metrics.completions - prev.counters.completions) / seconds;
        sample.failedRate = (metrics.failures - prev.counters.failures) / seconds;
        sample.p50 = quantile(0.5, prev.counters.buckets, metrics.buckets);
        sample.p95 = quantile(0.95, prev.counters.buckets, metrics.buckets);
      }
      lastCounters = { t, counters: metrics };
    }
    samples = [...samples, sample].slice(-maxSamples);
    save();
    for (const l of listeners) l(samples);
  } catch {
    // the next tick tries again; the views show the API error themselves
  } finally {
    running = false;
  }
}

/** Starts sampling (idempotent); `active()` says whether to sample now (live and visible). */
export function startSampling(active: () => boolean): void {
  if (timer) return;
  void sampleOnce();
  timer = setInterval(() => {
    if (active()) void sampleOnce();
  }, sampleEveryMs);
}

export function stopSampling(clear = false): void {
  if (timer) clearInterval(timer);
  timer = undefined;
  lastCounters = undefined;
  if (clear) {
    samples = [];
    try {
      sessionStorage.removeItem(storageKey);
    } catch {
      // storage disabled
    }
  }
}

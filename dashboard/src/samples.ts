/**
 * The series behind the overview's charts, sampled by the browser while it is signed in: the
 * counts of `GET /stats` (tasks by state, database-wide) and the counters of `GET /metrics`
 * (completions, failures and the attempt-duration histogram of this server's workers). Kept in
 * sessionStorage, so that a reload keeps the last hour.
 */
import { sharedGet } from "./api";
import { parseMetrics, quantile, type Counters } from "./metrics-text";
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
      sharedGet<Stats>("/stats", 2000),
      sharedGet<string>("/metrics", 2000, { text: true }).then(parseMetrics, () => undefined),
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

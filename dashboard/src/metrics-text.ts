/**
 * Reading Prometheus text exposition (`GET /metrics`) in the browser: the counters and the
 * histogram the overview's charts need. Pure, so it is unit-tested on its own.
 */

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

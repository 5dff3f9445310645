/**
 * Clocks and statistics shared by every scenario.
 *
 * `now()` is CLOCK_MONOTONIC (`process.hrtime`), which is system-wide on Linux: a time taken in
 * the worker process and one taken in the producer process can be subtracted, the way the peers'
 * harness does it. Sub-millisecond resolution, unlike `Date.now()`.
 */

/** Milliseconds on the system-wide monotonic clock. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Median of the finite numbers in `values` (null when there is none). */
export function median(values: readonly (number | null | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Nearest-rank percentile, as the peers' harness computes it. */
export function percentile(values: readonly number[], p: number): number | null {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return null;
  const idx = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
  return v[idx]!;
}

export const round = (x: number | null | undefined, digits = 2): number | null =>
  x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits;

/** Polls `probe` every `intervalMs` until it is truthy; returns the time it was seen. */
export async function waitUntil(
  what: string,
  probe: () => boolean | Promise<boolean>,
  { intervalMs = 20, timeoutMs = 30 * 60_000 }: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<number> {
  const t0 = now();
  for (;;) {
    if (await probe()) return now();
    if (now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** `count` items in consecutive chunks of `size`, each built by `make(index)`. */
export function* chunks<T>(count: number, size: number, make: (i: number) => T): Generator<T[]> {
  for (let i = 0; i < count; i += size) {
    const part: T[] = [];
    for (let j = i; j < Math.min(count, i + size); j++) part.push(make(j));
    yield part;
  }
}

/** Samples this process's memory every `everyMs` while running; `stop()` returns the peaks. */
export function memorySampler(everyMs = 250): { stop(): MemoryPeaks } {
  const samples: { atMs: number; rssMb: number; heapMb: number }[] = [];
  const t0 = now();
  let peakRss = 0;
  let peakHeap = 0;
  const take = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    samples.push({ atMs: Math.round(now() - t0), rssMb: round(m.rss / 2 ** 20, 1)!, heapMb: round(m.heapUsed / 2 ** 20, 1)! });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      // Keep about 40 points of the curve: enough to see whether memory stays flat.
      const step = Math.max(1, Math.ceil(samples.length / 40));
      return {
        peak_rss_mb: round(peakRss / 2 ** 20, 1)!,
        peak_heap_mb: round(peakHeap / 2 ** 20, 1)!,
        curve: samples.filter((_, i) => i % step === 0 || i === samples.length - 1),
      };
    },
  };
}

export interface MemoryPeaks {
  peak_rss_mb: number;
  peak_heap_mb: number;
  curve: { atMs: number; rssMb: number; heapMb: number }[];
}

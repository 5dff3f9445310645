/** Formatting of dates, durations, counts and JSON for display. */

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `2030-01-31 14:05:09` in the browser's time zone. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `1.2 s`, `340 ms`, `3 min 5 s`, `2 h 4 min`, `3 d 1 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  const a = Math.abs(ms);
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(a / 1000);
  const sign = ms < 0 ? "-" : "";
  if (s < 60) return `${sign}${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${sign}${m} min${s % 60 ? ` ${s % 60} s` : ""}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${sign}${h} h${m % 60 ? ` ${m % 60} min` : ""}`;
  const d = Math.floor(h / 24);
  return `${sign}${d} d${h % 24 ? ` ${h % 24} h` : ""}`;
}

/** `5 s ago`, `in 3 min`, `just now`. */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const diff = t - now;
  if (Math.abs(diff) < 1500) return "just now";
  return diff < 0 ? `${formatDuration(-diff)} ago` : `in ${formatDuration(diff)}`;
}

/** Time between two instants (the second defaults to now). */
export function between(from: string | null | undefined, to?: string | null): string {
  if (!from) return "—";
  return formatDuration((to ? new Date(to).getTime() : Date.now()) - new Date(from).getTime());
}

export function formatCount(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return "—";
  return n.toLocaleString("en-US");
}

/** Short numbers for chart axes: `1.2k`, `3.4M`. */
export function compact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  if (a >= 10 || n === 0) return String(Math.round(n));
  return String(+n.toFixed(2));
}

/** Largest JSON text rendered at once; a longer payload is shown on request. */
export const jsonPreviewChars = 50_000;

export function prettyJson(value: unknown): string {
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, null, 2) ?? "null";
  } catch {
    return String(value);
  }
}

/** The first line of a text, cut to `max` characters. */
export function firstLine(text: string | null | undefined, max = 120): string {
  if (!text) return "";
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `datetime-local` input value → ISO string in UTC, or undefined. */
export function localInputToIso(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

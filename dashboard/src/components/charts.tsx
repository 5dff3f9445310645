/** Charts drawn as SVG: a time series of lines, and a stacked bar of counts. */
import { useEffect, useRef, useState } from "preact/hooks";
import { compact, formatDate } from "../format";

export interface Series {
  name: string;
  /** CSS class giving the stroke colour (`s-ready`, …). */
  cls: string;
  points: { t: number; v: number | null }[];
}

const H = 180;
const pad = { l: 44, r: 12, t: 12, b: 24 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  const f = v / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

const clock = (t: number, seconds: boolean) => formatDate(new Date(t).toISOString()).slice(11, seconds ? 19 : 16);

/** The width of an element in pixels, followed as it changes (the chart draws at its real size, so text is never stretched). */
function useWidth(fallback: number) {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(200, Math.round(el.clientWidth)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width] as const;
}

/**
 * Lines over time. A gap in a series (null) breaks its line. The chart is an image for screen
 * readers, labelled with the latest value of each series.
 */
export function LineChart({ title, series, unit = "", format = compact, windowMs }: {
  title: string;
  series: Series[];
  unit?: string;
  format?: (n: number) => string;
  /** Time shown, ending now (default: the span of the data). */
  windowMs?: number;
}) {
  const [ref, W] = useWidth(480);
  const all = series.flatMap((s) => s.points);
  const tMax = all.length ? Math.max(...all.map((p) => p.t)) : Date.now();
  const tMin = windowMs ? tMax - windowMs : all.length ? Math.min(...all.map((p) => p.t)) : tMax - 60_000;
  const span = Math.max(1, tMax - tMin);
  const vMax = niceMax(Math.max(0, ...all.map((p) => p.v ?? 0)));
  const x = (t: number) => pad.l + ((t - tMin) / span) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v / vMax) * (H - pad.t - pad.b);
  const latest = series.map((s) => {
    const last = [...s.points].reverse().find((p) => p.v !== null);
    return `${s.name} ${last?.v == null ? "no data" : `${format(last.v)}${unit}`}`;
  });
  const ticks = [0, 0.5, 1].map((f) => f * vMax);
  const enough = all.some((p) => p.t !== tMax);
  const times = enough ? (W < 360 ? [tMin, tMax] : [tMin, tMin + span / 2, tMax]) : [];
  const seconds = span < 10 * 60_000;

  return (
    <figure class="chart" ref={ref}>
      <figcaption>
        <span class="chart-title">{title}</span>
        <span class="legend">
          {series.map((s, i) => (
            <span key={s.name} class={`legend-item ${s.cls}`}>
              <svg width="14" height="4" aria-hidden="true">
                <line x1="0" y1="2" x2="14" y2="2" />
              </svg>
              {latest[i]}
            </span>
          ))}
        </span>
      </figcaption>
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${latest.join(", ")}`} class="chart-svg">
        {ticks.map((v) => (
          <g key={v} class="grid">
            <line x1={pad.l} x2={W - pad.r} y1={y(v)} y2={y(v)} />
            <text x={pad.l - 6} y={y(v) + 4} text-anchor="end">
              {format(v)}
            </text>
          </g>
        ))}
        {times.map((t, i) => (
          <text key={t} class="axis" x={x(t)} y={H - 6} text-anchor={i === 0 ? "start" : i === times.length - 1 ? "end" : "middle"}>
            {clock(t, seconds)}
          </text>
        ))}
        {!enough && (
          <text class="axis" x={W / 2} y={H / 2} text-anchor="middle">
            collecting samples…
          </text>
        )}
        {series.map((s) => (
          <path key={s.name} class={`line ${s.cls}`} d={pathOf(s.points, x, y)} />
        ))}
      </svg>
    </figure>
  );
}

function pathOf(points: Series["points"], x: (t: number) => number, y: (v: number) => number): string {
  let d = "";
  let pen = false;
  for (const p of points) {
    if (p.v === null) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** One bar split by state, each part as wide as its share; the counts are the text beside it. */
export function StackedBar({ parts, label }: { parts: { name: string; value: number }[]; label: string }) {
  const total = parts.reduce((a, p) => a + p.value, 0);
  let at = 0;
  return (
    <svg class="stacked" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label={`${label}: ${parts.map((p) => `${p.name} ${p.value}`).join(", ")}`}>
      <rect class="track" x="0" y="0" width="100" height="6" rx="1" />
      {total > 0 &&
        parts.map((p) => {
          const w = (p.value / total) * 100;
          const r = <rect key={p.name} class={`fill-${p.name}`} x={at} y="0" width={w} height="6" />;
          at += w;
          return r;
        })}
    </svg>
  );
}

/** Small shared pieces: state badges, times, JSON blocks, notices, toasts. */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { describeError } from "../api";
import { formatDate, jsonPreviewChars, prettyJson, relative } from "../format";

export function StateBadge({ state }: { state: string | null | undefined }) {
  const s = state ?? "pruned";
  return <span class={`badge state-${s}`}>{s.replace("_", " ")}</span>;
}

/** A date: relative text, exact local time on hover and for screen readers. */
export function Time({ at, exact }: { at: string | null | undefined; exact?: boolean }) {
  if (!at) return <span class="muted">—</span>;
  return (
    <time dateTime={at} title={formatDate(at)}>
      {exact ? formatDate(at) : relative(at)}
    </time>
  );
}

/** JSON, pretty-printed; very large values are cut until the user asks for all of it. */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  const [all, setAll] = useState(false);
  const text = prettyJson(value);
  const cut = !all && text.length > jsonPreviewChars;
  return (
    <div class="json">
      <pre tabIndex={0} aria-label={label}>
        {cut ? `${text.slice(0, jsonPreviewChars)}\n…` : text}
      </pre>
      {cut && (
        <button type="button" class="link" onClick={() => setAll(true)}>
          Show all ({Math.round(text.length / 1024)} KB)
        </button>
      )}
    </div>
  );
}

export function ErrorNote({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  return (
    <p class="notice error" role="alert">
      {what ? `${what}: ` : ""}
      {describeError(error)}
    </p>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p class="muted" aria-busy="true">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** When the shown data was read, refreshed every second. */
export function Updated({ at }: { at: number | undefined }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, []);
  if (!at) return null;
  return <span class="updated muted">updated {relative(new Date(at).toISOString())}</span>;
}

export function PageHeader({ title, sub, children, at }: { title: ComponentChildren; sub?: ComponentChildren; children?: ComponentChildren; at?: number }) {
  return (
    <header class="page-header">
      <div>
        <h1 id="page-title" tabIndex={-1}>
          {title}
        </h1>
        {sub && <p class="sub">{sub}</p>}
      </div>
      <div class="page-actions">
        <Updated at={at} />
        {children}
      </div>
    </header>
  );
}

/** A definition list of facts. */
export function Facts({ items }: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v ?? <span class="muted">—</span>}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Tags({ tags }: { tags: readonly string[] | null | undefined }) {
  if (!tags?.length) return <span class="muted">—</span>;
  return (
    <span class="tags">
      {tags.map((t) => (
        <span class="tag" key={t}>
          {t}
        </span>
      ))}
    </span>
  );
}

// Toasts: results of actions, announced to screen readers.
interface Toast {
  id: number;
  text: string;
  kind: "ok" | "error";
}
let toasts: Toast[] = [];
let nextToast = 1;
const toastListeners = new Set<() => void>();

export function toast(text: string, kind: Toast["kind"] = "ok"): void {
  const t = { id: nextToast++, text, kind };
  toasts = [...toasts, t].slice(-4);
  toastListeners.forEach((l) => l());
  setTimeout(() => {
    toasts = toasts.filter((x) => x !== t);
    toastListeners.forEach((l) => l());
  }, kind === "error" ? 10_000 : 5000);
}

export function Toasts() {
  const [, force] = useState(0);
  useEffect(() => {
    const l = () => force((n) => n + 1);
    toastListeners.add(l);
    return () => toastListeners.delete(l);
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

/**
 * Live updates by polling: each view re-reads what it shows every few seconds while the tab is
 * visible and live updates are on, never two reads of the same view at once.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

type Listener = () => void;
const listeners = new Set<Listener>();
let live = readLive();

function readLive(): boolean {
  try {
    return localStorage.getItem("tasklane.live") !== "off";
  } catch {
    return true;
  }
}

export function isLive(): boolean {
  return live;
}

export function setLive(on: boolean): void {
  live = on;
  try {
    localStorage.setItem("tasklane.live", on ? "on" : "off");
  } catch {
    // storage disabled
  }
  for (const l of listeners) l();
}

/** Re-renders on a change of the live switch or of the tab's visibility. */
export function useLiveFlag(): boolean {
  const [, force] = useState(0);
  useEffect(() => {
    const l = () => force((n) => n + 1);
    listeners.add(l);
    document.addEventListener("visibilitychange", l);
    return () => {
      listeners.delete(l);
      document.removeEventListener("visibilitychange", l);
    };
  }, []);
  return live && document.visibilityState !== "hidden";
}

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** When the data was last read. */
  at: number | undefined;
  /** Reads again now (after an action). */
  refresh(): Promise<void>;
}

/**
 * Reads `load` now and whenever `key` changes, then every `intervalMs` while live (0: once). A
 * read still in flight when the key changes is aborted and its answer dropped.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, key: string, intervalMs = 3000): Polled<T> {
  const active = useLiveFlag();
  const [state, setState] = useState<{ key: string; data?: T; error?: unknown; at?: number; loading: boolean }>({ key, loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const inflight = useRef<{ key: string; controller: AbortController; done: Promise<void> } | null>(null);

  const read = useCallback((k: string, force = false): Promise<void> => {
    if (!force && inflight.current && inflight.current.key === k) return inflight.current.done;
    inflight.current?.controller.abort();
    const controller = new AbortController();
    const done = loadRef
      .current(controller.signal)
      .then(
        (data) => {
          if (!controller.signal.aborted) setState({ key: k, data, at: Date.now(), loading: false });
        },
        (error) => {
          if (controller.signal.aborted || (error as Error)?.name === "AbortError") return;
          // Keep what was shown: a failed refresh should not blank the page.
          setState((s) => ({ ...s, key: k, error, loading: false, data: s.key === k ? s.data : undefined }));
        },
      )
      .finally(() => {
        if (inflight.current?.controller === controller) inflight.current = null;
      });
    inflight.current = { key: k, controller, done };
    return done;
  }, []);

  // A layout effect: the first request leaves right after the first render, not after a paint.
  useLayoutEffect(() => {
    setState((s) => (s.key === key ? s : { key, loading: true }));
    void read(key);
  }, [key, read]);

  useEffect(() => {
    if (!active || !(intervalMs > 0)) return;
    const timer = setInterval(() => void read(key), intervalMs);
    return () => clearInterval(timer);
  }, [active, key, intervalMs, read]);

  useEffect(() => () => inflight.current?.controller.abort(), []);

  const fresh = state.key === key;
  return {
    data: fresh ? state.data : undefined,
    error: fresh ? state.error : undefined,
    loading: !fresh || state.loading,
    at: fresh ? state.at : undefined,
    refresh: () => read(key, true),
  };
}

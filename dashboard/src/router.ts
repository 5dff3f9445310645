/**
 * Hash routing (`#/tasks/42?state=failed`): the server serves one page at `/`, so links,
 * reloads and the back button work without server-side routes.
 */
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** Path segments, decoded: `#/tasks/42` → `["tasks", "42"]`. */
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string = location.hash): Route {
  const text = hash.replace(/^#/, "");
  const [path = "", qs = ""] = text.split("?", 2);
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, query: new URLSearchParams(qs) };
}

/** `href` of a route: `link("tasks", id)` → `#/tasks/42`; with a query object. */
export function link(...segments: (string | Record<string, string | number | null | undefined>)[]): string {
  const parts: string[] = [];
  const params = new URLSearchParams();
  for (const s of segments) {
    if (typeof s === "string") parts.push(encodeURIComponent(s));
    else for (const [k, v] of Object.entries(s)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return `#/${parts.join("/")}${qs ? `?${qs}` : ""}`;
}

export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, "", href);
  else location.hash = href.replace(/^#/, "");
  if (replace) window.dispatchEvent(new HashChangeEvent("hashchange"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash());
  useEffect(() => {
    const update = () => setRoute(parseHash());
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}

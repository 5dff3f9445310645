/** The dashboard: sign-in, the page frame, and the routes. */
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, describeError, identify, onUnauthorized, setSession, storedSession, storeToken, type Session } from "./api";
import { Toasts } from "./components/ui";
import { isLive, setLive, useLiveFlag } from "./live";
import { AuditPage } from "./pages/audit";
import { OverviewPage } from "./pages/overview";
import { ProcessDetailPage, ProcessesPage } from "./pages/processes";
import { ScheduleDetailPage, SchedulesPage } from "./pages/schedules";
import { SignIn } from "./pages/signin";
import { TaskDetailPage, TasksPage } from "./pages/tasks";
import { WorkersPage } from "./pages/workers";
import { link, useRoute, type Route } from "./router";
import { startSampling, stopSampling } from "./samples";
import "./styles.css";

const nav: { href: string; label: string; section: string }[] = [
  { href: link(), label: "Overview", section: "" },
  { href: link("tasks"), label: "Tasks", section: "tasks" },
  { href: link("processes"), label: "Processes", section: "processes" },
  { href: link("schedules"), label: "Schedules", section: "schedules" },
  { href: link("workers"), label: "Workers", section: "workers" },
  { href: link("audit"), label: "Audit log", section: "audit" },
];

function Page({ route }: { route: Route }) {
  const [section, id] = route.parts;
  switch (section) {
    case undefined:
      return <OverviewPage />;
    case "tasks":
      return id ? <TaskDetailPage id={id} /> : <TasksPage query={route.query} />;
    case "processes":
      return id ? <ProcessDetailPage idOrKey={id} /> : <ProcessesPage query={route.query} />;
    case "schedules":
      return id ? <ScheduleDetailPage name={id} /> : <SchedulesPage />;
    case "workers":
      return <WorkersPage />;
    case "audit":
      return <AuditPage query={route.query} />;
    default:
      return (
        <section>
          <h1 id="page-title" tabIndex={-1}>
            Not found
          </h1>
          <p>
            There is no page here. <a href={link()}>Back to the overview</a>.
          </p>
        </section>
      );
  }
}

function Frame({ session, signOut }: { session: Session; signOut(): void }) {
  const route = useRoute();
  const [menu, setMenu] = useState(false);
  const live = useLiveFlag();
  const main = useRef<HTMLElement>(null);
  const section = route.parts[0] ?? "";
  const path = route.parts.join("/");

  // A new page: close the menu, move focus to its heading (screen readers announce it). Not on
  // the first load, where the skip link should come first.
  const first = useRef(true);
  useEffect(() => {
    setMenu(false);
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("page-title")?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [path]);

  // The charts' sampling starts once the page's own data had its turn.
  useEffect(() => {
    const t = setTimeout(() => startSampling(() => isLive() && document.visibilityState !== "hidden"), 1500);
    return () => clearTimeout(t);
  }, []);

  // "/" focuses the search box of the page, as in many consoles.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement;
      if (t.closest("input, textarea, select, [contenteditable], dialog")) return;
      const search = document.querySelector<HTMLInputElement>("input[type=search]");
      if (search) {
        e.preventDefault();
        search.focus();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  const who = session.name ?? "signed in";
  return (
    <div class="frame">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={link()}>
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <rect x="2" y="4" width="20" height="4" rx="2" class="b1" />
            <rect x="2" y="10" width="14" height="4" rx="2" class="b2" />
            <rect x="2" y="16" width="8" height="4" rx="2" class="b3" />
          </svg>
          Tasklane
        </a>
        <button type="button" class="btn plain menu-toggle" aria-expanded={menu} aria-controls="nav" onClick={() => setMenu(!menu)}>
          Menu
        </button>
        <nav id="nav" class={menu ? "open" : ""} aria-label="Main">
          <ul>
            {nav.map((n) => (
              <li key={n.section}>
                <a href={n.href} aria-current={n.section === section ? "page" : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="session">
          <label class="live" title="Read the shown data again every few seconds">
            <input type="checkbox" checked={isLive()} onChange={(e) => setLive((e.currentTarget as HTMLInputElement).checked)} />
            <span>Live</span>
            <span class={`dot${live ? " on" : ""}`} aria-hidden="true" />
          </label>
          <span class="who" data-testid="who">
            <span>{who}</span>
            <span class="scopes">{session.scopes.join(", ")}</span>
          </span>
          <button type="button" class="btn plain" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page route={route} />
      </main>
      <Toasts />
    </div>
  );
}

function App() {
  // A session kept from earlier in this tab (or remembered on this device) shows at once, and is
  // checked again in the background: the server refuses a revoked token on every request anyway.
  const [kept] = useState(storedSession);
  const [session, setState] = useState<Session | null>(() => (kept?.session.scopes.length ? (setSession(kept.session), kept.session) : null));
  const [checking, setChecking] = useState(() => !!kept && !kept.session.scopes.length);
  const [notice, setNotice] = useState<string | null>(null);

  const signIn = (s: Session, remember: boolean) => {
    setSession(s);
    storeToken(s, remember);
    setState(s);
  };
  const signOut = (message: string | null = null) => {
    setSession(null);
    storeToken(null);
    stopSampling(true);
    setState(null);
    setNotice(message);
  };

  useEffect(() => onUnauthorized(() => signOut("The server no longer accepts this token (revoked or expired). Sign in again.")), []);

  useEffect(() => {
    if (!kept) return;
    identify(kept.session.token)
      .then((s) => {
        const same = s.name === kept.session.name && s.scopes.join() === kept.session.scopes.join();
        if (!same) signIn(s, kept.remembered);
      })
      .catch((err) => {
        if (err instanceof ApiError && (err.status === 401 || err.status === 403)) signOut(`Sign in again: ${describeError(err)}`);
        else if (!session) setNotice(`Sign in again: ${describeError(err)}`);
      })
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <p class="muted center">Signing in…</p>;
  if (!session) return <SignIn onSignIn={signIn} notice={notice} />;
  return <Frame session={session} signOut={() => signOut()} />;
}

render(<App />, document.getElementById("app")!);

/** Sign in with an API token. */
import { useState } from "preact/hooks";
import { can, describeError, identify, type Session } from "../api";

export function SignIn({ onSignIn, notice }: { onSignIn(session: Session, remember: boolean): void; notice: string | null }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const token = (form.elements.namedItem("token") as HTMLInputElement).value.trim();
    const remember = (form.elements.namedItem("remember") as HTMLInputElement).checked;
    if (!token) {
      setError("Paste an API token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const session = await identify(token);
      if (!can("read", session)) {
        setError(`This token has the scopes ${session.scopes.join(", ")}; the dashboard needs "read" (or "admin").`);
        return;
      }
      onSignIn(session, remember);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <form onSubmit={submit} class="card" aria-labelledby="page-title">
        <h1 id="page-title">Tasklane</h1>
        <p class="muted">Sign in with an API token. A token with scope <code>read</code> sees everything; <code>admin</code> can also act.</p>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <label class="field">
          <span>API token</span>
          <input name="token" type="password" autoComplete="off" spellcheck={false} placeholder="tl_…" autoFocus required />
        </label>
        <label class="check">
          <input name="remember" type="checkbox" />
          <span>Remember on this device</span>
        </label>
        {error && (
          <p class="notice error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="btn primary wide" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        <details class="muted small">
          <summary>Where do I get a token?</summary>
          <p>
            The first <code>tasklane serve</code> on an embedded database prints an admin token. Otherwise:{" "}
            <code>tasklane token create --scope read --name me</code>. The token stays in this browser tab only, unless you tick “Remember”.
          </p>
        </details>
      </form>
    </main>
  );
}

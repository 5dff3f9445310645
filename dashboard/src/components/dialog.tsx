/**
 * Modal dialogs on the native `<dialog>` element: focus moves into it and returns afterwards,
 * Escape closes it, the rest of the page is inert while it is open.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { describeError } from "../api";
import { toast } from "./ui";

export interface DialogProps {
  title: string;
  open: boolean;
  onClose(): void;
  children: ComponentChildren;
}

let dialogs = 0;

export function Dialog({ title, open, onClose, children }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [titleId] = useState(() => `dialog-title-${++dialogs}`);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId}>{title}</h2>
      {open && children}
    </dialog>
  );
}

export interface ActionProps {
  /** Button text. */
  label: string;
  /** Runs the action; its message is shown as a toast. */
  run(values: Record<string, string>): Promise<string | void>;
  /** Ask before running: the question shown. */
  confirm?: ComponentChildren;
  /** Fields of a form dialog. */
  fields?: { name: string; label: string; kind?: "text" | "json"; placeholder?: string; required?: boolean; hint?: string }[];
  /** Button style. */
  variant?: "primary" | "danger" | "plain";
  /** Called after success (to read again). */
  done?(): void;
  testId?: string;
}

/**
 * An operator action as a button: runs at once, or after a confirmation or a small form in a
 * dialog. JSON fields are parsed before sending; errors stay in the dialog.
 */
export function ActionButton({ label, run, confirm, fields, variant = "plain", done, testId }: ActionProps) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const needsDialog = !!confirm || !!fields?.length;

  const execute = async (values: Record<string, string>) => {
    setBusy(true);
    setError(null);
    try {
      const message = await run(values);
      toast(message || `${label}: done`);
      setOpen(false);
      done?.();
    } catch (err) {
      const text = describeError(err);
      if (needsDialog) setError(text);
      else toast(`${label} failed: ${text}`, "error");
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const values: Record<string, string> = {};
    for (const f of fields ?? []) {
      const input = form.elements.namedItem(f.name) as HTMLInputElement | HTMLTextAreaElement | null;
      const v = input?.value ?? "";
      if (f.kind === "json" && v.trim() !== "") {
        try {
          JSON.parse(v);
        } catch (err) {
          setError(`${f.label}: not valid JSON (${(err as Error).message})`);
          input?.focus();
          return;
        }
      }
      values[f.name] = v;
    }
    void execute(values);
  };

  return (
    <>
      <button
        type="button"
        class={`btn ${variant}`}
        disabled={busy}
        data-testid={testId}
        onClick={() => (needsDialog ? (setError(null), setOpen(true)) : void execute({}))}
      >
        {label}
        {needsDialog ? "…" : ""}
      </button>
      {needsDialog && (
        <Dialog title={label} open={open} onClose={() => setOpen(false)}>
          <form method="dialog" onSubmit={submit}>
            {confirm && <div class="confirm-text">{confirm}</div>}
            {fields?.map((f, i) => (
              <label class="field" key={f.name}>
                <span>{f.label}</span>
                {f.kind === "json" ? (
                  <textarea name={f.name} rows={6} placeholder={f.placeholder} spellcheck={false} autoFocus={i === 0} />
                ) : (
                  <input name={f.name} type="text" placeholder={f.placeholder} required={f.required} autoFocus={i === 0} autoComplete="off" />
                )}
                {f.hint && <small class="muted">{f.hint}</small>}
              </label>
            ))}
            {error && (
              <p class="notice error" role="alert">
                {error}
              </p>
            )}
            <div class="dialog-buttons">
              <button type="button" class="btn plain" onClick={() => setOpen(false)}>
                Cancel
              </button>
              <button type="submit" class={`btn ${variant === "plain" ? "primary" : variant}`} disabled={busy} autoFocus={!fields?.length}>
                {busy ? "Working…" : label}
              </button>
            </div>
          </form>
        </Dialog>
      )}
    </>
  );
}

// Small pieces every screen uses: error text, async loading, a labelled field.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";
import { describeError } from "../errors";

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.fields.map((f) => `${f.field}: ${f.message}`).join("; ");
    return fields ? `${error.message} ${fields}` : error.message;
  }
  return describeError("INTERNAL", String(error));
}

export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {errorText(error)}
    </p>
  );
}

/** Load something when `deps` change; `reload()` loads it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && (setData(value), setError(null)),
      (err) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload, setData };
}

/** Run an action with a busy flag and its error kept for display. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

export function Field(props: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span>{props.label}</span>
      {props.children}
      {props.hint ? <small>{props.hint}</small> : null}
    </label>
  );
}

export function Panel(props: { title: string; children: ComponentChildren; class?: string }) {
  return (
    <section class={`panel ${props.class ?? ""}`} aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

export function WalletPicker(props: {
  wallets: { id: number; label: string }[];
  value: number | null;
  onChange: (id: number) => void;
  allowAll?: boolean;
}) {
  return (
    <select
      aria-label="Wallet"
      value={props.value === null ? "" : String(props.value)}
      onChange={(e) => props.onChange(Number((e.target as HTMLSelectElement).value))}
    >
      {props.allowAll ? <option value="">All wallets</option> : null}
      {props.wallets.map((w) => (
        <option key={w.id} value={String(w.id)}>
          {w.label}
        </option>
      ))}
    </select>
  );
}

/** One figure in a row of `.stats`: a label over its value, the value toned (pos/neg) if given. */
export function Stat(props: { label: string; value: ComponentChildren; tone?: string; testid?: string }) {
  return (
    <div class="stat">
      <span>{props.label}</span>
      <strong class={props.tone} data-testid={props.testid}>
        {props.value}
      </strong>
    </div>
  );
}

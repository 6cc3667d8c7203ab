// Creating and editing a bot: start from an example (or from the bot being edited), change its
// code, schema and configuration, and give it a wallet, capital and run settings. The server
// validates everything; its per-field errors are shown beside the fields they name.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../../api";
import { useAction, useLoad } from "../../components/ui";
import { refreshWallets, wallets as walletStore } from "../../data";
import { useStore } from "../../store";
import { botApi, type Bot, type BotDraft, type BotExample, type JsonSchema, type RestartPolicy } from "./api";
import type { CodeEditor as CodeEditorType } from "./codeEditor";
import { type FormValues, formValues, SchemaForm, toConfig } from "./schemaForm";

// CodeMirror is most of the app's weight and only this form needs it: it is fetched on first use.
let editorModule: Promise<typeof CodeEditorType> | null = null;
function loadCodeEditor(): Promise<typeof CodeEditorType> {
  editorModule ??= import("./codeEditor").then((m) => m.CodeEditor);
  return editorModule;
}

const POLICIES: { value: RestartPolicy; words: string }[] = [
  { value: "transient", words: "Transient: restart only after a crash" },
  { value: "permanent", words: "Permanent: always restart" },
  { value: "temporary", words: "Temporary: never restart" },
];

interface Settings {
  name: string;
  walletId: number | null;
  capital: string;
  leverage: string;
  policy: RestartPolicy;
  tick: string;
  keepOrders: boolean;
}

/** The errors of a refused save, split into the configuration's fields and the others. */
function fieldErrors(error: unknown): { config: Record<string, string>; other: Record<string, string> } {
  const config: Record<string, string> = {};
  const other: Record<string, string> = {};
  if (error instanceof ApiError) {
    for (const { field, message } of error.fields) {
      if (field.startsWith("config.")) config[field.slice("config.".length).split(".")[0]] = message;
      else other[field.split(".")[0]] = other[field.split(".")[0]] ? `${other[field.split(".")[0]]}; ${message}` : message;
    }
  }
  return { config, other };
}

export function BotEditor(props: { bot?: Bot; onSaved: (bot: Bot) => void; onCancel: () => void }) {
  const editing = props.bot;
  const walletList = useStore(walletStore) ?? [];
  const examples = useLoad(() => (editing ? Promise.resolve([]) : botApi.examples()), [editing?.id]);
  const [example, setExample] = useState("");
  const [code, setCode] = useState(editing?.code ?? "");
  const [codeKey, setCodeKey] = useState(`bot-${editing?.id ?? "new"}`);
  const [schemaText, setSchemaText] = useState(JSON.stringify(editing?.input_schema ?? { type: "object", properties: {} }, null, 2));
  const [schema, setSchema] = useState<JsonSchema>(editing?.input_schema ?? { type: "object", properties: {} });
  const [schemaError, setSchemaError] = useState("");
  const [values, setValues] = useState<FormValues>(formValues(schema, editing?.config ?? {}));
  const [settings, setSettings] = useState<Settings>({
    name: editing?.name ?? "",
    walletId: editing?.wallet_id ?? null,
    capital: editing?.capital ?? "500",
    leverage: editing?.leverage ?? "1",
    policy: editing?.restart_policy ?? "transient",
    tick: editing?.tick_seconds ?? "5",
    keepOrders: editing?.keep_orders_on_stop ?? false,
  });
  const save = useAction();
  const errors = fieldErrors(save.error);
  const [CodeEditor, setCodeEditor] = useState<typeof CodeEditorType | null>(null);
  useEffect(() => {
    loadCodeEditor().then(
      (component) => setCodeEditor(() => component),
      (error) => save.setError(error),
    );
  }, []);

  useEffect(() => {
    refreshWallets().catch(() => undefined);
  }, []);
  useEffect(() => {
    if (settings.walletId === null && walletList.length) setSettings((s) => ({ ...s, walletId: walletList[0].id }));
  }, [walletList.length]);

  const useExample = (chosen: BotExample) => {
    setCode(chosen.code);
    setCodeKey(`example-${chosen.name}-${Date.now()}`);
    setSchema(chosen.input_schema);
    setSchemaText(JSON.stringify(chosen.input_schema, null, 2));
    setSchemaError("");
    setValues(formValues(chosen.input_schema, chosen.config));
    setSettings((s) => ({ ...s, name: s.name || chosen.name }));
    save.setError(null);
  };

  const editSchema = (text: string) => {
    setSchemaText(text);
    try {
      const parsed = JSON.parse(text);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      setSchema(parsed);
      setSchemaError("");
      setValues((old) => ({ ...formValues(parsed, {}), ...old }));
    } catch {
      setSchemaError("Not valid JSON: the form below still follows the last valid schema.");
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    save.run(async () => {
      if (settings.walletId === null) throw new ApiError(422, "VALIDATION_ERROR", "Choose a wallet.", [{ field: "wallet_id", message: "choose a wallet" }]);
      const draft: BotDraft = {
        name: settings.name.trim(),
        code,
        input_schema: schema,
        config: toConfig(schema, values),
        wallet_id: settings.walletId,
        capital: settings.capital.trim(),
        leverage: settings.leverage.trim(),
        restart_policy: settings.policy,
        tick_seconds: settings.tick.trim(),
        keep_orders_on_stop: settings.keepOrders,
      };
      const saved = editing ? await botApi.update(editing.id, draft) : await botApi.create(draft);
      props.onSaved(saved);
    });
  };

  const set = <K extends keyof Settings>(key: K, value: Settings[K]) => setSettings((s) => ({ ...s, [key]: value }));
  const chosen = (examples.data ?? []).find((e) => e.name === example);

  return (
    <section class="panel" aria-labelledby="bot-editor-title">
      <h2 id="bot-editor-title">{editing ? `Edit ${editing.name}` : "New bot"}</h2>
      {editing ? null : (
        <div class="example-picker">
          <div class="row">
            <div class="field">
              <label for="bot-example">Start from an example</label>
              <select id="bot-example" value={example} onChange={(e) => setExample(e.currentTarget.value)}>
                <option value="">Choose an example…</option>
                {(examples.data ?? []).map((e) => (
                  <option key={e.name} value={e.name}>
                    {e.title}
                  </option>
                ))}
              </select>
            </div>
            <button type="button" disabled={!chosen} onClick={() => chosen && useExample(chosen)}>
              Use this example
            </button>
          </div>
          {chosen ? <p class="muted">{chosen.description}</p> : null}
          {examples.error ? <p class="error" role="alert">{(examples.error as Error).message}</p> : null}
        </div>
      )}
      <form onSubmit={submit} noValidate>
        <Labeled id="bot-name" label="Name" error={errors.other.name}>
          <input id="bot-name" name="name" required maxLength={100} value={settings.name} onInput={(e) => set("name", e.currentTarget.value)} aria-invalid={errors.other.name ? "true" : undefined} />
        </Labeled>
        <div class="field">
          <span id="bot-code-label">Code (Python, defining <code>class Bot</code>)</span>
          {CodeEditor ? (
            <CodeEditor
              value={code}
              resetKey={codeKey}
              label="Bot code"
              invalid={Boolean(errors.other.code)}
              describedBy={errors.other.code ? "bot-code-error" : undefined}
              onChange={setCode}
            />
          ) : (
            <p role="status">Loading the code editor…</p>
          )}
          {errors.other.code ? (
            <small class="error" id="bot-code-error" data-testid="error-code">
              {errors.other.code}
            </small>
          ) : null}
        </div>
        <details class="schema-source">
          <summary>Input schema (JSON Schema the configuration must match)</summary>
          <Labeled id="bot-schema" label="Input schema" error={errors.other.input_schema || schemaError}>
            <textarea id="bot-schema" rows={10} spellcheck={false} class="mono" value={schemaText} onInput={(e) => editSchema(e.currentTarget.value)} />
          </Labeled>
        </details>
        <SchemaForm schema={schema} values={values} errors={errors.config} onChange={setValues} />
        {errors.other.config ? <p class="error">{errors.other.config}</p> : null}
        <fieldset class="bot-settings">
          <legend>Running</legend>
          <div class="settings-grid">
            <Labeled id="bot-wallet" label="Wallet" error={errors.other.wallet_id}>
              {walletList.length ? (
                <select id="bot-wallet" name="wallet_id" value={settings.walletId === null ? "" : String(settings.walletId)} onChange={(e) => set("walletId", Number(e.currentTarget.value))}>
                  {walletList.map((w) => (
                    <option key={w.id} value={String(w.id)}>
                      {w.label}
                    </option>
                  ))}
                </select>
              ) : (
                <p>
                  No wallet yet: <a href="/wallets">add one</a> first.
                </p>
              )}
            </Labeled>
            <Labeled id="bot-capital" label="Capital (USD)" error={errors.other.capital} hint="What the bot may commit; its orders are refused beyond it.">
              <input id="bot-capital" name="capital" inputMode="decimal" value={settings.capital} onInput={(e) => set("capital", e.currentTarget.value)} aria-invalid={errors.other.capital ? "true" : undefined} />
            </Labeled>
            <Labeled id="bot-leverage" label="Leverage" error={errors.other.leverage} hint="1 to 50">
              <input id="bot-leverage" name="leverage" inputMode="decimal" value={settings.leverage} onInput={(e) => set("leverage", e.currentTarget.value)} aria-invalid={errors.other.leverage ? "true" : undefined} />
            </Labeled>
            <Labeled id="bot-tick" label="Tick interval (seconds)" error={errors.other.tick_seconds} hint="0.1 to 3600">
              <input id="bot-tick" name="tick_seconds" inputMode="decimal" value={settings.tick} onInput={(e) => set("tick", e.currentTarget.value)} aria-invalid={errors.other.tick_seconds ? "true" : undefined} />
            </Labeled>
            <Labeled id="bot-policy" label="Restart policy" error={errors.other.restart_policy}>
              <select id="bot-policy" value={settings.policy} onChange={(e) => set("policy", e.currentTarget.value as RestartPolicy)}>
                {POLICIES.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.words}
                  </option>
                ))}
              </select>
            </Labeled>
          </div>
          <label class="check">
            <input type="checkbox" checked={settings.keepOrders} onChange={(e) => set("keepOrders", e.currentTarget.checked)} />
            Keep the bot's resting orders open when it stops
          </label>
        </fieldset>
        {save.error ? (
          <p class="error" role="alert" data-testid="bot-save-error">
            {(save.error as Error).message}
          </p>
        ) : null}
        <div class="actions">
          <button type="submit" disabled={save.busy}>
            {editing ? "Save changes" : "Create bot"}
          </button>
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

function Labeled(props: { id: string; label: string; error?: string; hint?: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint ? <small>{props.hint}</small> : null}
      {props.error ? (
        <small class="error" id={`${props.id}-error`} data-testid={`error-${props.id.replace("bot-", "")}`}>
          {props.error}
        </small>
      ) : null}
    </div>
  );
}

// The configuration form, generated from the bot's input JSON Schema: one input per property
// (text, number, checkbox, or a list for an enum), with the server's per-field errors beside each.
// What the user types is kept as text and converted to the schema's type only when sent, so the
// server (which validates every configuration) reports what is wrong with exactly what was typed.
import type { JsonSchema } from "./api";

export type FormValues = Record<string, string | boolean>;

type Kind = "string" | "number" | "integer" | "boolean" | "json";

function kindOf(schema: JsonSchema): Kind {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type === "string" || type === "number" || type === "integer" || type === "boolean") return type;
  if (!type && schema.enum) return "string";
  return "json";
}

export function properties(schema: JsonSchema): [string, JsonSchema][] {
  return Object.entries(schema.properties ?? {});
}

/** The form's values for a configuration (absent properties take the schema's default). */
export function formValues(schema: JsonSchema, config: Record<string, unknown>): FormValues {
  const values: FormValues = {};
  for (const [name, prop] of properties(schema)) {
    const value = name in config ? config[name] : prop.default;
    const kind = kindOf(prop);
    if (kind === "boolean") values[name] = value === true;
    else if (value === undefined || value === null) values[name] = "";
    else if (kind === "json" || (kind === "string" && typeof value !== "string")) values[name] = JSON.stringify(value);
    else values[name] = String(value);
  }
  return values;
}

/** The configuration the form describes; an empty optional field is left out. */
export function toConfig(schema: JsonSchema, values: FormValues): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [name, prop] of properties(schema)) {
    const value = values[name];
    const kind = kindOf(prop);
    if (kind === "boolean") {
      config[name] = value === true;
      continue;
    }
    const text = typeof value === "string" ? value.trim() : "";
    if (text === "") continue; // the server says so if it was required
    if (kind === "integer" && /^-?\d+$/.test(text)) config[name] = Number(text);
    else if (kind === "number" && text !== "" && Number.isFinite(Number(text))) config[name] = Number(text);
    else if (kind === "string" && prop.enum && !prop.enum.includes(text)) config[name] = safeJson(text);
    else if (kind === "json") config[name] = safeJson(text);
    else config[name] = text;
  }
  return config;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function SchemaForm(props: {
  schema: JsonSchema;
  values: FormValues;
  errors: Record<string, string>;
  onChange: (values: FormValues) => void;
}) {
  const fields = properties(props.schema);
  if (!fields.length) return <p>This bot's input schema has no properties: it takes no configuration.</p>;
  const required = new Set(props.schema.required ?? []);
  const set = (name: string, value: string | boolean) => props.onChange({ ...props.values, [name]: value });
  return (
    <fieldset class="schema-form" data-testid="config-form">
      <legend>Configuration</legend>
      {fields.map(([name, prop]) => {
        const kind = kindOf(prop);
        const id = `config-${name}`;
        const error = props.errors[name];
        const hint = prop.description ?? "";
        const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
        const common = {
          id,
          name: `config.${name}`,
          "aria-invalid": error ? ("true" as const) : undefined,
          "aria-describedby": describedBy || undefined,
        };
        const label = `${prop.title ?? name}${required.has(name) ? "" : " (optional)"}`;
        let input;
        if (kind === "boolean") {
          input = (
            <input
              {...common}
              type="checkbox"
              checked={props.values[name] === true}
              onChange={(e) => set(name, e.currentTarget.checked)}
            />
          );
        } else if (prop.enum) {
          input = (
            <select {...common} value={String(props.values[name] ?? "")} onChange={(e) => set(name, e.currentTarget.value)}>
              {required.has(name) ? null : <option value="">—</option>}
              {prop.enum.map((option) => (
                <option key={String(option)} value={String(option)}>
                  {String(option)}
                </option>
              ))}
            </select>
          );
        } else {
          input = (
            <input
              {...common}
              type="text"
              inputMode={kind === "integer" ? "numeric" : kind === "number" ? "decimal" : undefined}
              spellcheck={false}
              value={String(props.values[name] ?? "")}
              onInput={(e) => set(name, e.currentTarget.value)}
            />
          );
        }
        return (
          <div class={kind === "boolean" ? "field check-field" : "field"} key={name}>
            <label for={id}>{label}</label>
            {input}
            {hint ? (
              <small id={`${id}-hint`}>
                {hint}
                {kind === "integer" || kind === "number" ? ` (${kind}${range(prop)})` : ""}
              </small>
            ) : null}
            {error ? (
              <small class="error" id={`${id}-error`} data-testid={`error-${name}`}>
                {error}
              </small>
            ) : null}
          </div>
        );
      })}
    </fieldset>
  );
}

function range(prop: JsonSchema): string {
  if (prop.minimum !== undefined && prop.maximum !== undefined) return `, ${prop.minimum} to ${prop.maximum}`;
  if (prop.minimum !== undefined) return `, at least ${prop.minimum}`;
  if (prop.maximum !== undefined) return `, at most ${prop.maximum}`;
  return "";
}

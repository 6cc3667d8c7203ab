// The bot's Python source in CodeMirror 6. The editor owns its text while it is mounted; the
// form learns of every change through onChange, and a new `resetKey` (another example picked,
// another bot loaded) replaces the text.
//
// The editor lives in a shadow root: CodeMirror styles a document with a <style> element, which
// the app's Content-Security-Policy (style-src 'self') forbids, but styles a shadow root with a
// constructed stylesheet, which it allows. The app's colour variables still reach inside.
import { python } from "@codemirror/lang-python";
import { basicSetup, EditorView } from "codemirror";
import { useEffect, useRef } from "preact/hooks";

// Colours from the app's own palette, so the gutter and cursor keep their contrast in both schemes.
const palette = EditorView.theme({
  "&": { backgroundColor: "var(--bg)", color: "var(--text)", border: "1px solid var(--border)", borderRadius: "var(--radius)" },
  "&.cm-focused": { outline: "2px solid var(--accent)" },
  ".cm-content": { fontFamily: "ui-monospace, monospace", caretColor: "var(--text)" },
  ".cm-gutters": { backgroundColor: "var(--panel)", color: "var(--muted)", borderRight: "1px solid var(--border)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--grid)", color: "var(--text)" },
  ".cm-activeLine": { backgroundColor: "transparent" },
  ".cm-scroller": { maxHeight: "28rem", minHeight: "12rem", overflow: "auto" },
});

export function CodeEditor(props: {
  value: string;
  resetKey: string;
  label: string;
  invalid?: boolean;
  describedBy?: string;
  onChange: (code: string) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    // tabindex: a contenteditable is focusable anyway, but saying so lets checkers see the scroller is reachable.
    const attributes: Record<string, string> = { "aria-label": props.label, "aria-multiline": "true", tabindex: "0" };
    if (props.describedBy) attributes["aria-describedby"] = props.describedBy;
    if (props.invalid) attributes["aria-invalid"] = "true";
    const host = box.current!;
    const shadow = host.shadowRoot ?? host.attachShadow({ mode: "open" });
    const parent = document.createElement("div");
    shadow.replaceChildren(parent);
    const made = new EditorView({
      doc: props.value,
      root: shadow,
      parent,
      extensions: [
        basicSetup,
        python(),
        palette,
        EditorView.contentAttributes.of(attributes),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange.current(update.state.doc.toString());
        }),
      ],
    });
    view.current = made;
    return () => {
      made.destroy();
      view.current = null;
    };
  }, [props.resetKey, props.invalid]);

  return <div class="code-editor" ref={box} data-testid="code-editor" />;
}

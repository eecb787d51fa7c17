// The script editor: CodeMirror 6 with a small stream tokenizer for the Flux-like language, bracket matching
// and closing, completion of functions (from /api/v2/query/suggestions), their arguments and schema names
// (buckets, measurements, fields, tags from live schema queries), Ctrl+Enter to run, errors marked at their
// line and column.

import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type Completion, type CompletionContext, type CompletionResult } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, HighlightStyle, indentOnInput, StreamLanguage, syntaxHighlighting, type StringStream } from "@codemirror/language";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { EditorState } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { tags as t } from "@lezer/highlight";
import type { FunctionSuggestion } from "./api";

const keywords = new Set(["import", "package", "option", "return", "if", "then", "else", "and", "or", "not", "exists", "testcase", "builtin"]);
const atoms = new Set(["true", "false", "null"]);

interface FluxState { inString: boolean }

function fluxToken(stream: StringStream, state: FluxState): string | null {
    if (state.inString) {
      while (!stream.eol()) {
        const ch = stream.next();
        if (ch === "\\") stream.next();
        else if (ch === '"') { state.inString = false; return "string"; }
      }
      return "string";
    }
    if (stream.eatSpace()) return null;
    if (stream.match("//")) { stream.skipToEnd(); return "comment"; }
    if (stream.peek() === '"') { stream.next(); state.inString = true; return fluxToken(stream, state); }
    if (stream.match(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?/)) return "atom";
    if (stream.match(/^(\d+(ns|us|µs|ms|mo|s|m|h|d|w|y))+/)) return "number";
    if (stream.match(/^\d+(\.\d+)?([eE][+-]?\d+)?/)) return "number";
    if (stream.match("|>") || stream.match("<-") || stream.match("=>")) return "operator";
    if (stream.match(/^[=!<>]=?|^=~|^!~|^[+\-*/%^]/)) return "operator";
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) {
      const word = stream.current();
      if (keywords.has(word)) return "keyword";
      if (atoms.has(word)) return "atom";
      if (stream.match(/^\s*\(/, false)) return "function";
      if (stream.match(/^\s*:/, false)) return "property";
      return "variable";
    }
    stream.next();
    return null;
}

const flux = StreamLanguage.define<FluxState>({
  name: "flux",
  startState: () => ({ inString: false }),
  token: fluxToken,
  tokenTable: { function: t.function(t.variableName), property: t.propertyName },
  languageData: { commentTokens: { line: "//" }, closeBrackets: { brackets: ["(", "[", "{", '"'] } },
});

const highlight = HighlightStyle.define([
  { tag: t.keyword, color: "var(--syn-keyword)", fontWeight: "bold" },
  { tag: t.string, color: "var(--syn-string)" },
  { tag: t.number, color: "var(--syn-number)" },
  { tag: t.atom, color: "var(--syn-number)" },
  { tag: t.comment, color: "var(--syn-comment)", fontStyle: "italic" },
  { tag: t.function(t.variableName), color: "var(--syn-function)" },
  { tag: t.propertyName, color: "var(--syn-property)" },
  { tag: t.operator, color: "var(--syn-operator)" },
]);

/** What completion knows about the data: filled by the caller from schema queries, possibly lazily. */
export interface SchemaSource {
  buckets(): string[];
  measurements(bucket: string): Promise<string[]>;
  fields(bucket: string): Promise<string[]>;
  tagKeys(bucket: string): Promise<string[]>;
  variables(): string[];
}

let functions: FunctionSuggestion[] = [];

export function setFunctions(list: FunctionSuggestion[]): void {
  functions = list;
}

function signature(f: FunctionSuggestion): string {
  return `${f.name}(${f.params.map((p) => `${p.name}${p.required ? "" : "?"}: ${p.type}`).join(", ")})`;
}

function importedPackages(doc: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of doc.matchAll(/^\s*import\s+(?:(\w+)\s+)?"([^"]+)"/gm)) map.set(m[1] ?? m[2].split("/").pop()!, m[2]);
  return map;
}

// The function whose argument list the cursor is in, found by walking back over balanced brackets.
function enclosingCall(text: string): string | null {
  let depth = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text[i];
    if (c === ")" || c === "]" || c === "}") depth++;
    else if (c === "[" || c === "{") { if (depth === 0) return null; depth--; }
    else if (c === "(") {
      if (depth > 0) { depth--; continue; }
      const m = /([\w.]+)\s*$/.exec(text.slice(0, i));
      return m ? m[1] : null;
    }
  }
  return null;
}

function completer(schema: SchemaSource) {
  return async (ctx: CompletionContext): Promise<CompletionResult | null> => {
    const doc = ctx.state.doc.toString();
    const before = doc.slice(Math.max(0, ctx.pos - 2000), ctx.pos);
    const bucket = /from\s*\(\s*bucket\s*:\s*"([^"]*)"/.exec(doc)?.[1] ?? schema.buckets()[0] ?? "";

    // inside a string: bucket names, measurements, fields, tag keys depending on what precedes it
    const str = /(bucket\s*:\s*|r\._measurement\s*==\s*|r\._field\s*==\s*|r\.(\w+)\s*==\s*)"([^"]*)$/.exec(before);
    if (str) {
      const from = ctx.pos - str[3].length;
      const lead = str[1];
      let names: string[] = [];
      if (lead.startsWith("bucket")) names = schema.buckets();
      else if (lead.includes("_measurement")) names = await schema.measurements(bucket);
      else if (lead.includes("_field")) names = await schema.fields(bucket);
      else return null;
      return { from, options: names.map((n) => ({ label: n, type: "text" })), validFor: /^[^"]*$/ };
    }

    // r.<tag> and v.<variable>
    const member = /\b([rv])\.(\w*)$/.exec(before);
    if (member) {
      const names = member[1] === "v"
        ? ["timeRangeStart", "timeRangeStop", "windowPeriod", ...schema.variables()]
        : ["_measurement", "_field", "_value", "_time", ...(await schema.tagKeys(bucket))];
      return { from: ctx.pos - member[2].length, options: names.map((n) => ({ label: n, type: "property" })), validFor: /^\w*$/ };
    }

    // package members: strings.<fn>
    const pkg = /\b(\w+)\.(\w*)$/.exec(before);
    if (pkg) {
      const path = importedPackages(doc).get(pkg[1]);
      if (!path) return null;
      const options: Completion[] = functions.filter((f) => f.package === path).map((f) => ({ label: f.name, type: "function", detail: signature(f), apply: f.name + "(" }));
      return { from: ctx.pos - pkg[2].length, options, validFor: /^\w*$/ };
    }

    const word = ctx.matchBefore(/\w*/);
    if (!word || (word.from === word.to && !ctx.explicit)) return null;

    // argument names of the call the cursor is in, when at an argument's start
    const call = enclosingCall(before.slice(0, before.length - (word.to - word.from)));
    if (call && /[(,]\s*$/.test(before.slice(0, before.length - (word.to - word.from)))) {
      const [p, n] = call.includes(".") ? call.split(".") : ["", call];
      const path = p ? importedPackages(doc).get(p) ?? "" : "";
      const f = functions.find((x) => x.name === n && x.package === path);
      if (f) {
        return {
          from: word.from,
          options: f.params.map((a) => ({ label: a.name, type: "variable", detail: a.type + (a.required ? " (required)" : ""), apply: a.name + ": ", boost: a.required ? 1 : 0 })),
          validFor: /^\w*$/,
        };
      }
    }

    const options: Completion[] = [
      ...functions.filter((f) => f.package === "").map((f) => ({ label: f.name, type: "function", detail: signature(f), apply: f.name + "(" })),
      ...[...keywords].map((k) => ({ label: k, type: "keyword" })),
      { label: "v", type: "variable", detail: "time range and dashboard variables" },
    ];
    return { from: word.from, options, validFor: /^\w*$/ };
  };
}

export interface ScriptEditor {
  view: EditorView;
  text(): string;
  setText(text: string): void;
  /** Marks an error at a 1-based line and column (none: clears). */
  showError(message: string | null, line?: number, column?: number): void;
}

export function createEditor(parent: HTMLElement, initial: string, schema: SchemaSource, onRun: () => void, onChange?: (text: string) => void): ScriptEditor {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: initial,
      extensions: [
        lineNumbers(),
        history(),
        drawSelection(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        flux,
        syntaxHighlighting(highlight),
        autocompletion({ override: [completer(schema)], activateOnTyping: true }),
        lintGutter(),
        placeholder("from(bucket: \"…\") |> range(start: v.timeRangeStart) …   (Ctrl+Enter runs)"),
        keymap.of([
          { key: "Mod-Enter", run: () => { onRun(); return true; } },
          ...closeBracketsKeymap, ...completionKeymap, ...searchKeymap, ...historyKeymap, ...defaultKeymap, indentWithTab,
        ]),
        EditorView.updateListener.of((u) => { if (u.docChanged) onChange?.(u.state.doc.toString()); }),
        EditorView.contentAttributes.of({ "aria-label": "Script editor", spellcheck: "false" }),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText(text: string) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    showError(messageText, line, column) {
      if (!messageText || line === undefined) { view.dispatch(setDiagnostics(view.state, [])); return; }
      const doc = view.state.doc;
      const l = doc.line(Math.max(1, Math.min(line, doc.lines)));
      const from = Math.min(l.to, l.from + Math.max(0, (column ?? 1) - 1));
      const to = Math.min(l.to, from + 1) > from ? Math.min(l.to, from + 1) : from;
      view.dispatch(setDiagnostics(view.state, [{ from, to, severity: "error", message: messageText }]));
    },
  };
}

// The playground's policy editor: CodeMirror 6 with YAML highlighting,
// the engine's errors and warnings as diagnostics, completion of facts,
// params, lets and helpers, folding and search. esbuild bundles this file
// into web/editor.bundle.js (make editor), which is committed: the demo
// needs no npm. It defines globalThis.ConnrulesEditor.create.

import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  syntaxHighlighting, defaultHighlightStyle, foldGutter, foldKeymap, indentOnInput, bracketMatching,
} from "@codemirror/language";
import { lintGutter, setDiagnostics, lintKeymap, forEachDiagnostic } from "@codemirror/lint";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { search, searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { yaml } from "@codemirror/lang-yaml";
import reference from "../../../docs/reference.json";

// Facts and helpers come from docs/reference.json, generated from the
// engine: the editor never lists them twice.
const factOptions = reference.facts.map((f) => ({
  label: f.path, type: "property", detail: f.type, info: f.doc,
}));
const helperOptions = reference.helpers.map((h) => ({
  label: h.name, type: "function", detail: "helper", apply: h.name + "(",
  info: h.doc + (h.example ? "\ne.g. " + h.example : ""),
}));

// blockKeys returns the keys of a top-level block (params: or let:) with
// their dotted paths, read from the text by indentation: the policy may
// not load while it is being typed, so the engine cannot be asked.
export function blockKeys(text, block) {
  const lines = text.split("\n");
  const out = [];
  const stack = []; // [indent, key]
  let inside = false;
  for (const line of lines) {
    if (/^\S/.test(line)) {
      inside = line.startsWith(block + ":");
      stack.length = 0;
      continue;
    }
    if (!inside) continue;
    const m = /^(\s+)([A-Za-z_][\w-]*)\s*:(.*)$/.exec(line);
    if (!m) continue;
    const indent = m[1].length;
    while (stack.length && stack[stack.length - 1][0] >= indent) stack.pop();
    stack.push([indent, m[2]]);
    out.push(stack.map((s) => s[1]).join("."));
    // A flow map on one line, e.g. free: {daily: 30, weekly: 300}.
    const flow = /^\s*\{(.*)\}\s*(#.*)?$/.exec(m[3]);
    if (flow) {
      for (const kv of flow[1].split(",")) {
        const k = /^\s*([A-Za-z_][\w-]*)\s*:/.exec(kv);
        if (k) out.push(stack.map((s) => s[1]).join(".") + "." + k[1]);
      }
    }
  }
  return out;
}

function policyCompletions(ctx) {
  const word = ctx.matchBefore(/[A-Za-z_][\w.]*/);
  if (!word && !ctx.explicit) return null;
  const text = ctx.state.doc.toString();
  const params = blockKeys(text, "params").map((p) => ({ label: "params." + p, type: "variable", detail: "param" }));
  const lets = blockKeys(text, "let").filter((l) => !l.includes(".")).map((l) => ({ label: l, type: "variable", detail: "let" }));
  const options = [...factOptions, ...params, ...lets, ...helperOptions];
  const from = word ? word.from : ctx.pos;
  const typed = word ? word.text : "";
  // After "sender." and the like, offer only what continues the path.
  const dot = typed.lastIndexOf(".");
  const list = dot < 0 ? options : options.filter((o) => o.label.startsWith(typed.slice(0, dot + 1)));
  return { from, options: list, validFor: /^[\w.]*$/ };
}

// toDiagnostics turns the engine's errors and warnings ({pos: {line,
// column}, rule, message}) into CodeMirror diagnostics: from the column to
// the end of the word there.
function toDiagnostics(doc, errors, warnings) {
  const out = [];
  const add = (e, severity) => {
    const ln = doc.line(Math.min(Math.max(1, e.pos.line || 1), doc.lines));
    const from = ln.from + Math.min(Math.max(0, (e.pos.column || 1) - 1), ln.length);
    const rest = ln.text.slice(from - ln.from);
    const m = /^[\w.$-]+/.exec(rest) || /^\S+/.exec(rest);
    const to = Math.min(ln.to, from + (m ? m[0].length : 1));
    out.push({
      from, to: Math.max(to, from), severity, source: e.kind || (severity === "error" ? "load" : "lint"),
      message: (e.rule ? `rule “${e.rule}”: ` : "") + e.message,
    });
  };
  for (const e of errors || []) add(e, "error");
  for (const w of warnings || []) add(w, "warning");
  return out;
}

const theme = EditorView.theme({
  "&": { height: "100%", fontSize: "13px" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", lineHeight: "1.45" },
});

// create mounts an editor in parent. onChange(text) runs after every edit.
function create(parent, { doc = "", onChange = () => {} } = {}) {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), foldGutter(), lintGutter(),
        highlightSpecialChars(), history(), drawSelection(), indentOnInput(), bracketMatching(),
        closeBrackets(), highlightActiveLine(), highlightSelectionMatches(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        yaml(), search({ top: true }),
        autocompletion({ override: [policyCompletions], activateOnTyping: true }),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap,
          ...foldKeymap, ...completionKeymap, ...lintKeymap, indentWithTab]),
        EditorState.tabSize.of(2),
        theme,
        EditorView.contentAttributes.of({ "aria-label": "Policy YAML editor. Every edit is checked as you type." }),
        EditorView.updateListener.of((u) => { if (u.docChanged) onChange(u.state.doc.toString()); }),
      ],
    }),
  });
  return {
    view,
    getValue: () => view.state.doc.toString(),
    // setValue replaces the whole text as one edit (undoable), and runs onChange.
    setValue(text) { view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }); },
    // replace edits the first occurrence of find, as a user would.
    replace(find, repl) {
      const i = view.state.doc.toString().indexOf(find);
      if (i < 0) return false;
      view.dispatch({ changes: { from: i, to: i + find.length, insert: repl } });
      return true;
    },
    setProblems(errors, warnings) {
      view.dispatch(setDiagnostics(view.state, toDiagnostics(view.state.doc, errors, warnings)));
    },
    // diagnostics lists what the editor shows: {line, column, severity, message}.
    diagnostics() {
      const out = [];
      forEachDiagnostic(view.state, (d, from) => {
        const ln = view.state.doc.lineAt(from);
        out.push({ line: ln.number, column: from - ln.from + 1, severity: d.severity, message: d.message });
      });
      return out;
    },
    gotoLine(line, col = 1) {
      const ln = view.state.doc.line(Math.min(Math.max(1, line), view.state.doc.lines));
      const pos = ln.from + Math.min(Math.max(0, col - 1), ln.length);
      view.dispatch({ selection: { anchor: pos, head: ln.to }, scrollIntoView: true });
      view.focus();
    },
    focus: () => view.focus(),
  };
}

globalThis.ConnrulesEditor = Object.freeze({ create, blockKeys });

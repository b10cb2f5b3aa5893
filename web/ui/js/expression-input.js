// @ts-check
// The expression editor: an input whose text is highlighted as it is typed (a layer of coloured spans behind the
// transparent text), with completion of columns and functions (a listbox under the input: arrows, Enter or Tab,
// Escape; Ctrl+Space asks), and the span an error names underlined. Tokenizing, completing and reading an error's
// span are pure (unit-tested).
import { api } from "./api.js";
import { h } from "./dom.js";

const KEYWORDS = new Set(["and", "or", "not", "in", "is", "null", "true", "false", "like", "ilike", "between", "case", "when", "then", "else", "end",
  "distinct", "as", "cast"]);

/**
 * @typedef {{kind: "string"|"number"|"keyword"|"function"|"column"|"param"|"operator"|"space"|"other", text: string, start: number}} Token
 * @typedef {{name: string, summary: string, min_arguments: number, max_arguments: number}} FunctionInfo
 * @typedef {{label: string, detail: string, insert: string}} Option
 */

/**
 * The tokens of an expression, covering every character (an unclosed string runs to the end).
 * @param {string} text
 * @returns {Token[]}
 */
export function tokenize(text) {
  /** @type {Token[]} */
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const start = i, c = text[i];
    /** @type {Token["kind"]} */
    let kind;
    if (/\s/.test(c)) { while (i < text.length && /\s/.test(text[i])) i++; kind = "space"; }
    else if (c === "'") {
      i++;
      while (i < text.length) { if (text[i] === "'" && text[i + 1] === "'") i += 2; else if (text[i] === "'") { i++; break; } else i++; }
      kind = "string";
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i++;
      i = Math.min(text.length, i + 1);
      kind = "column";
    } else if (c === "$" && text[i + 1] === "{") {
      while (i < text.length && text[i] !== "}") i++;
      i = Math.min(text.length, i + 1);
      kind = "param";
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(text[i + 1] ?? ""))) {
      while (i < text.length && /[0-9._eE]/.test(text[i])) i++;
      kind = "number";
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
      const word = text.slice(start, i);
      let next = i;
      while (next < text.length && text[next] === " ") next++;
      kind = KEYWORDS.has(word.toLowerCase()) ? "keyword" : text[next] === "(" ? "function" : "column";
    } else if ("<>=!+-*/%|".includes(c)) {
      while (i < text.length && "<>=!|".includes(text[i]) && i - start < 2) i++;
      if (i === start) i++;
      kind = "operator";
    } else { i++; kind = "other"; }
    tokens.push({ kind, text: text.slice(start, i), start });
  }
  return tokens;
}

/**
 * What to offer at `caret`: the columns, then the functions, whose names start with the word being typed (all of
 * them when `asked` and no word is typed). Null inside a string or a quoted name, or when nothing matches.
 * @param {string} text
 * @param {number} caret
 * @param {string[]} columns
 * @param {FunctionInfo[]} functions
 * @param {boolean} [asked] Ctrl+Space: offer even before a letter is typed
 * @returns {{from: number, to: number, options: Option[]}|null}
 */
export function completionAt(text, caret, columns, functions, asked = false) {
  const token = tokenize(text.slice(0, caret)).at(-1);
  if (token && (token.kind === "string" || token.kind === "param" || (token.kind === "column" && token.text.startsWith('"')))) return null;
  const word = token && (token.kind === "column" || token.kind === "function" || token.kind === "keyword") ? token.text : "";
  if (!word && !asked) return null;
  const from = caret - word.length;
  let to = caret;
  while (to < text.length && /[A-Za-z0-9_]/.test(text[to])) to++;
  const prefix = word.toLowerCase();
  /** @type {Option[]} */
  const options = [
    ...columns.filter((c) => c.toLowerCase().startsWith(prefix)).map((c) => ({ label: c, detail: "column", insert: /^[A-Za-z_][A-Za-z0-9_]*$/.test(c) && !KEYWORDS.has(c.toLowerCase()) ? c : `"${c}"` })),
    ...functions.filter((f) => f.name.startsWith(prefix)).map((f) => ({ label: `${f.name}()`, detail: f.summary, insert: `${f.name}(` })),
  ];
  if (!options.length || (options.length === 1 && options[0].insert === word)) return null;
  return { from, to, options: options.slice(0, 50) };
}

/**
 * The span an expression error names (`… (at column 11-14)` followed by the caret diagram), as 0-based offsets,
 * and the message without the diagram. Null span when the message names none.
 * @param {string} message
 * @returns {{text: string, span: {start: number, end: number}|null}}
 */
export function errorSpan(message) {
  const first = message.split("\n")[0];
  const match = /\(at column (\d+)(?:-(\d+))?\)/.exec(first);
  if (!match) return { text: message, span: null };
  const start = Number(match[1]) - 1, end = match[2] ? Number(match[2]) : start + 1;
  return { text: first.replace(match[0], `(column ${match[1]}${match[2] ? `–${match[2]}` : ""})`).trim(), span: { start, end } };
}

/** @type {Promise<FunctionInfo[]>|null} */
let functionList = null;
/** The expression functions, asked once per page load. */
const functions = () => (functionList ??= api("GET", "/api/v1/expression-functions").catch(() => []));

let instances = 0;

/**
 * Makes `input` an expression editor, in its place when it has one. Returns the editor's `element` and
 * `mark(message|null)`, which underlines the span an error names.
 * @param {HTMLInputElement} input
 * @param {{columns?: string[]}} options
 */
export function enhanceExpression(input, options = {}) {
  const id = `expr-${++instances}`;
  const layer = h("div", { class: "expr-highlight", "aria-hidden": "true" });
  const list = h("ul", { class: "expr-complete", id: `${id}-options`, role: "listbox", hidden: true });
  const box = h("div", { class: "expr" });
  if (input.parentNode) input.replaceWith(box);
  box.append(layer, input, list);
  input.classList.add("expr-input", "code");
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  input.spellcheck = false;
  /** @type {FunctionInfo[]} */
  let known = [];
  functions().then((list) => { known = list; });
  /** @type {{start: number, end: number}|null} */
  let bad = null;
  /** @type {{from: number, to: number, options: Option[]}|null} */
  let offer = null;
  let active = 0;

  function paint() {
    const text = input.value;
    layer.replaceChildren(...tokenize(text).flatMap((token) => {
      // A token crossing the error's edges is cut there, so exactly the named characters are underlined.
      const cuts = [token.start, token.start + token.text.length];
      if (bad) for (const at of [bad.start, bad.end]) if (at > cuts[0] && at < cuts[1]) cuts.splice(1, 0, at);
      cuts.sort((a, b) => a - b);
      return cuts.slice(0, -1).map((from, i) => {
        const inBad = bad !== null && from >= bad.start && from < Math.max(bad.end, bad.start + 1);
        return h("span", { class: `tok-${token.kind}${inBad ? " expr-bad" : ""}` }, text.slice(from, cuts[i + 1]));
      });
    }));
    // A caret past the end (the expression ends too early) is shown as a marked space.
    if (bad && bad.start >= text.length) layer.append(h("span", { class: "expr-bad" }, " "));
    layer.scrollLeft = input.scrollLeft;
  }

  function close() {
    offer = null;
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  /** @param {boolean} asked */
  function suggest(asked) {
    offer = completionAt(input.value, input.selectionStart ?? input.value.length, options.columns ?? [], known, asked);
    if (!offer) { close(); return; }
    active = 0;
    drawList();
  }

  function drawList() {
    if (!offer) return;
    list.replaceChildren(...offer.options.map((option, i) => h("li", { id: `${id}-option-${i}`, role: "option", class: i === active ? "active" : "",
      "aria-selected": String(i === active), onpointerdown: (/** @type {PointerEvent} */ event) => { event.preventDefault(); accept(i); } },
      h("span", { class: "expr-option" }, option.label), h("span", { class: "hint" }, ` ${option.detail}`))));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.setAttribute("aria-activedescendant", `${id}-option-${active}`);
    list.children[active]?.scrollIntoView({ block: "nearest" });
  }

  /** @param {number} i */
  function accept(i) {
    if (!offer) return;
    const option = offer.options[i];
    input.value = input.value.slice(0, offer.from) + option.insert + input.value.slice(offer.to);
    const caret = offer.from + option.insert.length;
    input.setSelectionRange(caret, caret);
    close();
    paint();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  input.addEventListener("input", () => { bad = null; paint(); if (document.activeElement === input) suggest(false); });
  input.addEventListener("scroll", () => { layer.scrollLeft = input.scrollLeft; });
  input.addEventListener("blur", () => close());
  input.addEventListener("keydown", (event) => {
    if (event.key === " " && event.ctrlKey) { event.preventDefault(); suggest(true); return; }
    if (!offer) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + offer.options.length) % offer.options.length;
      drawList();
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      event.stopPropagation();
      accept(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  // The caret moves sideways through long text: the layer follows.
  input.addEventListener("keyup", () => { layer.scrollLeft = input.scrollLeft; });
  paint();
  return {
    element: box,
    /**
     * Underlines the span `message` names (or clears it); returns the message without its caret diagram.
     * @param {string|null} message
     */
    mark(message) {
      const found = message ? errorSpan(message) : { text: "", span: null };
      bad = found.span;
      paint();
      return found.text;
    },
  };
}

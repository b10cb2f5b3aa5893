// @ts-check
// The structured inputs of settings forms: a tag input for lists of words or expressions and key/value rows for
// flat mappings (a CSV schema, computed columns, aggregates). Each pairs a pure model (what the widget shows for a
// value, and the value it reads back: unit-tested over the whole node catalog) with its DOM. Text typed or pasted
// as YAML or JSON (`[a, b]`, `{amount: decimal(12,2)}`) is read too.
import { h } from "./dom.js";
import { parseValue } from "./form.js";
import { enhanceExpression } from "./expression-input.js";

/**
 * @typedef {import("./form.js").FieldSpec} FieldSpec
 * @typedef {{key: string, value: string, json: boolean}} PairRow a row; `json` when the value is not a string
 */

/**
 * Which widget a field gets: tags, key/value pairs, or a text input.
 * @param {FieldSpec} field
 * @returns {"tags"|"pairs"|"text"}
 */
export function widgetOf(field) {
  if (field.kind === "list" && (field.type === "list of string" || field.type === "list of expression")) return "tags";
  if (field.kind === "schema" || (field.kind === "map" && ["map of string", "map of expression", "map of duration"].includes(field.type))) return "pairs";
  return "text";
}

/**
 * The chips a list shows: one per item, non-strings as JSON.
 * @param {unknown} value
 * @returns {string[]}
 */
export function tagsOf(value) {
  if (!Array.isArray(value)) return value === undefined || value === null ? [] : [String(value)];
  return value.map((item) => typeof item === "string" ? item : JSON.stringify(item));
}

/**
 * The items of text typed into a tag input: a YAML/JSON list, words separated by commas (a list of words), or one
 * expression (expressions hold commas of their own).
 * @param {FieldSpec} field
 * @param {string} text
 * @returns {string[]}
 */
export function typedTags(field, text) {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  if (trimmed.startsWith("[") || field.type !== "list of expression") {
    const items = /** @type {unknown[]} */ (parseValue(field, trimmed) ?? []);
    return items.map((item) => typeof item === "string" ? item : JSON.stringify(item));
  }
  return [trimmed];
}

/**
 * The list a tag input holds: its chips, then what is still typed; undefined when empty.
 * @param {FieldSpec} field
 * @param {string[]} tags
 * @param {string} pending
 */
export function listFromTags(field, tags, pending) {
  const items = [...tags, ...typedTags(field, pending)];
  return items.length ? items : undefined;
}

/**
 * The rows a mapping shows.
 * @param {unknown} value
 * @returns {PairRow[]}
 */
export function pairsOf(value) {
  if (value === undefined || value === null || typeof value !== "object" || Array.isArray(value)) return [];
  return Object.entries(value).map(([key, v]) => typeof v === "string" ? { key, value: v, json: false } : { key, value: JSON.stringify(v), json: true });
}

/**
 * The mapping rows hold; a key typed as a whole YAML/JSON mapping (`{a: b, c: d}`, value left empty) adds its
 * entries. Throws naming the row when a key is missing or repeated.
 * @param {FieldSpec} field
 * @param {PairRow[]} rows
 * @returns {Record<string, unknown>|undefined}
 */
export function mapFromPairs(field, rows) {
  /** @type {Record<string, unknown>} */
  const map = {};
  rows.forEach((row, i) => {
    const key = row.key.trim(), text = row.value.trim();
    if (key === "" && text === "") return;
    if (key.startsWith("{") && text === "") {
      Object.assign(map, parseValue(field, key));
      return;
    }
    if (key === "") throw new Error(`${field.name}: row ${i + 1} needs a name`);
    if (Object.hasOwn(map, key)) throw new Error(`${field.name}: '${key}' is given twice`);
    if (row.json) {
      try { map[key] = JSON.parse(text); return; } catch { /* edited into plain text */ }
    }
    map[key] = text;
  });
  return Object.keys(map).length ? map : undefined;
}

/** The column types a CSV schema may name (offered in its type fields). */
export const COLUMN_TYPES = ["string", "int64", "float64", "boolean", "date", "timestamp", "decimal(12,2)", "decimal(38,10)", "json"];

/**
 * A tag input: chips with a remove button, and a text input (`id`) where Enter (or a comma, for words) adds the
 * typed items; Backspace on an empty input removes the last chip. `suggestions` are offered while typing.
 * @param {FieldSpec} field
 * @param {unknown} current
 * @param {string} id
 * @param {string|null} suggestions the id of a datalist
 * @param {boolean} disabled
 */
export function tagInput(field, current, id, suggestions, disabled) {
  let tags = tagsOf(current);
  const chips = h("span", { class: "tag-chips" });
  const input = /** @type {HTMLInputElement} */ (h("input", { id, name: field.name, type: "text", class: "tag-entry", autocomplete: "off", disabled,
    placeholder: tags.length ? "" : (field.type === "list of expression" ? "an expression, then Enter" : "type a name, then Enter"),
    ...(suggestions ? { list: suggestions } : {}) }));
  const element = h("div", { class: "tags", "data-widget": "tags", "data-field": field.name }, chips, input);
  const draw = () => chips.replaceChildren(...tags.map((tag, i) => h("span", { class: "tag", "data-tag": tag }, tag,
    disabled ? "" : h("button", { type: "button", class: "tag-remove", "aria-label": `Remove ${tag}`, title: `Remove ${tag}`,
      onclick: () => { tags = tags.filter((_, j) => j !== i); draw(); input.focus(); } }, "×"))));
  const commit = () => {
    const added = typedTags(field, input.value);
    if (!added.length) return;
    tags = [...tags, ...added];
    input.value = "";
    draw();
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || (event.key === "," && field.type !== "list of expression" && !input.value.trim().startsWith("["))) {
      if (!input.value.trim()) return;
      event.preventDefault();
      try { commit(); } catch { /* left as typed: Apply names the mistake */ }
    } else if (event.key === "Backspace" && input.value === "" && tags.length) {
      tags = tags.slice(0, -1);
      draw();
    }
  });
  // Choosing a suggestion adds it at once.
  input.addEventListener("change", () => { if (suggestions && input.value.trim()) { try { commit(); } catch { /* see above */ } } });
  element.addEventListener("click", (event) => { if (event.target === element || event.target === chips) input.focus(); });
  draw();
  return { element, focusTarget: () => input, value: () => listFromTags(field, tags, input.value) };
}

/**
 * Key/value rows with a remove button each and an Add button; the first key input carries `id` (its label's
 * target). `keySuggestions`/`valueSuggestions` are datalist ids offered in the key and value inputs.
 * @param {FieldSpec} field
 * @param {unknown} current
 * @param {string} id
 * @param {{keys?: string|null, values?: string|null, columns?: string[]}} suggestions columns: completed in expression values
 * @param {boolean} disabled
 */
export function pairInput(field, current, id, suggestions, disabled) {
  /** @type {{row: HTMLElement, key: HTMLInputElement, value: HTMLInputElement, json: boolean}[]} */
  let rows = [];
  const list = h("div", { class: "pair-rows" });
  const keyLabel = field.kind === "schema" ? "column" : "name", valueLabel = field.kind === "schema" ? "type" : field.type.replace(/^map of /, "");
  /**
   * @param {PairRow} pair
   */
  const addRow = (pair) => {
    const key = /** @type {HTMLInputElement} */ (h("input", { type: "text", class: "pair-key", value: pair.key, placeholder: keyLabel, "aria-label": `${field.name} ${keyLabel}`,
      autocomplete: "off", disabled, ...(suggestions.keys ? { list: suggestions.keys } : {}) }));
    const value = /** @type {HTMLInputElement} */ (h("input", { type: "text", class: `pair-value${field.type === "map of expression" ? " code" : ""}`, value: pair.value,
      placeholder: valueLabel, "aria-label": `${field.name} ${valueLabel}`, autocomplete: "off", disabled, ...(suggestions.values ? { list: suggestions.values } : {}) }));
    const entry = { row: h("div", { class: "pair" }), key, value, json: pair.json };
    entry.row.append(key, field.type === "map of expression" ? enhanceExpression(value, { columns: suggestions.columns }).element : value, disabled ? "" : h("button", { type: "button", class: "small pair-remove", "aria-label": `Remove this ${keyLabel}`, title: "Remove",
      onclick: () => { rows = rows.filter((r) => r !== entry); draw(); } }, "×"));
    rows.push(entry);
    draw();
    return entry;
  };
  const draw = () => {
    rows.forEach((r, i) => { if (i === 0) r.key.id = id; else r.key.removeAttribute("id"); });
    list.replaceChildren(...rows.map((r) => r.row));
  };
  for (const pair of pairsOf(current)) addRow(pair);
  if (!rows.length) addRow({ key: "", value: "", json: false });
  const add = h("button", { type: "button", class: "small pair-add", disabled, onclick: () => addRow({ key: "", value: "", json: false }).key.focus() }, `Add ${keyLabel}`);
  const element = h("div", { class: "pairs", "data-widget": "pairs", "data-field": field.name }, list, add);
  return {
    element,
    /** The input a label or an error focuses: the first key. */
    focusTarget: () => rows[0]?.key ?? add,
    value: () => mapFromPairs(field, rows.map((r) => ({ key: r.key.value, value: r.value.value, json: r.json }))),
  };
}

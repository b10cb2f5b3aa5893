// @ts-check
// One generic form renderer, driven by field specs (node settings and connection fields alike).
import { h } from "./dom.js";
import { COLUMN_TYPES, pairInput, tagInput, widgetOf } from "./form-widgets.js";
import { enhanceExpression } from "./expression-input.js";

/**
 * @typedef {{name: string, kind: string, type: string, summary: string, required: boolean,
 *            default: string|null, example: string|null, choices?: string[], secret?: boolean}} FieldSpec
 */

/**
 * Converts one input's text to the setting value its kind expects; throws with a message when it cannot.
 * Pure (unit-tested with node's test runner).
 * @param {FieldSpec} field
 * @param {string|boolean} raw
 * @returns {unknown} undefined when the field is left empty
 */
export function parseValue(field, raw) {
  if (field.kind === "boolean") return raw === true || raw === "true" ? true : raw === false || raw === "false" ? false : undefined;
  const text = String(raw).trim();
  if (text === "") return undefined;
  switch (field.kind) {
    case "integer": {
      if (!/^-?\d+$/.test(text)) throw new Error(`${field.name} must be a whole number`);
      return Number(text);
    }
    case "number": {
      const value = Number(text);
      if (Number.isNaN(value)) throw new Error(`${field.name} must be a number`);
      return value;
    }
    case "list": {
      if (!text.startsWith("[")) return text.split(",").map((item) => item.trim()).filter((item) => item !== "");
      try {
        const value = JSON.parse(text);
        if (Array.isArray(value)) return value;
      } catch { /* not JSON: maybe YAML's flow style */ }
      const words = flowItems(text, "[", "]");
      if (words === null) throw new Error(`${field.name} must be a list: id, email or ["id", "email"]`);
      return words.map(unquote);
    }
    case "map":
    case "schema": {
      const message = `${field.name} must be a mapping such as {total: "a + b"} or {"total": "a + b"}`;
      /** @type {unknown} */
      let value;
      try { value = JSON.parse(text); } catch {
        const pairs = flowItems(text, "{", "}");
        if (pairs === null) throw new Error(message);
        /** @type {Record<string, string>} */
        const map = {};
        for (const pair of pairs) {
          const colon = pair.search(/:(\s|$)/);
          if (colon <= 0) throw new Error(message);
          map[unquote(pair.slice(0, colon))] = unquote(pair.slice(colon + 1));
        }
        value = map;
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(message);
      return value;
    }
    default:
      return text;
  }
}

/**
 * The items of a one-level YAML flow collection (`[a, "b, c"]`, `{k: v, q: "x, y"}`), split at commas outside
 * quotes; null when `text` is not one (nesting, an unclosed quote).
 * @param {string} text
 * @param {string} open
 * @param {string} close
 * @returns {string[]|null}
 */
function flowItems(text, open, close) {
  if (!text.startsWith(open) || !text.endsWith(close)) return null;
  const inner = text.slice(1, -1);
  /** @type {string[]} */
  const items = [];
  let current = "", quote = "";
  for (const c of inner) {
    if (quote) {
      current += c;
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      current += c;
      quote = c;
    } else if (c === ",") {
      items.push(current.trim());
      current = "";
    } else if ("[]{}".includes(c)) {
      return null;
    } else {
      current += c;
    }
  }
  if (quote) return null;
  if (current.trim() !== "" || items.length) items.push(current.trim());
  return items.filter((item) => item !== "");
}

/**
 * A flow scalar's text: quotes removed (JSON escapes in double quotes, '' in single quotes).
 * @param {string} text
 */
function unquote(text) {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    try { return JSON.parse(t); } catch { return t.slice(1, -1); }
  }
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replaceAll("''", "'");
  return t;
}

/**
 * How a setting's current value shows in its text input, so that `parseValue` reads it back unchanged: a list
 * of plain words as `a, b`; other lists and mappings as JSON; scalars as text.
 * @param {FieldSpec} field
 * @param {unknown} current
 * @returns {string}
 */
export function displayValue(field, current) {
  if (current === undefined || current === null) return "";
  if (field.kind === "list" && Array.isArray(current) && current.length > 0
      && current.every((item) => typeof item === "string" && item !== "" && item.trim() === item && !item.includes(",") && !item.startsWith("["))) {
    return current.join(", ");
  }
  return typeof current === "object" ? JSON.stringify(current) : String(current);
}

/** Optional settings shown unfolded even when unset: the ones most pipelines set. */
const FRONT = new Set(["connection", "table", "where", "columns", "key", "mode", "groupBy", "aggregates", "by", "on", "type", "schema", "url", "sql", "cases"]);

/**
 * Renders a form for `fields`. `initial` holds current values; `secretsSet` names secret fields already stored
 * (their values are never shown: leaving them empty keeps them).
 * `files` (uploaded workspace paths) are offered as suggestions in `path` fields, `columns` (the columns the node
 * receives) in lists of names and in a schema's column names. Lists of names or expressions get a tag input, flat
 * mappings key/value rows. With `fold`, settings that are unset and neither required nor commonly set fold under
 * "More settings".
 * @param {FieldSpec[]} fields
 * @param {{initial?: Record<string, unknown>, secretsSet?: string[], idPrefix?: string, connections?: string[], files?: string[], columns?: string[], disabled?: boolean, fold?: boolean}} [options]
 */
export function renderFields(fields, options = {}) {
  const initial = options.initial ?? {};
  const secretsSet = new Set(options.secretsSet ?? []);
  const prefix = options.idPrefix ?? "f";
  /**
   * @type {Map<string, {field: FieldSpec, input: HTMLInputElement|HTMLSelectElement|(() => HTMLElement), error: HTMLElement, read?: () => unknown,
   *   mark?: (message: string|null) => string}>}
   */
  const controls = new Map();
  const element = h("div", { class: "fields" });
  // Optional settings nobody has set fold away (below the required ones and those in use).
  const more = h("details", { class: "more-settings" }, h("summary", {}, "More settings"));
  const columnList = options.columns?.length ? `${prefix}--columns` : null;
  if (columnList) element.append(h("datalist", { id: columnList }, ...(options.columns ?? []).map((c) => h("option", { value: c }))));
  const typeList = `${prefix}--column-types`;
  if (fields.some((f) => f.kind === "schema")) element.append(h("datalist", { id: typeList }, ...COLUMN_TYPES.map((t) => h("option", { value: t }))));
  for (const field of fields) {
    const id = `${prefix}-${field.name}`;
    const current = initial[field.name];
    const folded = options.fold === true && !field.required && current === undefined && !FRONT.has(field.name) && !field.secret;
    const place = folded ? more : element;
    const widget = widgetOf(field);
    if (widget !== "text") {
      const error = h("div", { class: "field-error", id: `${id}-error`, role: "alert" });
      const names = field.type === "list of string" || field.kind === "schema" || field.type === "map of string" ? columnList : null;
      const control = widget === "tags" ? tagInput(field, current, id, names, options.disabled ?? false)
        : pairInput(field, current, id, { keys: names, values: field.kind === "schema" ? typeList : null, columns: options.columns }, options.disabled ?? false);
      control.element.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
      place.append(h("label", { for: id }, field.name, field.required ? " *" : ""), control.element, h("div", { class: "hint", id: `${id}-hint` }, field.summary), error);
      controls.set(field.name, { field, input: control.focusTarget, error, read: control.value });
      continue;
    }
    /**
     * @type {HTMLInputElement|HTMLSelectElement}
     */
    let input;
    if (field.kind === "connection" && options.connections) {
      const select = /** @type {HTMLSelectElement} */ (h("select", { id, name: field.name }, h("option", { value: "" }, "— choose a connection —"),
        ...options.connections.map((c) => h("option", { value: c }, c))));
      // A name that is not (or not yet) a stored connection, or a ${parameter}, is kept, never silently dropped.
      if (current !== undefined && current !== "" && !options.connections.includes(String(current))) {
        select.append(h("option", { value: String(current) }, `${current} (not a stored connection)`));
      }
      select.value = current !== undefined ? String(current) : "";
      input = select;
    } else if (field.kind === "choice") {
      const select = /** @type {HTMLSelectElement} */ (h("select", { id, name: field.name }));
      if (!field.required) select.append(h("option", { value: "" }, field.default ? `default (${field.default})` : "—"));
      for (const choice of field.choices ?? []) select.append(h("option", { value: choice }, choice));
      select.value = current !== undefined ? String(current) : (field.required && field.default ? field.default : "");
      input = select;
    } else if (field.kind === "boolean" && field.default === null) {
      // No default: "not set" is a third answer (e.g. a filter that applies only when given).
      const select = /** @type {HTMLSelectElement} */ (h("select", { id, name: field.name }, h("option", { value: "" }, "—"),
        h("option", { value: "true" }, "yes"), h("option", { value: "false" }, "no")));
      select.value = current === true ? "true" : current === false ? "false" : "";
      input = select;
    } else if (field.kind === "boolean") {
      input = /** @type {HTMLInputElement} */ (h("input", { id, name: field.name, type: "checkbox" }));
      input.checked = current !== undefined ? current === true : field.default === "true";
    } else {
      const type = field.secret ? "password" : field.kind === "integer" || field.kind === "number" ? "number" : "text";
      input = /** @type {HTMLInputElement} */ (h("input", { id, name: field.name, type, autocomplete: field.secret ? "new-password" : "off",
        placeholder: field.secret && secretsSet.has(field.name) ? "set — leave empty to keep" : (field.example ?? field.default ?? "") }));
      if (current !== undefined && !field.secret) input.value = displayValue(field, current);
      if (field.name === "path" && options.files?.length) {
        // A file picker of sorts: the uploaded files, suggested as the user types (any other path stays allowed).
        const list = h("datalist", { id: `${id}-files` }, ...options.files.map((path) => h("option", { value: path })));
        input.setAttribute("list", `${id}-files`);
        element.append(list);
      }
    }
    const error = h("div", { class: "field-error", id: `${id}-error`, role: "alert" });
    input.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    if (options.disabled) input.disabled = true;
    // An expression gets the expression editor: highlighting, completion, the error's span underlined.
    const editor = field.kind === "expression" && input instanceof HTMLInputElement ? enhanceExpression(input, { columns: options.columns }) : null;
    place.append(
      h("label", { for: id }, field.name, field.required ? " *" : "", field.secret && secretsSet.has(field.name) ? h("span", { class: "secret-set" }, " (set)") : null),
      editor ? editor.element : input,
      h("div", { class: "hint", id: `${id}-hint` }, field.summary),
      error,
    );
    controls.set(field.name, { field, input, error, mark: editor?.mark });
  }
  if (more.childElementCount > 1) element.append(more);

  return {
    element,
    /**
     * The entered values split into plain settings and secrets; throws after marking fields that do not parse.
     * @returns {{settings: Record<string, unknown>, secrets: Record<string, string>}}
     */
    values() {
      /** @type {Record<string, unknown>} */ const settings = {};
      /** @type {Record<string, string>} */ const secrets = {};
      let failed = false;
      for (const { field, input, error, read, mark } of controls.values()) {
        error.textContent = "";
        mark?.(null);
        try {
          const value = read ? read() : typeof input === "function" ? undefined
            : parseValue(field, input instanceof HTMLInputElement && input.type === "checkbox" ? input.checked : input.value);
          if (value === undefined) {
            if (field.required && !(field.secret && secretsSet.has(field.name))) throw new Error(`${field.name} is required`);
            continue;
          }
          if (field.kind === "boolean" && field.default !== null && String(value) === field.default && initial[field.name] === undefined) continue;
          if (field.secret) secrets[field.name] = String(value); else settings[field.name] = value;
        } catch (e) {
          error.textContent = /** @type {Error} */ (e).message;
          failed = true;
        }
      }
      if (failed) throw new Error("some fields need attention");
      return { settings, secrets };
    },
    /**
     * Shows an error from the server on its field (or returns false when there is no such field).
     * @param {string|null} name
     * @param {string} message
     * @param {{focus?: boolean}} [options] focus the field (default); off while the user is typing elsewhere
     */
    showError(name, message, options = {}) {
      const key = (name ?? "").replace(/^(settings|secrets)\./, "");
      // An error inside a mapping or a list (`columns.total`) shows on the field holding it.
      const control = controls.get(key) ?? controls.get(key.split(/[.[]/)[0]);
      if (!control) return false;
      control.error.textContent = control.mark ? control.mark(message) : message;
      // A folded setting with an error unfolds.
      const fold = control.error.closest("details");
      if (fold) /** @type {HTMLDetailsElement} */ (fold).open = true;
      if (options.focus !== false) (typeof control.input === "function" ? control.input() : control.input).focus();
      return true;
    },
  };
}

// @ts-check
// One generic form renderer, driven by field specs (node settings and connection fields alike).
import { h } from "./dom.js";

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
    case "list":
      return text.split(",").map((item) => item.trim()).filter((item) => item !== "");
    case "map":
    case "schema": {
      let value;
      try { value = JSON.parse(text); } catch { throw new Error(`${field.name} must be a JSON object such as {"a": "b"}`); }
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${field.name} must be a JSON object such as {"a": "b"}`);
      return value;
    }
    default:
      return text;
  }
}

/**
 * Renders a form for `fields`. `initial` holds current values; `secretsSet` names secret fields already stored
 * (their values are never shown: leaving them empty keeps them).
 * @param {FieldSpec[]} fields
 * @param {{initial?: Record<string, unknown>, secretsSet?: string[], idPrefix?: string, connections?: string[]}} [options]
 */
export function renderFields(fields, options = {}) {
  const initial = options.initial ?? {};
  const secretsSet = new Set(options.secretsSet ?? []);
  const prefix = options.idPrefix ?? "f";
  /**
   * @type {Map<string, {field: FieldSpec, input: HTMLInputElement|HTMLSelectElement, error: HTMLElement}>}
   */
  const controls = new Map();
  const element = h("div", { class: "fields" });
  for (const field of fields) {
    const id = `${prefix}-${field.name}`;
    const current = initial[field.name];
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
      if (current !== undefined && !field.secret) input.value = typeof current === "object" ? JSON.stringify(current) : String(current);
    }
    const error = h("div", { class: "field-error", id: `${id}-error`, role: "alert" });
    input.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    element.append(
      h("label", { for: id }, field.name, field.required ? " *" : "", field.secret && secretsSet.has(field.name) ? h("span", { class: "secret-set" }, " (set)") : null),
      input,
      h("div", { class: "hint", id: `${id}-hint` }, field.summary),
      error,
    );
    controls.set(field.name, { field, input, error });
  }

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
      for (const { field, input, error } of controls.values()) {
        error.textContent = "";
        try {
          const raw = input instanceof HTMLInputElement && input.type === "checkbox" ? input.checked : input.value;
          const value = parseValue(field, raw);
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
      const control = controls.get(key);
      if (!control) return false;
      control.error.textContent = message;
      if (options.focus !== false) control.input.focus();
      return true;
    },
  };
}

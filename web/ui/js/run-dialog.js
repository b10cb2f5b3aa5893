// @ts-check
// The parameters dialog shown before a run of a pipeline that declares parameters.
import { h } from "./dom.js";

/**
 * Asks for the run's parameters (prefilled with their defaults). Resolves to the values, `{}` when the pipeline
 * has none (no dialog), or null when cancelled.
 * @param {Record<string, any>|undefined} declared  the document's `parameters:` mapping
 * @returns {Promise<Record<string, string>|null>}
 */
export function askParameters(declared) {
  const entries = Object.entries(declared ?? {});
  if (entries.length === 0) return Promise.resolve({});
  return new Promise((resolve) => {
    /** @type {Map<string, HTMLInputElement>} */
    const inputs = new Map();
    const dialog = /** @type {HTMLDialogElement} */ (h("dialog", { id: "run-parameters", "aria-label": "Run parameters" }));
    const form = h("form", { method: "dialog" }, h("h2", {}, "Run with parameters"),
      ...entries.flatMap(([name, spec]) => {
        const input = /** @type {HTMLInputElement} */ (h("input", { id: `param-${name}`, name }));
        input.value = spec && spec.default !== undefined && spec.default !== null ? String(spec.default) : "";
        inputs.set(name, input);
        return [h("label", { for: `param-${name}` }, name, " ", h("span", { class: "hint" }, spec?.type ?? "string")), input,
          spec?.description ? h("div", { class: "hint" }, spec.description) : ""];
      }),
      h("p", { class: "row" }, h("button", { type: "submit", class: "primary", id: "run-with-parameters", value: "run" }, "Run"),
        h("button", { type: "submit", value: "cancel" }, "Cancel")));
    dialog.append(form);
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (dialog.returnValue !== "run") { resolve(null); return; }
      /** @type {Record<string, string>} */
      const values = {};
      for (const [name, input] of inputs) values[name] = input.value;
      resolve(values);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// @ts-check
// Finds a person by name for sharing: a text input with suggestions from GET /api/v1/users/lookup (names only,
// no roles), which any signed-in user may call. Used by the pipeline and the connection sharing panels.
import { api } from "./api.js";
import { h, show } from "./dom.js";

/**
 * @typedef {{id: string, name: string}} UserMatch
 * @typedef {{input: HTMLInputElement, suggestions: HTMLElement, chosen: () => Promise<UserMatch|string>}} UserPicker
 */

/** @param {string} q @returns {Promise<UserMatch[]>} */
const lookup = async (q) => /** @type {UserMatch[]} */ (await api("GET", `/api/v1/users/lookup?q=${encodeURIComponent(q)}`));

/**
 * An input (id `idPrefix`) with a datalist of matching names while typing. `chosen()` resolves the typed
 * name to a user (the exact name, or the only match), or to a sentence saying why it could not.
 * @param {string} idPrefix
 * @param {string} [excludeID] a user never suggested (the caller)
 * @returns {UserPicker}
 */
export function userPicker(idPrefix, excludeID) {
  const suggestions = h("datalist", { id: `${idPrefix}-matches` });
  const input = /** @type {HTMLInputElement} */ (h("input", { id: idPrefix, "aria-label": "User name", placeholder: "user name",
    list: `${idPrefix}-matches`, autocomplete: "off" }));
  input.addEventListener("input", async () => {
    const q = input.value.trim();
    if (!q) return;
    try { show(suggestions, ...(await lookup(q)).filter((u) => u.id !== excludeID).map((u) => h("option", { value: u.name }))); } catch { /* suggestions only */ }
  });
  const chosen = async () => {
    const name = input.value.trim();
    if (!name) return "Type the name of the person to share with.";
    const found = await lookup(name);
    return found.find((u) => u.name === name) ?? (found.length === 1 ? found[0] : `No user is named '${name}'.`);
  };
  return { input, suggestions, chosen };
}

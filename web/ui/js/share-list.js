// @ts-check
// Who something is shared with, and (for its owners) the form that shares it with one more person: the one
// view behind the pipeline and the connection sharing panels, which differ only in their endpoints and roles.
import { errorText, h, show } from "./dom.js";

/**
 * @typedef {{user_id: string, user_name: string, role: string}} Share
 * @typedef {import("./user-picker.js").UserPicker} UserPicker
 */

/**
 * The list of shares (each with Remove where `canRemove`) and, when `add` is given, the form that adds one.
 * Errors land in `message`; `remove` and `add` re-render the panel themselves.
 * @param {{shares: Share[], canRemove: (share: Share) => boolean, remove: (share: Share) => Promise<void>,
 *          add: ((userID: string, role: string) => Promise<void>) | null, picker: UserPicker, role: HTMLSelectElement,
 *          addID: string, message: HTMLElement}} options
 * @returns {HTMLElement[]}
 */
export function shareList({ shares, canRemove, remove, add, picker, role, addID, message }) {
  const list = h("ul", { class: "shares" }, ...shares.map((share) => h("li", { "data-share": share.user_name }, `${share.user_name}: ${share.role} `,
    canRemove(share) ? h("button", { type: "button", class: "danger", onclick: async () => {
      try { await remove(share); } catch (error) { show(message, errorText(error)); }
    } }, "Remove") : null)));
  if (!add) return [list];
  const form = h("form", { class: "row", onsubmit: async (/** @type {Event} */ event) => {
    event.preventDefault();
    try {
      const user = await picker.chosen();
      if (typeof user === "string") { show(message, user); return; }
      await add(user.id, role.value);
    } catch (error) { show(message, errorText(error)); }
  } }, picker.input, picker.suggestions, role, h("button", { type: "submit", id: addID }, "Share"));
  return [list, form];
}

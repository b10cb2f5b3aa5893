// @ts-check
// Who a pipeline is shared with, in the editor's side panel: owners add and remove shares; everyone who sees
// the pipeline sees who else does.
import { api } from "../api.js";
import { errorText, h, show } from "../dom.js";
import { userPicker } from "../user-picker.js";

/**
 * Fills `element` with the pipeline's shares (empty for a pipeline not saved yet).
 * @param {HTMLElement} element
 * @param {any} pipeline
 * @param {{id: string, role: string}} me
 * @returns {Promise<void>}
 */
export async function renderSharing(element, pipeline, me) {

  if (!pipeline) { show(element); return; }
  const shares = await api("GET", `/api/v1/pipelines/${pipeline.id}/shares`);
  const owner = pipeline.role === "owner";
  // Anyone who owns a pipeline finds people by name.
  const who = userPicker("share-user", me.id);
  const role = /** @type {HTMLSelectElement} */ (h("select", { id: "share-role", "aria-label": "Role" }, ...["viewer", "runner", "editor", "owner"].map((r) => h("option", { value: r }, r))));
  const message = h("div");
  show(element, h("h2", {}, "Shared with"),
    h("ul", { class: "shares" }, ...shares.map((/** @type {any} */ share) => h("li", { "data-share": share.user_name }, `${share.user_name}: ${share.role} `,
      owner && share.user_id !== me.id ? h("button", { type: "button", class: "danger", onclick: async () => {
        try { await api("DELETE", `/api/v1/pipelines/${pipeline.id}/shares/${share.user_id}`); await renderSharing(element, pipeline, me); } catch (error) { show(message, errorText(error)); }
      } }, "Remove") : null))),
    owner ? h("form", { class: "row", onsubmit: async (/** @type {Event} */ event) => {
      event.preventDefault();
      try {
        const user = await who.chosen();
        if (typeof user === "string") { show(message, user); return; }
        await api("PUT", `/api/v1/pipelines/${pipeline.id}/shares/${user.id}`, { role: role.value });
        await renderSharing(element, pipeline, me);
      } catch (error) { show(message, errorText(error)); }
    } }, who.input, who.suggestions, role, h("button", { type: "submit", id: "share-add" }, "Share")) : "", message);
}

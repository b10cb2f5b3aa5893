// @ts-check
// Who a pipeline is shared with, in the editor's side panel: owners add and remove shares; everyone who sees
// the pipeline sees who else does.
import { api } from "../api.js";
import { h, show } from "../dom.js";
import { shareList } from "../share-list.js";
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
  const again = () => renderSharing(element, pipeline, me);
  show(element, h("h2", {}, "Shared with"), ...shareList({
    shares, message, role, picker: who, addID: "share-add",
    canRemove: (share) => owner && share.user_id !== me.id,
    remove: async (share) => { await api("DELETE", `/api/v1/pipelines/${pipeline.id}/shares/${share.user_id}`); await again(); },
    add: owner ? async (userID, chosenRole) => { await api("PUT", `/api/v1/pipelines/${pipeline.id}/shares/${userID}`, { role: chosenRole }); await again(); } : null,
  }), message);
}

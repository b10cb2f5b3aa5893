// @ts-check
// Who may use a connection, on the connections page: its owner (and admins) share it with people by name, as
// `user` (may name it in pipelines) or `editor` (may also change it); admins may share it with everyone.
import { api } from "../api.js";
import { errorText, h, show } from "../dom.js";
import { shareList } from "../share-list.js";
import { userPicker } from "../user-picker.js";

/**
 * Fills `element` with the connection's owner and shares, and (for owners) the controls that change them.
 * @param {HTMLElement} element
 * @param {any} connection
 * @param {{id: string, role: string}} me
 * @returns {Promise<void>}
 */
export async function renderConnectionSharing(element, connection, me) {
  const sharing = await api("GET", `/api/v1/connections/${connection.id}/shares`);
  const owner = connection.role === "owner";
  const message = h("div", { role: "status" });
  const again = () => renderConnectionSharing(element, connection, me);
  const who = userPicker("connection-share-user", me.id);
  const role = /** @type {HTMLSelectElement} */ (h("select", { id: "connection-share-role", "aria-label": "Role" },
    h("option", { value: "user" }, "user (may use it)"), h("option", { value: "editor" }, "editor (may also change it)")));
  const everyone = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", id: "connection-share-everyone", ...(sharing.shared_with_everyone ? { checked: "" } : {}),
    onchange: async () => {
      try { await api("PUT", `/api/v1/connections/${connection.id}/everyone`, { shared: everyone.checked }); await again(); } catch (error) { show(message, errorText(error)); }
    } }));
  show(element, h("div", { class: "card", "data-testid": "connection-sharing" },
    h("h2", {}, `Who may use ${connection.name}`),
    h("p", {}, `Owner: ${sharing.owner}. `, sharing.shared_with_everyone ? "Every user may name it in pipelines." : ""),
    ...shareList({
      shares: sharing.shares, message, role, picker: who, addID: "connection-share-add",
      canRemove: () => owner,
      remove: async (share) => { await api("DELETE", `/api/v1/connections/${connection.id}/shares/${share.user_id}`); await again(); },
      add: owner ? async (userID, chosenRole) => { await api("PUT", `/api/v1/connections/${connection.id}/shares/${userID}`, { role: chosenRole }); await again(); } : null,
    }),
    me.role === "admin" ? h("label", { class: "row" }, everyone, "Shared with everyone") : null,
    message));
}

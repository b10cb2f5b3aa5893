// @ts-check
// Admins: users and their roles, new users, disabling, and the audit log.
import { api } from "../api.js";
import { errorText, h, show, time } from "../dom.js";

/**
 * @param {HTMLElement} view
 * @param {any} me
 */
export async function usersPage(view, me) {
  if (me.role !== "admin") { show(view, h("p", { class: "error" }, "Only admins manage users.")); return; }
  const [users, audit] = await Promise.all([api("GET", "/api/v1/users"), api("GET", "/api/v1/audit?limit=50")]);
  const message = h("div", { id: "users-message" });
  /**
   * @param {any} user
   * @param {Record<string, unknown>} change
   */
  async function update(user, change) {
    try { await api("PATCH", `/api/v1/users/${user.id}`, change); await usersPage(view, me); }
    catch (error) { show(message, errorText(error)); }
  }
  const name = /** @type {HTMLInputElement} */ (h("input", { id: "new-user-name", required: true, autocomplete: "off" }));
  const password = /** @type {HTMLInputElement} */ (h("input", { id: "new-user-password", type: "password", required: true, autocomplete: "new-password" }));
  const role = /** @type {HTMLSelectElement} */ (h("select", { id: "new-user-role" }, h("option", { value: "member" }, "member"), h("option", { value: "admin" }, "admin")));
  show(view, h("h1", {}, "Users"), message,
    h("table", { "aria-label": "Users" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Role"), h("th", {}, "Created"), h("th", {}, "Status"), h("th", {}, ""))),
      h("tbody", {}, ...users.map((/** @type {any} */ u) => {
        const select = /** @type {HTMLSelectElement} */ (h("select", { "aria-label": `Role of ${u.name}`, onchange: () => update(u, { role: select.value }) },
          h("option", { value: "member" }, "member"), h("option", { value: "admin" }, "admin")));
        select.value = u.role;
        return h("tr", { "data-user": u.name }, h("td", { class: "name" }, u.name), h("td", {}, select), h("td", {}, time(u.created_at)),
          h("td", {}, u.disabled ? "disabled" : "active"),
          h("td", {}, u.id === me.id ? "(you)" : h("button", { type: "button", onclick: () => update(u, { disabled: !u.disabled }) }, u.disabled ? "Enable" : "Disable")));
      }))),
    h("form", { class: "card", onsubmit: async (/** @type {Event} */ event) => {
      event.preventDefault();
      try {
        await api("POST", "/api/v1/users", { name: name.value, password: password.value, role: role.value });
        await usersPage(view, me);
      } catch (error) { show(message, errorText(error)); }
    } }, h("h2", {}, "New user"), h("label", { for: "new-user-name" }, "Name"), name,
      h("label", { for: "new-user-password" }, "Password ", h("span", { class: "hint" }, "(at least 12 characters)")), password,
      h("label", { for: "new-user-role" }, "Role"), role, h("p", {}, h("button", { type: "submit", class: "primary" }, "Create user"))),
    h("h2", {}, "Audit log"),
    h("table", { "aria-label": "Audit log" }, h("thead", {}, h("tr", {}, h("th", {}, "Time"), h("th", {}, "Who"), h("th", {}, "Action"), h("th", {}, "Target"), h("th", {}, "Detail"), h("th", {}, "Address"))),
      h("tbody", {}, ...audit.map((/** @type {any} */ a) => h("tr", {}, h("td", {}, time(a.at)), h("td", {}, a.actor ?? ""), h("td", {}, a.action),
        h("td", { class: "name" }, a.target ?? ""), h("td", { class: "name" }, a.detail ?? ""), h("td", {}, a.address ?? ""))))));
}

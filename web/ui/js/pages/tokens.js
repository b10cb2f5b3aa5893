// @ts-check
// API tokens for automation: the value is shown once, when created.
import { api } from "../api.js";
import { errorText, h, show, time } from "../dom.js";

/**
 * @param {HTMLElement} view
 */
export async function tokensPage(view) {
  const tokens = await api("GET", "/api/v1/tokens");
  const name = /** @type {HTMLInputElement} */ (h("input", { id: "token-name", required: true, placeholder: "ci-deploy" }));
  const message = h("div");
  show(view, h("h1", {}, "API tokens"),
    h("table", { "aria-label": "API tokens" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Created"), h("th", {}, "Last used"), h("th", {}, ""))),
      h("tbody", {}, ...tokens.map((/** @type {any} */ t) => h("tr", {}, h("td", { class: "name" }, t.name), h("td", {}, time(t.created_at)), h("td", {}, time(t.last_used_at)),
        h("td", {}, h("button", { type: "button", class: "danger", onclick: async () => {
          if (!confirm(`Revoke token "${t.name}"?`)) return;
          await api("DELETE", `/api/v1/tokens/${t.id}`);
          await tokensPage(view);
        } }, "Revoke")))))),
    h("form", { class: "card", onsubmit: async (/** @type {Event} */ event) => {
      event.preventDefault();
      try {
        const created = await api("POST", "/api/v1/tokens", { name: name.value });
        await tokensPage(view);
        view.append(h("div", { class: "card", role: "status" }, h("strong", {}, "Copy this token now; it is not shown again: "), h("code", { "data-testid": "new-token" }, created.token)));
      } catch (error) { show(message, errorText(error)); }
    } }, h("h2", {}, "New token"), h("label", { for: "token-name" }, "Name"), name, message, h("p", {}, h("button", { class: "primary", type: "submit" }, "Create token"))));
}

// @ts-check
import { api, keepTokens } from "../api.js";
import { errorText, h, show } from "../dom.js";

/**
 * The sign-in form.
 * @param {HTMLElement} view
 */
export async function loginPage(view) {
  const username = /** @type {HTMLInputElement} */ (h("input", { id: "login-username", autocomplete: "username", required: true }));
  const password = /** @type {HTMLInputElement} */ (h("input", { id: "login-password", type: "password", autocomplete: "current-password", required: true }));
  const message = h("div");
  show(view, h("form", { class: "card narrow", onsubmit: async (/** @type {Event} */ event) => {
    event.preventDefault();
    try {
      keepTokens(await api("POST", "/api/v1/auth/login", { username: username.value, password: password.value }));
      location.hash = "#/dashboard";
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) { show(message, errorText(error)); }
  } },
  h("h1", {}, "Sign in"),
  h("label", { for: "login-username" }, "User name"), username,
  h("label", { for: "login-password" }, "Password"), password,
  message,
  h("p", {}, h("button", { class: "primary", type: "submit" }, "Sign in"))));
  username.focus();
}

// @ts-check
// First run: the first admin and the vault's master password, with the one-time setup token from the link.
import { api, keepTokens } from "../api.js";
import { errorText, h, show } from "../dom.js";

/**
 * @param {HTMLElement} view
 * @param {string} token
 */
export async function setupPage(view, token) {
  const username = /** @type {HTMLInputElement} */ (h("input", { id: "setup-username", autocomplete: "username", value: "admin", required: true }));
  const password = /** @type {HTMLInputElement} */ (h("input", { id: "setup-password", type: "password", autocomplete: "new-password", required: true, minlength: 12 }));
  const master = /** @type {HTMLInputElement} */ (h("input", { id: "setup-master", type: "password", autocomplete: "new-password", required: true, minlength: 12 }));
  const masterAgain = /** @type {HTMLInputElement} */ (h("input", { id: "setup-master-again", type: "password", autocomplete: "new-password", required: true }));
  const message = h("div");
  const form = h("form", { class: "card narrow", onsubmit: async (/** @type {Event} */ event) => {
    event.preventDefault();
    if (master.value !== masterAgain.value) {
      show(message, h("p", { class: "error", role: "alert" }, "The two master passwords differ. A typo here would lock every stored secret away: type it again."));
      masterAgain.focus();
      return;
    }
    try {
      await api("POST", "/api/v1/setup", { token, username: username.value, password: password.value, master_password: master.value });
      keepTokens(await api("POST", "/api/v1/auth/login", { username: username.value, password: password.value }));
      location.hash = "#/dashboard";
    } catch (error) { show(message, errorText(error)); }
  } },
  h("h1", {}, "Set up Sluice"),
  h("p", { class: "hint" }, "Create the first administrator and the vault that encrypts connection secrets. The master password is never stored: keep it safe, it unlocks the vault after every restart."),
  h("label", { for: "setup-username" }, "Admin user name"), username,
  h("label", { for: "setup-password" }, "Admin password ", h("span", { class: "hint" }, "(at least 12 characters)")), password,
  h("label", { for: "setup-master" }, "Vault master password ", h("span", { class: "hint" }, "(at least 12 characters)")), master,
  h("label", { for: "setup-master-again" }, "Vault master password again"), masterAgain,
  message,
  h("p", {}, h("button", { class: "primary", type: "submit" }, "Create admin and vault")));
  show(view, form);
  username.focus();
}

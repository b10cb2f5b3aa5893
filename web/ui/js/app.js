// @ts-check
// The app shell: hash routes, the signed-in guard, the account menu and the vault banner.
import { api, forgetTokens, signedIn } from "./api.js";
import { h, show } from "./dom.js";
import { leaveGuard, leaveQuestion } from "./leave-guard.js";
import { setupPage } from "./pages/setup.js";
import { loginPage } from "./pages/login.js";
import { pipelinesPage } from "./pages/pipelines.js";
import { connectionsPage } from "./pages/connections.js";
import { runsPage } from "./pages/runs.js";
import { tokensPage } from "./pages/tokens.js";
import { editorPage } from "./pages/editor.js";
import { runPage } from "./pages/run.js";
import { usersPage } from "./pages/users.js";
import { triggersPage } from "./pages/triggers.js";
import { notificationsPage } from "./pages/notifications.js";
import { dashboardPage } from "./pages/dashboard.js";
import { filesPage } from "./pages/files.js";

const view = /** @type {HTMLElement} */ (document.getElementById("view"));
const nav = /** @type {HTMLElement} */ (document.getElementById("nav"));
const account = /** @type {HTMLElement} */ (document.getElementById("account"));
const banner = /** @type {HTMLElement} */ (document.getElementById("banner"));

/**
 * @type {Record<string, (view: HTMLElement, me: any) => Promise<void>>}
 */
const pages = { dashboard: dashboardPage, pipelines: pipelinesPage, connections: connectionsPage, runs: runsPage, tokens: tokensPage, edit: editorPage, new: editorPage, run: runPage, users: usersPage, triggers: triggersPage, notifications: notificationsPage, files: filesPage };

/**
 * The signed-in user (null when signed out).
 * @type {any}
 */
let me = null;

/**
 * Renders the page the hash names.
 * @returns {Promise<void>}
 */
async function route() {
  const hash = location.hash;
  leaveGuard.current = hash;
  leaveGuard.unsaved = null; // the page being shown registers its own check
  if (hash.startsWith("#setup=")) return setupPage(view, decodeURIComponent(hash.slice(7)));
  if (!signedIn()) {
    me = null;
    renderChrome();
    const status = await api("GET", "/api/v1/setup");
    if (status.needs_setup) {
      show(view, h("section", { class: "card narrow" }, h("h1", {}, "Welcome to Sluice"),
        h("p", {}, "This server has no administrator yet. Open the setup link that ", h("code", {}, "sluice serve"), " printed on its first start (it ends with #setup=…), or run this on the server:"),
        h("pre", { class: "command", "data-testid": "setup-command" }, "sluice user add admin --role admin --password-file admin-password.txt --master-password-file master-password.txt"),
        h("p", { class: "hint" }, "Each file holds one password (at least 12 characters); delete them afterwards. Add the server's --data-dir or --store when it was started with one. The master password unlocks the vault after every restart: keep it safe.")));
      return;
    }
    return loginPage(view);
  }
  if (!me) {
    try { me = await api("GET", "/api/v1/auth/me"); } catch { forgetTokens(); return route(); }
  }
  renderChrome();
  await renderVaultBanner();
  const name = (hash.replace(/^#\/?/, "").split(/[/?]/)[0]) || "dashboard";
  const page = pages[name] ?? dashboardPage;
  view.classList.remove("wide");
  const section = name === "run" ? "runs" : name === "edit" || name === "new" ? "pipelines" : name;
  for (const item of nav.querySelectorAll("a")) {
    if (item.getAttribute("href") === `#/${section}`) item.setAttribute("aria-current", "page"); else item.removeAttribute("aria-current");
  }
  await page(view, me);
}

function renderChrome() {
  nav.hidden = !me;
  if (!me) { show(account); return; }
  /** @type {HTMLElement} */ (document.getElementById("nav-users")).hidden = me.role !== "admin";
  /** @type {HTMLElement} */ (document.getElementById("nav-notifications")).hidden = me.role !== "admin";
  show(account, h("span", { "data-testid": "signed-in-as" }, `${me.name} (${me.role})`),
    h("button", { type: "button", onclick: logout }, "Sign out"));
}

async function logout() {
  try { await api("POST", "/api/v1/auth/logout", {}); } catch { /* signing out anyway */ }
  forgetTokens();
  me = null;
  location.hash = "#/login";
  await route();
}

/** Admins see an unlock form while the vault is locked; others a note. */
async function renderVaultBanner() {
  const vault = await api("GET", "/api/v1/vault");
  if (vault.status !== "locked") { show(banner); return; }
  if (me.role !== "admin") { show(banner, h("span", {}, "The vault is locked: runs that need connection secrets wait until an admin unlocks it.")); return; }
  const password = /** @type {HTMLInputElement} */ (h("input", { type: "password", id: "vault-password", autocomplete: "current-password", "aria-label": "Master password" }));
  const message = h("span", { role: "alert" });
  const form = h("form", { onsubmit: async (/** @type {Event} */ event) => {
    event.preventDefault();
    try { await api("POST", "/api/v1/vault/unlock", { password: password.value }); show(banner); }
    catch (error) { message.textContent = /** @type {Error} */ (error).message; }
  } }, h("strong", {}, "The vault is locked."), password, h("button", { class: "primary", type: "submit" }, "Unlock"), message);
  show(banner, form);
}

window.addEventListener("hashchange", () => {
  // Leaving a page with unsaved changes asks first; staying puts the address back.
  if (location.hash !== leaveGuard.current && leaveGuard.unsaved?.() && !confirm(leaveQuestion)) {
    history.replaceState(null, "", leaveGuard.current);
    return;
  }
  route().catch(showFailure);
});
window.addEventListener("sluice:signed-out", () => { me = null; location.hash = "#/login"; });
route().catch(showFailure);

/**
 * @param {any} error
 */
function showFailure(error) {
  show(view, h("section", { class: "card" }, h("h1", {}, "Something went wrong"), h("p", { class: "error" }, error && error.message ? error.message : String(error))));
}

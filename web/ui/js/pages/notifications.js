// @ts-check
// Admins: server-wide run notifications (for pipelines without their own notify:) and the public address run links use.
import { api } from "../api.js";
import { errorText, h, show, time } from "../dom.js";

const outcomes = ["failed", "succeeded", "rejected"];
// The channel each notifying connection type speaks.
/** @type {Record<string, string>} */
const channels = { smtp: "email", slack: "slack", http: "webhook" };

/**
 * @param {HTMLElement} view
 * @param {any} me
 */
export async function notificationsPage(view, me) {
  if (me.role !== "admin") { show(view, h("p", { class: "error" }, "Only admins set server-wide notifications.")); return; }
  const [defaults, connections] = await Promise.all([api("GET", "/api/v1/notifications"), api("GET", "/api/v1/connections")]);
  const usable = connections.filter((/** @type {any} */ c) => channels[c.type]);
  /** @type {any[]} */
  const rules = (defaults.rules ?? []).map((/** @type {any} */ r) => ({ ...r }));
  const message = h("div", { id: "notifications-message", role: "status" });
  const publicUrl = /** @type {HTMLInputElement} */ (h("input", { id: "public-url", type: "url", placeholder: "https://sluice.example.com", value: defaults.public_url ?? "" }));
  const body = h("tbody");

  function renderRules() {
    show(body, ...rules.map((rule, index) => ruleRow(rule, index)));
    if (rules.length === 0) show(body, h("tr", {}, h("td", { colspan: "5", class: "hint" }, "No rules: only pipelines with their own notify: send notifications.")));
  }

  /**
   * @param {any} rule
   * @param {number} index
   */
  function ruleRow(rule, index) {
    const label = `rule ${index + 1}`;
    const boxes = outcomes.map((outcome) => {
      const box = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", id: `rule-${index}-${outcome}`, onchange: () => {
        rule.on = outcomes.filter((o) => o === outcome ? box.checked : rule.on.includes(o));
      } }));
      box.checked = rule.on.includes(outcome);
      return h("span", { class: "check" }, box, h("label", { for: `rule-${index}-${outcome}` }, outcome));
    });
    const connection = /** @type {HTMLSelectElement} */ (h("select", { "aria-label": `Connection of ${label}`, onchange: () => {
      rule.connection = connection.value;
      rule.via = channels[usable.find((/** @type {any} */ c) => c.name === connection.value)?.type] ?? rule.via;
      renderRules();
    } }, ...usable.map((/** @type {any} */ c) => h("option", { value: c.name }, `${c.name} (${channels[c.type]})`))));
    connection.value = rule.connection;
    const target = rule.via === "email"
      ? h("input", { "aria-label": `Recipients of ${label}`, placeholder: "oncall@example.com, team@example.com", value: (rule.to ?? []).join(", "),
        oninput: (/** @type {Event} */ e) => { rule.to = /** @type {HTMLInputElement} */ (e.target).value.split(",").map((s) => s.trim()).filter(Boolean); } })
      : rule.via === "webhook"
        ? h("input", { "aria-label": `Path of ${label}`, placeholder: "/hooks/sluice", value: rule.path ?? "",
          oninput: (/** @type {Event} */ e) => { rule.path = /** @type {HTMLInputElement} */ (e.target).value || undefined; } })
        : h("span", { class: "hint" }, "the connection's channel");
    return h("tr", { "data-rule": String(index) },
      h("td", {}, h("fieldset", { class: "inline" }, h("legend", { class: "visually-hidden" }, `Outcomes of ${label}`), ...boxes)),
      h("td", {}, connection), h("td", {}, rule.via), h("td", {}, target),
      h("td", {}, h("button", { type: "button", class: "danger", "aria-label": `Remove ${label}`, onclick: () => { rules.splice(index, 1); renderRules(); } }, "Remove")));
  }

  function addRule() {
    const first = usable[0];
    if (!first) { show(message, h("p", { class: "error" }, "Create an smtp, slack or http connection first (Connections page).")); return; }
    rules.push({ on: ["failed"], via: channels[first.type], connection: first.name, to: [] });
    renderRules();
  }

  async function save() {
    try {
      const saved = await api("PUT", "/api/v1/notifications", { public_url: publicUrl.value.trim() || null, rules });
      show(message, h("p", { class: "ok" }, `Saved ${saved.rules.length} rule(s).`));
      await notificationsPage(view, me);
      show(/** @type {HTMLElement} */ (document.getElementById("notifications-message")), h("p", { class: "ok" }, `Saved ${saved.rules.length} rule(s).`));
    } catch (error) { show(message, errorText(error)); }
  }

  async function test() {
    show(message, h("p", { class: "hint" }, "Sending a test message through every saved rule…"));
    try {
      const result = await api("POST", "/api/v1/notifications/test", {});
      show(message, result.results.length === 0 ? h("p", {}, "No saved rules to test.")
        : h("ul", { "data-testid": "test-results" }, ...result.results.map((/** @type {any} */ r) => h("li", { class: r.ok ? "ok" : "error" }, r.message))));
    } catch (error) { show(message, errorText(error)); }
  }

  renderRules();
  show(view, h("h1", {}, "Notifications"),
    h("p", {}, "Rules here notify about runs of every pipeline that has no notify: of its own. Messages give the pipeline, status, error, duration, record counts and a link to the run."),
    h("section", { class: "card" },
      h("label", { for: "public-url" }, "Public address of this server ", h("span", { class: "hint" }, "(run links in messages start with it)")), publicUrl),
    h("table", { "aria-label": "Notification rules" },
      h("thead", {}, h("tr", {}, h("th", {}, "When the run"), h("th", {}, "Connection"), h("th", {}, "Via"), h("th", {}, "To / path"), h("th", {}, ""))), body),
    h("p", { class: "actions" },
      h("button", { type: "button", onclick: addRule }, "Add rule"),
      h("button", { type: "button", class: "primary", onclick: save }, "Save"),
      h("button", { type: "button", onclick: test }, "Send test")),
    message,
    defaults.updated_by ? h("p", { class: "hint" }, `Last saved by ${defaults.updated_by}, ${time(defaults.updated_at)}. Rules use the connections that admin may use.`) : "");
}

// @ts-check
// Connections: list, create and edit from the connection type's spec, test, and browse the schema.
import { api } from "../api.js";
import { errorText, h, show, time } from "../dom.js";
import { renderFields } from "../form.js";
import { renderConnectionSharing } from "./connection-sharing.js";

/**
 * @param {HTMLElement} view
 * @param {any} me
 */
export async function connectionsPage(view, me) {
  const [connections, types] = await Promise.all([api("GET", "/api/v1/connections"), api("GET", "/api/v1/connection-types")]);
  const detail = h("div");
  const rows = connections.map((/** @type {any} */ c) => h("tr", { "data-connection": c.name },
    h("td", { class: "name" }, c.name), h("td", {}, c.type),
    h("td", {}, c.created_by, c.shared_with_everyone ? " · everyone" : ""), h("td", {}, c.role), h("td", {}, time(c.updated_at)),
    h("td", {}, h("div", { class: "row" },
      h("button", { type: "button", onclick: () => test(c) }, "Test"),
      types.find((/** @type {any} */ t) => t.type === c.type)?.discoverable ? h("button", { type: "button", onclick: () => browse(c) }, "Browse schema") : null,
      c.role !== "user" ? h("button", { type: "button", onclick: () => edit(c) }, "Edit") : null,
      h("button", { type: "button", onclick: () => share(c) }, "Sharing")))));
  const table = h("table", { "aria-label": "Connections" },
    h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Type"), h("th", {}, "Owner"), h("th", {}, "Your role"), h("th", {}, "Updated"), h("th", {}, "Actions"))),
    h("tbody", {}, ...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No connections yet: create one, or ask an owner to share theirs."))])));

  /**
   * @param {any} connection
   */
  async function share(connection) {
    try { await renderConnectionSharing(detail, connection, me); } catch (error) { show(detail, errorText(error)); }
  }

  /**
   * @param {any} connection
   */
  async function test(connection) {
    show(detail, h("p", { role: "status" }, `Testing ${connection.name}…`));
    try {
      const result = await api("POST", `/api/v1/connections/${connection.id}/test`);
      show(detail, h("div", { class: "card", "data-testid": "test-result" }, h("h2", {}, `Test of ${connection.name}`),
        h("p", { class: result.ok ? "ok" : "error", role: "status" }, result.ok ? "✓ " : "✗ ", result.message,
          result.tables !== undefined && result.tables !== null ? ` — ${result.tables} table(s)` : "")));
    } catch (error) { show(detail, errorText(error)); }
  }

  /**
   * @param {any} connection
   */
  async function browse(connection, refresh = false) {
    show(detail, h("p", { role: "status" }, `Reading the schema of ${connection.name}…`));
    try {
      const schema = await api("GET", `/api/v1/connections/${connection.id}/discover${refresh ? "?refresh=true" : ""}`);
      show(detail, h("section", { class: "card", "data-testid": "schema-browser" },
        h("div", { class: "spread" }, h("h2", {}, `Schema of ${connection.name}`),
          h("button", { type: "button", onclick: () => browse(connection, true) }, "Refresh")),
        h("p", { class: "hint" }, `Read ${time(schema.discovered_at)}`),
        ...schema.tables.map((/** @type {any} */ t) => h("details", { "data-table": t.name },
          h("summary", {}, `${t.schema ? t.schema + "." : ""}${t.name}`, h("span", { class: "hint" }, ` ${t.columns.length} column(s)`)),
          h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Column"), h("th", {}, "Database type"), h("th", {}, "Sluice type"), h("th", {}, "Nullable"), h("th", {}, "Key"))),
            h("tbody", {}, ...t.columns.map((/** @type {any} */ col) => h("tr", {},
              h("td", {}, col.name), h("td", {}, col.database_type ?? ""), h("td", {}, col.type ?? ""), h("td", {}, col.nullable ? "yes" : "no"),
              h("td", {}, col.primary_key ? "primary" : "")))))))));
    } catch (error) { show(detail, errorText(error)); }
  }

  /**
   * @param {any} [existing]
   */
  function edit(existing) {
    const type = /** @type {HTMLSelectElement} */ (h("select", { id: "connection-type", disabled: !!existing },
      ...types.map((/** @type {any} */ t) => h("option", { value: t.type }, `${t.type} — ${t.summary}`))));
    if (existing) type.value = existing.type;
    const name = /** @type {HTMLInputElement} */ (h("input", { id: "connection-name", required: true, value: existing ? existing.name : "" }));
    const fieldsBox = h("div");
    const message = h("div");
    /**
     * @type {ReturnType<typeof renderFields>}
     */
    let fields = renderFields([]);
    const renderType = () => {
      const spec = types.find((/** @type {any} */ t) => t.type === type.value);
      fields = renderFields(spec.fields, { initial: existing ? existing.settings : {}, secretsSet: existing ? existing.secrets_set : [], idPrefix: "connection" });
      show(fieldsBox, fields.element);
    };
    type.addEventListener("change", renderType);
    renderType();
    const form = h("form", { class: "card", "aria-label": existing ? `Edit ${existing.name}` : "New connection", onsubmit: async (/** @type {Event} */ event) => {
      event.preventDefault();
      show(message);
      let values;
      try { values = fields.values(); } catch { return; }
      try {
        const body = { name: name.value, type: type.value, settings: values.settings, secrets: values.secrets };
        if (existing) await api("PUT", `/api/v1/connections/${existing.id}`, body); else await api("POST", "/api/v1/connections", body);
        await connectionsPage(view, me);
      } catch (error) {
        const e = /** @type {any} */ (error);
        if (!(e.field && fields.showError(e.field, e.message))) show(message, errorText(error));
      }
    } },
    h("h2", {}, existing ? `Edit ${existing.name}` : "New connection"),
    h("label", { for: "connection-type" }, "Type"), type,
    h("label", { for: "connection-name" }, "Name"), name,
    fieldsBox, message,
    h("p", { class: "row" }, h("button", { class: "primary", type: "submit" }, "Save"), h("button", { type: "button", onclick: () => show(detail) }, "Cancel")));
    show(detail, form);
    name.focus();
  }

  show(view, h("div", { class: "spread" }, h("h1", {}, "Connections"),
    me.role === "admin" ? h("button", { class: "primary", type: "button", onclick: () => edit() }, "New connection") : null), table, detail);
}

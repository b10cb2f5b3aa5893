// @ts-check
// Triggers: list, create and edit per kind, link pipelines with parameter mapping, enable/disable, fire now,
// and the history of firings.
import { api } from "../api.js";
import { errorText, h, show, time } from "../dom.js";
import { renderFields } from "../form.js";

/**
 * @param {HTMLElement} view
 * @param {any} [_me]
 * @param {HTMLElement} [notice]  shown above the list (e.g. a new webhook's secret)
 */
export async function triggersPage(view, _me, notice) {
  const [triggers, pipelines, kinds, connections] = await Promise.all([api("GET", "/api/v1/triggers"), api("GET", "/api/v1/pipelines"),
    api("GET", "/api/v1/trigger-kinds"), api("GET", "/api/v1/connections")]);
  const names = new Map(pipelines.map((/** @type {any} */ p) => [p.id, p.name]));
  const detail = h("div", { id: "trigger-detail" });
  const message = h("div", { id: "triggers-message" }, notice ?? "");

  /**
   * @param {any} trigger
   * @param {string} path
   */
  async function act(trigger, path) {
    try {
      const result = await api("POST", `/api/v1/triggers/${trigger.id}/${path}`, path === "fire" ? {} : undefined);
      if (path === "fire") {
        const runs = result.runs?.length ?? 0;
        const what = result.outcome === "fired" ? `${runs} run${runs === 1 ? "" : "s"} queued` : `${result.outcome}${result.detail ? `: ${result.detail}` : ""}`;
        // The list again, with the firing as its last outcome.
        await triggersPage(view, _me, h("p", { class: result.outcome === "fired" ? "ok" : "error" }, `${trigger.name}: ${what}.`));
      }
      else await triggersPage(view);
    } catch (error) { show(message, errorText(error)); }
  }

  /** @param {any} trigger */
  async function history(trigger) {
    const firings = await api("GET", `/api/v1/triggers/${trigger.id}/history?limit=50`);
    show(detail, h("section", { class: "card" }, h("h2", {}, `Firings of ${trigger.name}`),
      h("table", { "aria-label": "Firings" }, h("thead", {}, h("tr", {}, h("th", {}, "Time"), h("th", {}, "Outcome"), h("th", {}, "Rule"), h("th", {}, "Runs"), h("th", {}, "Detail"), h("th", {}, "Event"))),
        h("tbody", {}, ...firings.map((/** @type {any} */ f) => h("tr", {}, h("td", {}, time(f.at)), h("td", {}, h("span", { class: `status ${f.outcome === "fired" ? "succeeded" : f.outcome === "failed" ? "failed" : ""}` }, f.outcome)),
          h("td", {}, f.rule_result), h("td", {}, ...f.runs.map((/** @type {string} */ id) => h("a", { href: `#/run/${id}` }, id.slice(0, 8) + " "))),
          h("td", { class: "name" }, f.detail ?? ""), h("td", { class: "name" }, h("details", {}, h("summary", {}, "event"), h("code", {}, JSON.stringify(f.event)))))),
          ...(firings.length ? [] : [h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No firings yet."))])))));
  }

  /** @param {any} [existing] */
  function edit(existing) {
    const kind = /** @type {HTMLSelectElement} */ (h("select", { id: "trigger-kind", disabled: !!existing }, ...kinds.map((/** @type {any} */ k) => h("option", { value: k.kind }, k.kind))));
    const name = /** @type {HTMLInputElement} */ (h("input", { id: "trigger-name", required: true, value: existing?.name ?? "" }));
    const settingsBox = h("div", { id: "trigger-settings" });
    /** @type {ReturnType<typeof renderFields>} */
    let settings = renderFields([]);
    const renderKind = () => {
      const fields = kinds.find((/** @type {any} */ k) => k.kind === kind.value)?.fields ?? [];
      settings = renderFields(fields, { initial: existing && existing.kind === kind.value ? existing.settings : {}, idPrefix: "trigger-setting",
                                        connections: connections.map((/** @type {any} */ c) => c.name) });
      show(settingsBox, settings.element);
    };
    const rule = /** @type {HTMLInputElement} */ (h("input", { id: "trigger-rule", placeholder: "e.g. new_rows > 100", value: existing?.rule ?? "" }));
    const overlap = /** @type {HTMLSelectElement} */ (h("select", { id: "trigger-overlap" }, h("option", { value: "" }, "default for the kind"),
      ...["skip", "queue", "cancel-previous"].map((o) => h("option", { value: o }, o))));
    const pipeline = /** @type {HTMLSelectElement} */ (h("select", { id: "trigger-pipeline" }, h("option", { value: "" }, "— no pipeline —"),
      ...pipelines.map((/** @type {any} */ p) => h("option", { value: p.id }, p.name))));
    const parameters = /** @type {HTMLInputElement} */ (h("input", { id: "trigger-parameters", placeholder: '{"since": "${event.old_watermark}"}' }));
    const errors = { settings: h("div", { class: "field-error", id: "trigger-settings-error", role: "alert" }), rule: h("div", { class: "field-error", role: "alert" }),
      name: h("div", { class: "field-error", role: "alert" }), pipelines: h("div", { class: "field-error", role: "alert" }) };
    const formMessage = h("div");
    if (existing) {
      kind.value = existing.kind;
      overlap.value = existing.overlap;
      const link = existing.pipelines[0];
      if (link) { pipeline.value = link.pipeline_id; parameters.value = Object.keys(link.parameters ?? {}).length ? JSON.stringify(link.parameters) : ""; }
    }
    kind.addEventListener("change", renderKind);
    renderKind();
    const form = h("form", { class: "card", "aria-label": existing ? `Edit ${existing.name}` : "New trigger", onsubmit: async (/** @type {Event} */ event) => {
      event.preventDefault();
      for (const e of Object.values(errors)) e.textContent = "";
      show(formMessage);
      /** @type {any} */
      let parsedSettings, parsedParameters = {};
      try { parsedSettings = settings.values().settings; } catch { return; }
      try { if (parameters.value.trim()) parsedParameters = JSON.parse(parameters.value); } catch { errors.pipelines.textContent = "parameters must be a JSON object"; return; }
      /** @type {any} */
      const body = { name: name.value, kind: kind.value, settings: parsedSettings, rule: rule.value.trim() || null,
        pipelines: pipeline.value ? [{ pipeline_id: pipeline.value, parameters: parsedParameters }] : [] };
      if (overlap.value) body.overlap = overlap.value;
      if (existing) body.enabled = existing.enabled;
      try {
        const saved = existing ? await api("PUT", `/api/v1/triggers/${existing.id}`, body) : await api("POST", "/api/v1/triggers", body);
        await triggersPage(view, _me, saved.secret ? h("div", { class: "card", role: "status" }, h("strong", {}, "Webhook secret (shown once): "),
          h("code", { "data-testid": "webhook-secret" }, saved.secret),
          h("p", { class: "hint" }, `POST ${location.origin}${saved.webhook_path ?? `/hooks/${saved.id}`} with Authorization: Bearer <secret>`)) : undefined);
      } catch (error) {
        const e = /** @type {any} */ (error);
        const field = String(e.field ?? "");
        if (field.startsWith("settings.") && settings.showError(field, e.message)) return;
        const target = field.startsWith("settings") ? errors.settings : field === "rule" ? errors.rule : field === "name" ? errors.name : field.startsWith("pipelines") || field.startsWith("parameters") ? errors.pipelines : null;
        if (target) target.textContent = `${field}: ${e.message}`; else show(formMessage, errorText(error));
      }
    } },
    h("h2", {}, existing ? `Edit ${existing.name}` : "New trigger"),
    h("label", { for: "trigger-name" }, "Name"), name, errors.name,
    h("label", { for: "trigger-kind" }, "Kind"), kind,
    h("h3", {}, "Settings"), settingsBox, errors.settings,
    h("label", { for: "trigger-rule" }, "Rule ", h("span", { class: "hint" }, "(optional expression over the event's fields)")), rule, errors.rule,
    h("label", { for: "trigger-overlap" }, "When the pipeline is still running"), overlap,
    h("label", { for: "trigger-pipeline" }, "Pipeline to start"), pipeline,
    h("label", { for: "trigger-parameters" }, "Run parameters from the event ", h("span", { class: "hint" }, "(JSON: parameter → template such as ${event.path})")), parameters, errors.pipelines,
    formMessage,
    h("p", { class: "row" }, h("button", { type: "submit", class: "primary", id: "trigger-save" }, "Save"), h("button", { type: "button", onclick: () => show(detail) }, "Cancel")));
    show(detail, form);
    name.focus();
  }

  /**
   * Its last firing: the outcome, when, and the status of the run it queued (linked).
   * @param {any} t
   */
  function lastOutcome(t) {
    const f = t.last_firing;
    if (!f) return h("span", { class: "hint" }, "never fired");
    const run = f.runs?.[f.runs.length - 1];
    const outcome = f.outcome === "fired" ? "queued a run" : f.outcome;
    return h("div", { "data-testid": "last-firing" }, h("div", {}, `${outcome}, ${time(f.at)}`),
      run && t.last_run_status ? h("a", { href: `#/run/${run}`, class: `status ${t.last_run_status}` }, `run ${t.last_run_status}`) : null);
  }

  const rows = triggers.map((/** @type {any} */ t) => h("tr", { "data-trigger": t.name },
    h("td", { class: "name" }, t.name, t.declared_in ? h("div", { class: "hint" }, "declared in the pipeline document") : null,
      ...(t.warnings ?? []).map((/** @type {string} */ w) => h("div", { class: "warning", role: "note", "data-testid": "trigger-warning" }, `⚠ ${w}`))),
    h("td", {}, t.kind),
    h("td", { "data-testid": "trigger-schedule" }, t.schedule ?? "",
      t.next_fires?.length ? h("div", { class: "hint" }, "next: ", t.next_fires.map((/** @type {number} */ at) => time(at)).join(" · ")) : null),
    h("td", {}, lastOutcome(t)),
    h("td", {}, t.enabled ? "enabled" : "disabled",
      // A stored definition this version no longer accepts: it does not fire until it is saved again.
      t.problem ? h("div", { class: "error", role: "alert", "data-testid": "trigger-problem" }, `Not valid: ${t.problem}. Edit and save it to fix it.`) : null),
    h("td", { class: "name" }, t.pipelines.map((/** @type {any} */ l) => names.get(l.pipeline_id) ?? l.pipeline_id).join(", ")),
    h("td", {}, h("div", { class: "row" },
      h("button", { type: "button", onclick: () => act(t, t.enabled ? "disable" : "enable") }, t.enabled ? "Disable" : "Enable"),
      h("button", { type: "button", onclick: () => act(t, "fire") }, "Fire now"),
      h("button", { type: "button", onclick: () => history(t) }, "History"),
      t.declared_in ? null : h("button", { type: "button", onclick: () => edit(t) }, "Edit"),
      t.declared_in ? null : h("button", { type: "button", class: "danger", onclick: async () => {
        if (!confirm(`Delete trigger "${t.name}" and its history?`)) return;
        try { await api("DELETE", `/api/v1/triggers/${t.id}`); await triggersPage(view); } catch (error) { show(message, errorText(error)); }
      } }, "Delete")))));
  show(view, h("div", { class: "spread" }, h("h1", {}, "Triggers"), h("button", { type: "button", class: "primary", onclick: () => edit() }, "New trigger")), message,
    h("table", { "aria-label": "Triggers" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Kind"), h("th", {}, "When"), h("th", {}, "Last"), h("th", {}, "State"), h("th", {}, "Pipelines"), h("th", {}, "Actions"))),
      h("tbody", {}, ...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No triggers yet."))]))), detail);
}

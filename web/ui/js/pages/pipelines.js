// @ts-check
// Pipelines: search, last run, run now, delete (confirmed), import and export of the YAML document.
import { api, parseDocument, uploadFile } from "../api.js";
import { download, errorText, h, show, time } from "../dom.js";
import { askParameters } from "../run-dialog.js";
import { templates } from "../templates.js";

/**
 * @param {HTMLElement} view
 */
export async function pipelinesPage(view) {
  const pipelines = await api("GET", "/api/v1/pipelines");
  const search = /** @type {HTMLInputElement} */ (h("input", { type: "search", id: "pipeline-search", placeholder: "Search pipelines", "aria-label": "Search pipelines" }));
  const message = h("div", { role: "status", id: "pipelines-message" });
  const body = h("tbody");
  const table = h("table", { "aria-label": "Pipelines" },
    h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Revision"), h("th", {}, "Your role"), h("th", {}, "Last run"), h("th", {}, "Updated"), h("th", {}, "Actions"))), body);
  const lastRuns = new Map(await Promise.all(pipelines.map(async (/** @type {any} */ p) => {
    const runs = await api("GET", `/api/v1/runs?pipeline=${encodeURIComponent(p.id)}&limit=1`);
    return /** @type {[string, any]} */ ([p.id, runs[0] ?? null]);
  })));

  function render() {
    const query = search.value.trim().toLowerCase();
    const shown = pipelines.filter((/** @type {any} */ p) => p.name.toLowerCase().includes(query));
    show(body, ...shown.map((/** @type {any} */ p) => {
      const last = lastRuns.get(p.id);
      const canRun = ["owner", "editor", "runner"].includes(p.role);
      return h("tr", { "data-pipeline": p.name },
        h("td", { class: "name" }, h("a", { href: `#/edit/${p.id}` }, p.name)),
        h("td", {}, String(p.current_revision)),
        h("td", {}, p.role),
        h("td", {}, last ? h("span", { class: `status ${last.status}` }, last.status) : "never", last ? h("div", { class: "hint" }, time(last.queued_at)) : null),
        h("td", {}, time(p.updated_at)),
        h("td", {}, h("div", { class: "row" },
          canRun ? h("button", { type: "button", onclick: () => runNow(p) }, "Run now") : null,
          h("button", { type: "button", onclick: () => exportYAML(p) }, "Export"),
          p.role === "owner" ? h("button", { type: "button", class: "danger", onclick: () => remove(p) }, "Delete") : null)));
    }));
    if (shown.length === 0) body.append(h("tr", {}, h("td", { colspan: 6, class: "empty" }, pipelines.length ? "No pipeline matches." : "No pipelines yet: import a pipeline document.")));
  }

  /**
   * @param {any} pipeline
   */
  async function runNow(pipeline) {
    try {
      const full = await api("GET", `/api/v1/pipelines/${pipeline.id}`);
      const parsed = await parseDocument(full.document);
      const parameters = await askParameters(parsed.parameters);
      if (parameters === null) return;
      const run = await api("POST", `/api/v1/pipelines/${pipeline.id}/runs`, { parameters });
      show(message, h("p", { class: "ok" }, `Run of ${pipeline.name} queued. `, h("a", { href: `#/runs?pipeline=${pipeline.id}` }, "See runs")));
      lastRuns.set(pipeline.id, run);
      render();
    } catch (error) { show(message, errorText(error)); }
  }

  /**
   * @param {any} pipeline
   */
  async function exportYAML(pipeline) {
    const full = await api("GET", `/api/v1/pipelines/${pipeline.id}`);
    download(`${pipeline.name}.yaml`, full.document, "application/yaml");
  }

  /**
   * @param {any} pipeline
   */
  async function remove(pipeline) {
    if (!confirm(`Delete pipeline "${pipeline.name}" with all its revisions and runs? This cannot be undone.`)) return;
    try {
      await api("DELETE", `/api/v1/pipelines/${pipeline.id}`);
      pipelines.splice(pipelines.indexOf(pipeline), 1);
      render();
    } catch (error) { show(message, errorText(error)); }
  }

  const importBox = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: "import-yaml", "aria-label": "Pipeline document (YAML)", placeholder: "apiVersion: sluice/v1\nname: …" }));
  const file = /** @type {HTMLInputElement} */ (h("input", { type: "file", accept: ".yaml,.yml", "aria-label": "Pipeline file", onchange: async () => {
    if (file.files && file.files[0]) importBox.value = await file.files[0].text();
  } }));
  const importMessage = h("div");
  const importForm = h("form", { class: "card", onsubmit: async (/** @type {Event} */ event) => {
    event.preventDefault();
    try {
      await api("POST", "/api/v1/pipelines", { document: importBox.value, message: "imported" });
      await pipelinesPage(view);
    } catch (error) { show(importMessage, errorText(error)); }
  } }, h("h2", {}, "Import a pipeline document"), file, importBox, importMessage, h("p", {}, h("button", { class: "primary", type: "submit" }, "Import")));

  /**
   * Puts a template into the import box (its sample data uploaded to the caller's folder first).
   * @param {import("../templates.js").PipelineTemplate} template
   */
  async function useTemplate(template) {
    try {
      let yaml = template.yaml;
      if (template.sample) {
        const home = (await api("GET", "/api/v1/files")).home;
        const path = `${String(home).replace(/\/+$/, "")}/${template.sample.name}`;
        await uploadFile(path, new Blob([template.sample.text], { type: "text/csv" }), () => {});
        yaml = yaml.replace("__DATA__", path);
      }
      importBox.value = yaml;
      show(importMessage, h("p", { class: "hint" }, template.sample ? "Its sample data is in your folder. Import it as it is, or edit it first." : "Name your own files and connections, then Import."));
      importBox.scrollIntoView({ block: "center" });
      importBox.focus();
    } catch (error) { show(importMessage, errorText(error)); }
  }

  const starters = pipelines.length ? null : h("section", { class: "card", id: "templates", "aria-label": "Start from a template" },
    h("h2", {}, "Start from a template"),
    h("div", { class: "templates" }, ...templates.map((t) => h("div", { class: "template", "data-template": t.id },
      h("h3", {}, t.title), h("p", { class: "hint" }, t.summary),
      h("button", { type: "button", onclick: () => useTemplate(t) }, "Use this")))));

  search.addEventListener("input", render);
  render();
  show(view, h("div", { class: "spread" }, h("h1", {}, "Pipelines"), h("div", { class: "row" }, search, h("a", { class: "button primary", href: "#/new" }, "New pipeline"))),
    message, table, starters ?? "", importForm);
}

// @ts-check
// Runs: newest first, filtered by pipeline, status and trigger.
import { api } from "../api.js";
import { h, show, time } from "../dom.js";

const statuses = ["", "queued", "running", "succeeded", "failed", "cancelled"];

/**
 * @param {HTMLElement} view
 */
export async function runsPage(view) {
  const params = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const pipelines = await api("GET", "/api/v1/pipelines");
  const names = new Map(pipelines.map((/** @type {any} */ p) => [p.id, p.name]));
  const pipeline = /** @type {HTMLSelectElement} */ (h("select", { id: "runs-pipeline", "aria-label": "Pipeline" }, h("option", { value: "" }, "All pipelines"),
    ...pipelines.map((/** @type {any} */ p) => h("option", { value: p.id }, p.name))));
  const status = /** @type {HTMLSelectElement} */ (h("select", { id: "runs-status", "aria-label": "Status" }, ...statuses.map((s) => h("option", { value: s }, s || "Any status"))));
  pipeline.value = params.get("pipeline") ?? "";
  status.value = params.get("status") ?? "";
  const body = h("tbody");
  async function load() {
    const query = new URLSearchParams();
    if (pipeline.value) query.set("pipeline", pipeline.value);
    if (status.value) query.set("status", status.value);
    if (params.get("trigger")) query.set("trigger", params.get("trigger") ?? "");
    const runs = await api("GET", `/api/v1/runs?${query}`);
    show(body, ...runs.map((/** @type {any} */ r) => h("tr", { "data-run": r.id },
      h("td", { class: "name" }, names.get(r.pipeline_id) ?? r.pipeline_id), h("td", {}, h("a", { href: `#/run/${r.id}`, class: `status ${r.status}` }, r.status)),
      h("td", {}, time(r.queued_at)), h("td", {}, r.started_at && r.finished_at ? `${((r.finished_at - r.started_at) / 1000).toFixed(2)} s` : "—"),
      h("td", {}, r.requested_by), h("td", { class: "name" }, r.error ?? ""))));
    if (runs.length === 0) body.append(h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No runs match.")));
  }
  pipeline.addEventListener("change", load);
  status.addEventListener("change", load);
  await load();
  show(view, h("div", { class: "spread" }, h("h1", {}, "Runs"), h("div", { class: "row" }, pipeline, status)),
    h("table", { "aria-label": "Runs" }, h("thead", {}, h("tr", {}, h("th", {}, "Pipeline"), h("th", {}, "Status"), h("th", {}, "Queued"), h("th", {}, "Duration"), h("th", {}, "Started by"), h("th", {}, "Error"))), body));
}

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
    await renderChart(runs);
    show(body, ...runs.map((/** @type {any} */ r) => h("tr", { "data-run": r.id },
      h("td", { class: "name" }, names.get(r.pipeline_id) ?? r.pipeline_id), h("td", {}, statusLink(r)),
      h("td", {}, time(r.queued_at)), h("td", {}, r.started_at && r.finished_at ? `${((r.finished_at - r.started_at) / 1000).toFixed(2)} s` : "—"),
      h("td", { class: r.rejected ? "num bad" : "num" }, r.rejected ? r.rejected.toLocaleString() : "0"),
      h("td", {}, r.requested_by), h("td", { class: "name" }, r.error ?? ""))));
    if (runs.length === 0) body.append(h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No runs match.")));
  }
  const chart = h("div", { id: "runs-chart" });
  /**
   * Duration and rows of a pipeline's last finished runs, oldest first (rows: the most any node put out).
   * @param {any[]} runs
   */
  async function renderChart(runs) {
    if (!pipeline.value) { show(chart); return; }
    const finished = runs.filter((r) => r.started_at && r.finished_at).slice(0, 30).reverse();
    if (finished.length < 2) { show(chart); return; }
    const details = await Promise.all(finished.map((r) => api("GET", `/api/v1/runs/${r.id}`)));
    const points = details.map((r) => ({ id: r.id, status: r.status, seconds: (r.finished_at - r.started_at) / 1000,
      rows: Math.max(0, ...(r.nodes ?? []).map((/** @type {any} */ n) => n.records_out)) }));
    show(chart, h("div", { class: "charts" }, bars("Duration (s)", points, (p) => p.seconds, (v) => v.toFixed(2)), bars("Rows", points, (p) => p.rows, (v) => String(v))));
  }
  pipeline.addEventListener("change", load);
  status.addEventListener("change", load);
  await load();
  show(view, h("div", { class: "spread" }, h("h1", {}, "Runs"), h("div", { class: "row" }, pipeline, status)), chart,
    h("table", { "aria-label": "Runs" }, h("thead", {}, h("tr", {}, h("th", {}, "Pipeline"), h("th", {}, "Status"), h("th", {}, "Queued"), h("th", {}, "Duration"), h("th", {}, "Rejected"), h("th", {}, "Started by"), h("th", {}, "Error"))), body));
}

/**
 * A run's status as a link to it; a run that succeeded but rejected records says so in its own colour.
 * @param {any} run
 */
export function statusLink(run) {
  const withRejects = run.status === "succeeded" && run.rejected > 0;
  return h("a", { href: `#/run/${run.id}`, class: `status ${withRejects ? "succeeded-with-rejects" : run.status}` },
    withRejects ? `succeeded with ${run.rejected.toLocaleString()} reject${run.rejected === 1 ? "" : "s"}` : run.status);
}

/**
 * A small bar chart (SVG), one bar per run; each bar's title names the run and its value.
 * @param {string} title
 * @param {any[]} points
 * @param {(p: any) => number} value
 * @param {(v: number) => string} format
 */
function bars(title, points, value, format) {
  const NS = "http://www.w3.org/2000/svg", width = 300, height = 110, top = Math.max(...points.map(value), 1e-9);
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height + 16}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${title} per run, oldest first; the largest is ${format(top)}`);
  const step = width / points.length;
  points.forEach((p, i) => {
    const bar = document.createElementNS(NS, "rect");
    const h_ = Math.max(1, (value(p) / top) * height);
    bar.setAttribute("x", String(i * step + 1)); bar.setAttribute("width", String(Math.max(1, step - 2)));
    bar.setAttribute("y", String(height - h_)); bar.setAttribute("height", String(h_));
    bar.setAttribute("class", `bar ${p.status}`);
    const tip = document.createElementNS(NS, "title");
    tip.textContent = `run ${p.id.slice(0, 8)}: ${format(value(p))}`;
    bar.append(tip);
    svg.append(bar);
  });
  const label = document.createElementNS(NS, "text");
  label.setAttribute("x", "0"); label.setAttribute("y", String(height + 14));
  label.textContent = `max ${format(top)}`;
  svg.append(label);
  return h("figure", { class: "chart" }, h("figcaption", {}, title), svg);
}

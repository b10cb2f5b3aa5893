// @ts-check
// The home page: how runs went in the last day and week, what runs now, the queue, failing pipelines, slow
// pipelines, trigger health and live workers. Live: run events over the WebSocket refresh it (at most every 2 s).
import { api } from "../api.js";
import { h, show, svg, time } from "../dom.js";
import { live } from "../live.js";

const statuses = ["succeeded", "failed", "cancelled", "running", "queued"];

/**
 * @param {HTMLElement} view
 */
export async function dashboardPage(view) {
  const content = h("div", { id: "dashboard" });
  show(view, h("div", { class: "spread" }, h("h1", {}, "Dashboard"), h("span", { class: "hint", id: "dashboard-updated" })), content);
  let pending = false;
  let last = 0;

  async function refresh() {
    const data = await api("GET", "/api/v1/dashboard");
    last = Date.now();
    render(content, data);
    const updated = document.getElementById("dashboard-updated");
    if (updated) updated.textContent = `updated ${new Date(data.generated_at).toLocaleTimeString()}`;
  }

  await refresh();
  const stop = live.subscribe({ all: true }, (data) => {
    if (!view.isConnected || !(location.hash === "" || location.hash.startsWith("#/dashboard") || location.hash === "#/")) { stop(); return; }
    if (data.type !== "update" || pending) return;
    pending = true;
    setTimeout(() => { pending = false; refresh().catch(() => {}); }, Math.max(0, 2000 - (Date.now() - last)));
  });
}

/**
 * @param {HTMLElement} content
 * @param {any} data
 */
function render(content, data) {
  show(content,
    h("div", { class: "tiles" },
      tile("Runs, last 24 h", data.last_day, "tile-day"),
      tile("Runs, last 7 days", data.last_week, "tile-week"),
      h("section", { class: "tile", "data-testid": "tile-queue" }, h("h2", {}, "Queue"),
        h("p", { class: "big" }, String(data.queue_depth)),
        h("p", { class: "hint" }, data.queue_depth === 0 ? "nothing waiting" : `oldest waits ${seconds(data.oldest_queued_seconds)}`)),
      h("section", { class: "tile", "data-testid": "tile-workers" }, h("h2", {}, "Workers"),
        h("p", { class: "big" }, String(data.workers.length)),
        h("p", { class: "hint" }, data.workers.length === 0 ? "no worker process alive: runs wait in the queue"
          : `${data.workers.reduce((/** @type {number} */ n, /** @type {any} */ w) => n + w.busy, 0)} of ${data.workers.reduce((/** @type {number} */ n, /** @type {any} */ w) => n + w.slots, 0)} slots busy`))),
    h("div", { class: "charts" },
      stacked("Runs per hour, last 24 h", data.hourly, (/** @type {number} */ start) => new Date(start).getHours() + ":00"),
      stacked("Runs per day, last 7 days", data.daily, (/** @type {number} */ start) => new Date(start).toLocaleDateString(undefined, { weekday: "short" }))),
    h("h2", {}, "Running now"),
    data.running.length === 0 ? h("p", { class: "hint" }, "No run is running.")
      : table("Running runs", ["Pipeline", "Started", "Records read", "Attempt"], data.running.map((/** @type {any} */ r) => [
        h("a", { href: `#/run/${r.run_id}` }, r.pipeline), time(r.started_at), r.records_read.toLocaleString(), String(r.attempt)])),
    h("h2", {}, "Failing pipelines"),
    data.failing.length === 0 ? h("p", { class: "hint", "data-testid": "no-failing" }, "No pipeline's last run failed.")
      : table("Failing pipelines", ["Pipeline", "Failed", "Last error"], data.failing.map((/** @type {any} */ f) => [
        h("a", { href: `#/run/${f.run_id}` }, f.name), time(f.failed_at), h("span", { class: "error" }, f.error ?? "")])),
    h("h2", {}, "Pipelines, last 7 days"),
    data.pipelines.length === 0 ? h("p", { class: "hint" }, "No runs in the last 7 days.")
      : table("Pipeline health", ["Pipeline", "Runs", "Success rate", "Average", "Longest"], data.pipelines.map((/** @type {any} */ p) => [
        h("a", { href: `#/edit/${p.pipeline_id}` }, p.name), String(p.runs), rate(p.success_rate), seconds(p.average_seconds), seconds(p.longest_seconds)])),
    h("h2", {}, "Slowest pipelines"),
    data.slowest.length === 0 ? h("p", { class: "hint" }, "No finished runs yet.")
      : table("Slowest pipelines", ["Pipeline", "Average", "Longest"], data.slowest.map((/** @type {any} */ p) => [p.name, seconds(p.average_seconds), seconds(p.longest_seconds)])),
    h("h2", {}, "Triggers"),
    data.triggers.length === 0 ? h("p", { class: "hint" }, "No triggers.")
      : table("Trigger health", ["Trigger", "Kind", "Last firing", "Outcome", "Problems (7 days)"], data.triggers.map((/** @type {any} */ t) => [
        t.name + (t.enabled ? "" : " (disabled)"), t.kind, t.last_fired_at ? time(t.last_fired_at) : "never",
        h("span", { class: ["fired", "filtered", "skipped"].includes(t.last_outcome) ? "" : "error", title: t.last_detail ?? "" }, t.last_outcome ?? "—"),
        h("span", { class: t.problems > 0 ? "error" : "" }, String(t.problems))])));
}

/**
 * A tile with the total and a line per status.
 * @param {string} title
 * @param {any} counts
 * @param {string} testid
 */
function tile(title, counts, testid) {
  const total = statuses.reduce((n, s) => n + counts[s], 0);
  const finished = counts.succeeded + counts.failed;
  return h("section", { class: "tile", "data-testid": testid }, h("h2", {}, title),
    h("p", { class: "big" }, String(total)),
    h("p", {}, ...statuses.filter((s) => counts[s] > 0).map((s) => h("span", { class: `status ${s}` }, `${counts[s]} ${s} `))),
    h("p", { class: "hint" }, finished === 0 ? "no finished runs" : `${rate(counts.succeeded / finished)} succeeded`));
}

/**
 * A stacked bar chart of run counts by status, one bar per bucket (SVG).
 * @param {string} title
 * @param {any[]} buckets
 * @param {(start: number) => string} label
 */
function stacked(title, buckets, label) {
  const width = 320, height = 110, step = width / buckets.length;
  const totals = buckets.map((b) => statuses.reduce((n, s) => n + b.counts[s], 0));
  const top = Math.max(1, ...totals);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height + 16}`, role: "img", "aria-label": `${title}; the busiest has ${top} run(s)` });
  buckets.forEach((bucket, i) => {
    let y = height;
    for (const status of statuses) {
      const count = bucket.counts[status];
      if (count === 0) continue;
      const size = Math.max(1, (count / top) * height);
      y -= size;
      const bar = svg("rect", { x: i * step + 1, width: Math.max(1, step - 2), y, height: size, class: `bar ${status}` });
      const tip = svg("title");
      tip.textContent = `${label(bucket.start)}: ${count} ${status}`;
      bar.append(tip);
      chart.append(bar);
    }
  });
  const first = svg("text", { x: 0, y: height + 14 });
  first.textContent = label(buckets[0].start);
  const end = svg("text", { x: width, y: height + 14, "text-anchor": "end" });
  end.textContent = `max ${top}`;
  chart.append(first, end);
  return h("figure", { class: "chart" }, h("figcaption", {}, title), chart);
}

/**
 * @param {string} label
 * @param {string[]} headings
 * @param {any[][]} rows
 */
function table(label, headings, rows) {
  return h("table", { "aria-label": label }, h("thead", {}, h("tr", {}, ...headings.map((x) => h("th", {}, x)))),
    h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((c) => h("td", {}, c))))));
}

/** @param {number|null|undefined} value */
function rate(value) { return value == null ? "—" : `${Math.round(value * 1000) / 10} %`; }

/** @param {number|null|undefined} value */
function seconds(value) {
  if (value == null) return "—";
  if (value < 60) return `${value.toFixed(value < 10 ? 2 : 1)} s`;
  if (value < 3600) return `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
  return `${Math.floor(value / 3600)} h ${Math.round((value % 3600) / 60)} min`;
}

// @ts-check
// One run: status, per-node counters and rates (live over the WebSocket), a timeline when finished, the log
// stream, and rejected records with download and replay.
import { logLine, sampleTable, timelineChart } from "../run-view.js";
import { api } from "../api.js";
import { download, errorText, h, show, time } from "../dom.js";
import { live } from "../live.js";
import { runSteps } from "../run-steps.js";

/**
 * @param {HTMLElement} view
 */
export async function runPage(view) {
  const id = location.hash.split("/")[2] ?? "";
  let run = await api("GET", `/api/v1/runs/${id}`);
  const pipeline = await api("GET", `/api/v1/pipelines/${run.pipeline_id}`).catch(() => null);
  /**
   * @type {Record<string, number>}
   */
  let rates = {};
  /**
   * How far nodes that know their total work are (file sources), from 0 to 1.
   * @type {Record<string, number>}
   */
  let progress = {};
  const header = h("div");
  const nodesBox = h("div");
  const timeline = h("div");
  const logBox = h("pre", { class: "log", id: "run-log", "aria-label": "Run log", tabindex: 0 });
  const rejectsBox = h("div", { id: "rejects" });
  const samplesBox = h("section", { id: "samples", class: "samples" });
  const stepsBox = h("section", { id: "steps" });
  const steps = runSteps(stepsBox, id);
  const message = h("div");
  let logSeq = 0;

  /** How many attempts: the current one of the allowed while it runs, how many it took once it ended. */
  function attempts() {
    if (!["succeeded", "failed", "cancelled"].includes(run.status)) return `attempt ${run.attempt} of ${run.max_attempts}`;
    return run.attempt === 1 ? "1 attempt" : `${run.attempt} attempts`;
  }

  function renderHeader() {
    const withRejects = run.status === "succeeded" && run.rejected > 0;
    show(header, h("div", { class: "spread" },
      h("h1", {}, "Run of ", pipeline ? h("a", { href: `#/edit/${pipeline.id}` }, pipeline.name) : run.pipeline_id),
      h("div", { class: "row" },
        pipeline && ["succeeded", "failed", "cancelled"].includes(run.status)
          ? h("a", { class: "button", id: "open-on-canvas", href: `#/edit/${pipeline.id}?run=${id}`, title: "The pipeline with this run's statuses and the data on every edge" }, "Open on canvas") : null,
        pipeline && ["owner", "editor", "runner"].includes(pipeline.role) && ["succeeded", "failed", "cancelled"].includes(run.status)
          ? h("button", { type: "button", id: "run-again", title: `A new run of revision ${run.revision} with the same parameters`, onclick: runAgain }, "Run again") : null,
        !["succeeded", "failed", "cancelled"].includes(run.status) ? h("button", { type: "button", onclick: cancel }, "Cancel") : null)),
      h("p", {}, h("span", { class: `status ${withRejects ? "succeeded-with-rejects" : run.status}`, id: "run-status" },
          withRejects ? `succeeded with ${run.rejected.toLocaleString()} reject${run.rejected === 1 ? "" : "s"}` : run.status),
        ` · revision ${run.revision} · ${attempts()} · queued ${time(run.queued_at)}`,
        run.finished_at && run.started_at ? ` · took ${((run.finished_at - run.started_at) / 1000).toFixed(2)} s` : "",
        ` · started by ${run.requested_by}`, run.replay_of ? h("span", {}, " · replays ", h("a", { href: `#/run/${run.replay_of}` }, "an earlier run")) : null),
      run.error ? h("p", { class: "error", role: "alert" }, run.error) : "");
  }

  /**
   * Rows per second: live while the node runs, its average once it ended.
   * @param {any} n
   */
  function rateText(n) {
    const live = rates[n.node];
    if (live) return `${Math.round(live).toLocaleString()} rows/s`;
    const rows = Math.max(n.records_in, n.records_out);
    if (!n.duration_millis || !rows) return "";
    return `${Math.round(rows / (n.duration_millis / 1000)).toLocaleString()} rows/s`;
  }

  function renderNodes() {
    const nodes = run.nodes ?? [];
    show(nodesBox, h("table", { "aria-label": "Nodes" },
      h("thead", {}, h("tr", {}, h("th", {}, "Node"), h("th", {}, "Status"), h("th", {}, "In"), h("th", {}, "Out"), h("th", {}, "Rejected"), h("th", {}, "Rate"), h("th", {}, "Time"))),
      h("tbody", {}, ...nodes.map((/** @type {any} */ n) => h("tr", { "data-node": n.node },
        h("td", { class: "name" }, n.node), h("td", {}, h("span", { class: `status ${n.status}` }, n.status),
          n.status === "running" && progress[n.node] !== undefined ? h("progress", { max: 1, value: progress[n.node], "aria-label": `${n.node}: ${Math.floor(progress[n.node] * 100)}%` }) : null),
        h("td", {}, String(n.records_in)), h("td", {}, String(n.records_out)), h("td", {}, String(n.rejected)),
        h("td", {}, rateText(n)),
        h("td", {}, n.duration_millis ? `${(n.duration_millis / 1000).toFixed(2)} s` : ""),
        n.error ? h("td", { class: "error" }, n.error) : null)))));
    if (["succeeded", "failed", "cancelled"].includes(run.status) && nodes.length) renderTimeline(nodes);
  }

  /**
   * @param {any[]} nodes
   */
  function renderTimeline(nodes) {
    show(timeline, h("h2", {}, "Timeline"), timelineChart(nodes));
  }

  async function loadLogs() {
    const page = await api("GET", `/api/v1/runs/${id}/logs?after=${logSeq}&limit=1000`);
    for (const line of page.lines) appendLog(line);
  }

  /**
   * @param {any} line
   */
  function appendLog(line) {
    if (line.seq <= logSeq) return;
    logSeq = line.seq;
    logBox.append(logLine(line));
  }

  /**
   * Each node output's first rows and row count in this run (kept once the run ended), grouped by node in
   * pipeline order.
   */
  async function loadSamples() {
    if (!["succeeded", "failed", "cancelled"].includes(run.status)) { show(samplesBox); return; }
    /** @type {any[]} */
    let samples = [];
    try { samples = (await api("GET", `/api/v1/runs/${id}/samples`)).samples; } catch { samples = []; }
    if (!samples.length) { show(samplesBox); return; }
    show(samplesBox, h("h2", {}, "Data samples"),
      h("p", { class: "hint" }, "The first rows each node put out (the pipeline's sampleRows setting, 20 unless set; 0 keeps none). Everyone who may see this run sees them."),
      ...samples.map((s) => h("details", { "data-node": s.node, open: samples.length <= 3 },
        h("summary", {}, h("strong", {}, s.node), s.port === "out" ? "" : ` · ${s.port}`, ` — ${s.rows_seen.toLocaleString()} row${s.rows_seen === 1 ? "" : "s"}`),
        sampleTable(s))));
  }

  async function loadRejects() {
    if (!run.rejected) { show(rejectsBox); return; }
    const text = await api("GET", `/api/v1/runs/${id}/rejects`);
    /** @type {any[]} */
    const packets = String(text).split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
    const canReplay = pipeline && ["owner", "editor", "runner"].includes(pipeline.role) && ["succeeded", "failed", "cancelled"].includes(run.status);
    const pageSize = 100;
    const distinct = (/** @type {string} */ key) => [...new Set(packets.map((p) => String(p[key] ?? "")))].sort();
    const nodeFilter = /** @type {HTMLSelectElement} */ (h("select", { id: "rejects-node", "aria-label": "Rejects of node" },
      h("option", { value: "" }, "Every node"), ...distinct("node").map((n) => h("option", { value: n }, n))));
    const codeFilter = /** @type {HTMLSelectElement} */ (h("select", { id: "rejects-code", "aria-label": "Rejects with reason" },
      h("option", { value: "" }, "Every reason"), ...distinct("code").map((c) => h("option", { value: c }, c))));
    const table = h("div");
    let page = 0;
    function renderPage() {
      const shown = packets.filter((p) => (!nodeFilter.value || p.node === nodeFilter.value) && (!codeFilter.value || p.code === codeFilter.value));
      const pages = Math.max(1, Math.ceil(shown.length / pageSize));
      page = Math.min(page, pages - 1);
      const slice = shown.slice(page * pageSize, (page + 1) * pageSize);
      show(table,
        h("p", { class: "row", "data-testid": "rejects-paging" },
          h("span", {}, shown.length ? `${(page * pageSize + 1).toLocaleString()}–${(page * pageSize + slice.length).toLocaleString()} of ${shown.length.toLocaleString()}` : "none match"),
          h("button", { type: "button", disabled: page === 0, onclick: () => { page -= 1; renderPage(); } }, "Previous"),
          h("button", { type: "button", id: "rejects-next", disabled: page >= pages - 1, onclick: () => { page += 1; renderPage(); } }, "Next")),
        h("table", { "aria-label": "Rejected records" }, h("thead", {}, h("tr", {}, h("th", {}, "Node"), h("th", {}, "Line or source row"), h("th", {}, "Reason"), h("th", {}, "Record"))),
          h("tbody", {}, ...slice.map((p) => h("tr", {}, h("td", {}, p.node ?? ""), h("td", {}, p.line != null ? `line ${p.line}` : p.origin ? p.origin : p.row != null ? `row ${p.row}` : ""),
            h("td", { class: "name" }, `${p.code ?? ""}: ${p.message ?? ""}${p.field ? ` (${p.field})` : ""}`),
            // A source's reject keeps the raw input line; a later node's, the row's values.
            h("td", { class: "name" }, h("code", {}, p.raw != null ? p.raw : JSON.stringify(p.record ?? p.values ?? ""))))))));
    }
    nodeFilter.addEventListener("change", () => { page = 0; renderPage(); });
    codeFilter.addEventListener("change", () => { page = 0; renderPage(); });
    renderPage();
    show(rejectsBox, h("h2", {}, `Rejected records (${run.rejected})`),
      h("p", { class: "row" },
        h("a", { class: "button", href: `/api/v1/runs/${id}/rejects?format=csv`, onclick: downloadRejects("csv") }, "Download CSV"),
        h("a", { class: "button", href: `/api/v1/runs/${id}/rejects`, onclick: downloadRejects("jsonl") }, "Download JSON lines"),
        canReplay ? h("button", { type: "button", class: "primary", id: "replay-rejects", onclick: replay }, "Replay rejects") : null),
      h("p", { class: "row" }, nodeFilter, codeFilter), table);
  }

  /**
   * Downloads with the access token (a plain link cannot send it).
   * @param {string} format
   */
  function downloadRejects(format) {
    return async (/** @type {Event} */ event) => {
      event.preventDefault();
      download(`rejects-${id}.${format}`, await api("GET", `/api/v1/runs/${id}/rejects${format === "csv" ? "?format=csv" : ""}`));
    };
  }

  async function replay() {
    try {
      const next = await api("POST", `/api/v1/runs/${id}/replay`, {});
      location.hash = `#/run/${next.id}`;
    } catch (error) { show(message, errorText(error)); }
  }

  /** A new run of the same revision with the same parameters (a debug run's breakpoints are not repeated). */
  async function runAgain() {
    try {
      const next = await api("POST", `/api/v1/pipelines/${run.pipeline_id}/runs`, { revision: run.revision, parameters: run.parameters ?? {} });
      location.hash = `#/run/${next.id}`;
    } catch (error) { show(message, errorText(error)); }
  }

  async function cancel() {
    try { run = await api("POST", `/api/v1/runs/${id}/cancel`, {}); renderHeader(); } catch (error) { show(message, errorText(error)); }
  }

  renderHeader();
  renderNodes();
  await loadLogs();
  await loadRejects();
  await loadSamples();
  await steps.load();
  show(view, header, message, h("h2", {}, "Nodes"), nodesBox, stepsBox, timeline, samplesBox, rejectsBox, h("h2", {}, "Log"), logBox);

  if (!["succeeded", "failed", "cancelled"].includes(run.status)) {
    const stop = live.subscribe({ run: id }, async (data) => {
      if (!view.isConnected || !location.hash.startsWith(`#/run/${id}`)) { stop(); return; }
      if (data.type === "snapshot" && data.run?.id === id) { run = data.run; renderHeader(); renderNodes(); }
      if (data.type !== "update" || data.update.run_id !== id) return;
      const update = data.update;
      if (update.nodes) run.nodes = update.nodes;
      if (update.rates) rates = update.rates;
      if (update.progress) progress = update.progress;
      if (update.log) appendLog(update.log);
      if (update.kind === "step" && update.step) { steps.update(update.step); return; }
      if (update.phase) run.status = update.phase;
      if (update.kind === "finished") {
        stop();
        run = await api("GET", `/api/v1/runs/${id}`);
        rates = {};
        await loadLogs();
        await loadRejects();
        await loadSamples();
        await steps.load();
      }
      renderHeader();
      renderNodes();
    });
  }
}

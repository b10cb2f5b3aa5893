// @ts-check
// Watching a run from the editor: each node's status, counters, rate and progress bar drawn on the canvas
// (the live overlay), and the run panel under the canvas with the log as it streams, each failed node's error
// (with a button that selects the node) and a per-node timeline once the run ends.
import { api } from "../api.js";
import { h, show, svg } from "../dom.js";
import { runProgress } from "../graph.js";
import { FOOTER } from "../canvas-geometry.js";
import { live } from "../live.js";
import { logLine, timelineChart } from "../run-view.js";

/**
 * A count with thousands separators up to 999,999, then shortened (1.2M, 12.3M, 1.1B) so three badges fit a node.
 * @param {number} n
 */
export function count(n) {
  const full = Math.round(n).toLocaleString("en-US");
  if (full.length <= 7) return full;
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : `${(n / 1e6).toFixed(1)}M`;
}

/**
 * The live overlay on the canvas. `update` takes a run's node records and redraws only those nodes' parts;
 * `redraw` puts the overlay back after the canvas was rendered again.
 * @param {Element} nodeLayer the canvas layer holding one `g[data-node]` per node
 * @param {Element} edgePaths the group holding one `path[data-edge]` per edge
 * @param {number} nodeWidth
 */
export function createLiveOverlay(nodeLayer, edgePaths, nodeWidth) {
  /**
   * Node id → its status and counters in the run being watched.
   * @type {Map<string, any>}
   */
  const runNodes = new Map();
  /** @type {Map<string, number|null>} */
  let progress = new Map();
  /** @type {Record<string, number>} */
  let rates = {};
  /** @type {Record<string, number>} */
  let reported = {};

  /**
   * Shows a node's run status and counters on the canvas (only that node is touched): badges in the node's
   * footer, the whole line in the group's `aria-label` and tooltip.
   * @param {any} n
   */
  function draw(n) {
    const group = nodeLayer.querySelector(`g[data-node="${CSS.escape(n.node)}"]`);
    if (!group) return;
    group.classList.remove("run-queued", "run-running", "run-succeeded", "run-failed", "run-skipped", "run-cancelled");
    group.classList.add(`run-${n.status}`);
    const height = Number(group.parentElement?.getAttribute("height") ?? 60);
    const fraction = progress.get(n.node) ?? null, rate = rates[n.node];
    const percent = fraction !== null && n.status !== "succeeded" ? ` ${Math.floor(fraction * 100)}%` : "";
    const line = `${n.status}${percent} · in ${count(n.records_in)} · out ${count(n.records_out)}${n.rejected ? ` · rejected ${count(n.rejected)}` : ""}${n.status === "running" && rate ? ` · ${count(rate)}/s` : ""}`;
    let counters = group.querySelector(".node-counters");
    if (!counters) {
      counters = svg("g", { class: "node-counters", transform: `translate(6,${height - FOOTER - 2})` });
      group.append(counters);
    }
    counters.setAttribute("aria-label", line);
    counters.setAttribute("data-counters", line);
    /** @type {[string, string][]} */
    const badges = [[`in ${count(n.records_in)}`, "in"], [`out ${count(n.records_out)}`, "out"]];
    if (n.rejected) badges.push([`✗ ${count(n.rejected)}`, "rejected"]);
    if (n.status === "running" && rate) badges.push([`${count(rate)}/s`, "rate"]);
    else if (percent) badges.push([percent.trim(), "rate"]);
    let x = 0;
    const drawn = [];
    for (const [text, kind] of badges) {
      const width = Math.round(text.length * 5.9 + 10);
      if (x + width > nodeWidth - 12) break;
      const label = svg("text", { x: x + width / 2, y: 12, class: "badge-text", "text-anchor": "middle" });
      label.textContent = text;
      drawn.push(svg("rect", { x, y: 2, width, height: 14, rx: 7, class: `badge ${kind}` }), label);
      x += width + 4;
    }
    counters.replaceChildren(...drawn);
    // A failed node's error (with its location) shows on hover and in the run panel below the canvas.
    const tooltip = group.querySelector("title");
    if (tooltip) tooltip.textContent = n.error ? `${n.status}: ${n.error}` : line;
    // The progress bar along the node's bottom edge: its share when known, a pulsing bar while running when not.
    let bar = group.querySelector(".node-progress");
    if (!bar) {
      group.append(svg("rect", { x: 4, y: height - 4, width: nodeWidth - 8, height: 3, rx: 1.5, class: "node-progress-track" }));
      bar = svg("rect", { x: 4, y: height - 4, width: 0, height: 3, rx: 1.5, class: "node-progress" });
      group.append(bar);
    }
    bar.setAttribute("width", String(Math.round((nodeWidth - 8) * (fraction ?? (n.status === "running" ? 0.3 : 0)))));
    bar.classList.toggle("unknown", fraction === null && n.status === "running");
    bar.setAttribute("data-progress", fraction === null ? "" : fraction.toFixed(3));
    // Edges out of a running node show data flowing.
    for (const path of edgePaths.querySelectorAll(`path[data-edge^="${CSS.escape(n.node)}."]`)) path.classList.toggle("flowing", n.status === "running");
  }

  /**
   * Recomputes every node's progress from the statuses and the progress nodes reported, then draws them all.
   * @param {any} doc
   */
  function redraw(doc) {
    progress = runProgress(doc, new Map([...runNodes.values()].map((n) => [n.node, n.status])), reported);
    for (const n of runNodes.values()) draw(n);
  }

  return {
    redraw,
    /**
     * Starts a new run: every node of the document queued.
     * @param {any} doc
     */
    reset(doc) {
      runNodes.clear();
      rates = {};
      reported = {};
      for (const node of doc.nodes) runNodes.set(node.id, { node: node.id, status: "queued", records_in: 0, records_out: 0, rejected: 0 });
      redraw(doc);
    },
    /**
     * @param {any} doc
     * @param {{nodes?: any[], progress?: Record<string, number>, rates?: Record<string, number>}} update
     */
    update(doc, update) {
      if (update.progress) reported = update.progress;
      if (update.rates) rates = update.rates;
      for (const n of update.nodes ?? []) runNodes.set(n.node, n);
      if (update.nodes) redraw(doc);
    },
  };
}

/**
 * Follows a run over the WebSocket until it ends: updates the overlay and the panel, says the phase, and at the
 * end draws the final state. A short run may end before the subscription starts: its snapshot is then final.
 * @param {string} runId
 * @param {{overlay: ReturnType<typeof createLiveOverlay>, panel: ReturnType<typeof createRunPanel>, doc: () => any,
 *   say: (text: string, bad?: boolean) => void, isShown: () => boolean, finished: (run: any) => void}} to
 */
export function watchRun(runId, { overlay, panel, doc, say, isShown, finished }) {
  const short = runId.slice(0, 8);
  overlay.reset(doc());
  panel.start(runId);
  const stop = live.subscribe({ run: runId }, (data) => {
    if (!isShown()) { stop(); return; }
    const mine = data.type === "update" && data.update.run_id === runId;
    if (mine && data.update.log) panel.append(data.update.log);
    if (data.type === "snapshot") overlay.update(doc(), { nodes: data.run?.nodes });
    if (mine) overlay.update(doc(), data.update);
    const phase = data.type === "snapshot" ? data.run?.status : mine ? data.update.phase : null;
    if (phase) say(`Run ${short}: ${phase}.`, phase === "failed");
    const ended = data.type === "snapshot" ? ["succeeded", "failed", "cancelled"].includes(data.run?.status) : mine && data.update.kind === "finished";
    if (!ended) return;
    stop();
    api("GET", `/api/v1/runs/${runId}`).then((final) => {
      overlay.update(doc(), { nodes: final.nodes ?? [] });
      panel.finish(final);
      say(`Run ${short}: ${final.status}.`, final.status !== "succeeded");
      finished(final);
    });
  });
}

/**
 * @param {(nodeId: string) => void} selectNode
 */
export function createRunPanel(selectNode) {
  const title = h("h2", {}, "Run");
  const errors = h("div", { id: "editor-run-errors" });
  const log = h("pre", { class: "log", id: "editor-run-log", "aria-label": "Run log", tabindex: 0 });
  const timeline = h("div", { id: "editor-run-timeline" });
  const element = h("section", { class: "run-panel", id: "run-panel", "aria-label": "Run" }, title, errors, log, timeline);
  element.hidden = true;
  let runId = "", seq = 0;

  /**
   * @param {any} line
   */
  function append(line) {
    if (line.seq <= seq) return;
    seq = line.seq;
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(logLine(line));
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  return {
    element,
    /**
     * Shows the panel, empty, for a new run.
     * @param {string} id
     */
    start(id) {
      runId = id;
      seq = 0;
      title.textContent = `Run ${id.slice(0, 8)}`;
      log.textContent = "";
      show(errors);
      show(timeline);
      element.hidden = false;
    },
    append,
    /**
     * The finished run: the log lines the stream missed, failed nodes' errors, and the timeline.
     * @param {any} run
     */
    async finish(run) {
      if (run.id !== runId) return;
      title.textContent = `Run ${run.id.slice(0, 8)}: ${run.status}`;
      const page = await api("GET", `/api/v1/runs/${run.id}/logs?after=${seq}&limit=1000`).catch(() => ({ lines: [] }));
      for (const line of page.lines) append(line);
      const failed = (run.nodes ?? []).filter((/** @type {any} */ n) => n.error);
      show(errors, failed.length || run.error ? h("ul", { class: "errors", role: "alert" },
        ...failed.map((/** @type {any} */ n) => h("li", {}, h("button", { type: "button", class: "small", onclick: () => selectNode(n.node) }, n.node), ` ${n.error}`)),
        run.error && !failed.length ? h("li", {}, run.error) : null) : "");
      if ((run.nodes ?? []).length) show(timeline, h("h3", {}, "Timeline"), timelineChart(run.nodes));
    },
  };
}

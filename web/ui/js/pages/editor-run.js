// @ts-check
// The editor's run panel, under the canvas: the watched run's log as it streams, each failed node's error
// (with a button that selects the node), and a per-node timeline once the run ends.
import { api } from "../api.js";
import { h, show } from "../dom.js";
import { logLine, timelineChart } from "../run-view.js";

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

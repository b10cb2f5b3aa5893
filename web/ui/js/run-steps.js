// @ts-check
// The steps of a run's nodes (each SQL model and data test): a table per node, updated live from `step` updates.
import { api } from "./api.js";
import { h, show } from "./dom.js";

/**
 * @typedef {{node: string, name: string, kind: string, status: string, rows?: number|null, duration_millis?: number|null, message?: string|null, sql?: string|null}} Step
 */

/**
 * "12 ms" under a second, "3.40 s" above.
 * @param {number} millis
 */
function duration(millis) {
  return millis < 1000 ? `${millis} ms` : `${(millis / 1000).toFixed(2)} s`;
}

/**
 * Keeps a run's steps and draws them into `box`.
 * @param {HTMLElement} box
 * @param {string} runID
 */
export function runSteps(box, runID) {
  /** @type {Step[]} */
  let steps = [];

  function render() {
    if (!steps.length) { show(box); return; }
    const nodes = [...new Set(steps.map((s) => s.node))];
    const count = (/** @type {string} */ status) => steps.filter((s) => s.status === status).length;
    const summary = ["succeeded", "warned", "failed", "skipped", "running"].filter((s) => count(s)).map((s) => `${count(s)} ${s}`).join(", ");
    show(box, h("h2", {}, "Steps"), h("p", { class: "hint", "data-testid": "steps-summary" }, summary),
      ...nodes.map((node) => h("div", { "data-node": node },
        nodes.length > 1 ? h("h3", {}, node) : null,
        h("table", { "aria-label": `Steps of ${node}` },
          h("thead", {}, h("tr", {}, h("th", {}, "Step"), h("th", {}, "Kind"), h("th", {}, "Status"), h("th", {}, "Rows"), h("th", {}, "Time"), h("th", {}, "Details"))),
          h("tbody", {}, ...steps.filter((s) => s.node === node).map((s) => h("tr", { "data-step": s.name },
            h("td", { class: "name" }, s.name), h("td", {}, s.kind),
            h("td", {}, h("span", { class: `status ${s.status === "warned" ? "succeeded-with-rejects" : s.status}` }, s.status)),
            h("td", { class: "num" }, s.rows != null ? s.rows.toLocaleString() : ""),
            h("td", { class: "num" }, s.duration_millis != null ? duration(s.duration_millis) : ""),
            h("td", {}, s.message ? h("span", { class: s.status === "failed" ? "error" : "" }, s.message) : "",
              s.sql ? h("details", {}, h("summary", {}, "SQL"), h("pre", { class: "log" }, s.sql)) : null))))))));
  }

  return {
    /** Loads the steps kept with the run. */
    async load() {
      try { steps = (await api("GET", `/api/v1/runs/${runID}/steps`)).steps; } catch { steps = []; }
      render();
    },
    /**
     * A live `step` update: the step's latest state.
     * @param {{node: string, position: number, step: any}} record
     */
    update(record) {
      const step = { node: record.node, ...record.step };
      const index = steps.findIndex((s) => s.node === step.node && s.name === step.name);
      if (index >= 0) steps[index] = step; else steps.push(step);
      render();
    },
  };
}

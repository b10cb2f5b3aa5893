// @ts-check
// Debugging from the editor: breakpoints on nodes and edges (kept in this browser per pipeline, each with an
// optional condition), marked on the canvas; the debug bar starts a debug run with them and, while it is paused,
// steps, continues or stops it over the live connection; the paused batch shows in the data pane with the row
// that met the condition highlighted.
import { api } from "../api.js";
import { h, show } from "../dom.js";
import { live } from "../live.js";

/**
 * @param {object} options
 * @param {string} options.pipelineId
 * @param {boolean} options.canRun the caller may run the pipeline (runner and up)
 * @param {ReturnType<typeof import("./editor-data.js").createDataPane>} options.dataPane
 * @param {(text: string, bad?: boolean) => void} options.say
 * @param {(run: any) => void} options.watch follows the run on the canvas and in the run panel
 * @param {() => void} options.changed redraws the editor (breakpoints changed)
 * @param {() => Promise<boolean>} options.beforeRun saves unsaved changes first (false: they could not be saved)
 */
export function createDebugger({ pipelineId, canRun, dataPane, say, watch, changed, beforeRun }) {
  const storageKey = `sluice.breakpoints.${pipelineId}`;
  /** Point (`node` or `from.port->to.port`) → its condition ("" for none). @type {Map<string, string>} */
  const breakpoints = new Map(Object.entries(JSON.parse(localStorage.getItem(storageKey) ?? "{}")));
  const save = () => localStorage.setItem(storageKey, JSON.stringify(Object.fromEntries(breakpoints)));

  const commit = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", id: "debug-commit" }));
  const status = h("span", { id: "debug-status", class: "hint", role: "status" });
  const step = h("button", { type: "button", id: "debug-step", disabled: true, title: "Let this batch through; pause at the next batch here", onclick: () => command("step") }, "Step");
  const resume = h("button", { type: "button", id: "debug-continue", disabled: true, title: "Run to the next breakpoint", onclick: () => command("continue") }, "Continue");
  const stop = h("button", { type: "button", id: "debug-stop", class: "danger", disabled: true, title: "Cancel the run; sinks roll back", onclick: () => command("stop") }, "Stop");
  const element = h("div", { class: "debug-bar row", id: "debug-bar", "aria-label": "Debugger" },
    h("button", { type: "button", id: "debug-pipeline", disabled: !canRun, title: "Run with the breakpoints set on nodes and edges, pausing at each", onclick: start }, "Debug"),
    h("label", { class: "hint" }, commit, " commit on finish"), step, resume, stop, status);
  let runId = "";
  /** @type {(() => void)|null} */
  let unsubscribe = null;

  function describe() {
    const count = breakpoints.size;
    status.textContent = runId ? status.textContent : count ? `${count} breakpoint${count === 1 ? "" : "s"}` : "No breakpoints: select a node or an edge to set one.";
  }

  /** @param {boolean} paused */
  function controls(paused) {
    for (const button of [step, resume]) /** @type {HTMLButtonElement} */ (button).disabled = !paused;
    /** @type {HTMLButtonElement} */ (stop).disabled = !runId;
  }

  async function start() {
    if (!(await beforeRun())) return;
    /** @type {any} */
    let run;
    const list = [...breakpoints].map(([point, condition]) => condition ? `${point}:${condition}` : point);
    try {
      run = await api("POST", `/api/v1/pipelines/${pipelineId}/runs`, { debug: { breakpoints: list, commit_on_finish: commit.checked } });
    } catch (error) { say(/** @type {Error} */ (error).message, true); return; }
    runId = run.id;
    status.textContent = `Debug run ${run.id.slice(0, 8)} started${commit.checked ? "" : " (sinks commit nothing)"}.`;
    controls(false);
    unsubscribe?.();
    unsubscribe = live.subscribe({ run: run.id }, (data) => {
      if (!element.isConnected) { unsubscribe?.(); return; }
      // A run may pause before the subscription starts: its snapshot is the moment to look.
      if (data.type === "snapshot" && data.run?.id === runId) { showPause(); return; }
      if (data.type !== "update" || data.update.run_id !== runId) return;
      const update = data.update;
      if (update.kind === "debug" && update.debug.state === "paused") showPause();
      if (update.kind === "debug" && update.debug.state === "running") { controls(false); status.textContent = `Debug run ${runId.slice(0, 8)}: running.`; }
      if (update.kind === "finished") {
        status.textContent = `Debug run ${runId.slice(0, 8)}: ${update.phase}.`;
        runId = "";
        controls(false);
        unsubscribe?.();
        unsubscribe = null;
      }
    });
    watch(run);
  }

  /** Reads where the run is paused and shows the batch there. */
  async function showPause() {
    const id = runId;
    /** @type {any} */
    let state;
    try { state = await api("GET", `/api/v1/runs/${id}/debug`); } catch { return; }
    if (id !== runId || !state.paused) return;
    const p = state.paused;
    status.textContent = `Paused ${p.point.includes("->") ? `on the edge ${p.point}` : `before ${p.point} takes its next batch`} (${p.reason === "step" ? "step" : `breakpoint ${p.reason}`}), pause ${p.sequence}.`;
    controls(true);
    dataPane.paused(p);
  }

  /** @param {"step"|"continue"|"stop"} what */
  async function command(what) {
    if (!runId) return;
    controls(false);
    const id = runId;
    if (!live.message({ type: "debug", run: id, command: what })) {
      try { await api("POST", `/api/v1/runs/${id}/debug`, { command: what }); } catch (error) { say(/** @type {Error} */ (error).message, true); }
    }
    status.textContent = `Debug run ${id.slice(0, 8)}: ${what === "stop" ? "stopping" : "running"}…`;
  }

  return {
    element,
    describe,
    /**
     * The breakpoint section of a node's or an edge's panel.
     * @param {string} point a node id or `from.port->to.port`
     */
    section(point) {
      const on = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", id: "breakpoint-toggle", checked: breakpoints.has(point) }));
      const condition = /** @type {HTMLInputElement} */ (h("input", { id: "breakpoint-condition", class: "code", value: breakpoints.get(point) ?? "",
        placeholder: "amount > 1000 (optional: pause only at a batch with such a row)", "aria-label": "Breakpoint condition" }));
      const apply = () => {
        if (on.checked) breakpoints.set(point, condition.value.trim()); else breakpoints.delete(point);
        save();
        describe();
        changed();
      };
      on.addEventListener("change", apply);
      condition.addEventListener("change", () => { if (condition.value.trim() && !on.checked) on.checked = true; apply(); });
      return h("section", { class: "breakpoint", "aria-label": "Breakpoint" }, h("h3", {}, "Breakpoint"),
        h("label", {}, on, point.includes("->") ? " Pause debug runs when a batch crosses this edge" : " Pause debug runs before this node takes a batch"), condition);
    },
    /**
     * Marks the nodes and edges that have breakpoints.
     * @param {Element} canvas
     */
    mark(canvas) {
      for (const group of canvas.querySelectorAll("g[data-node]")) {
        const id = group.getAttribute("data-node") ?? "";
        group.classList.toggle("has-breakpoint", breakpoints.has(id));
        let dot = group.querySelector(".breakpoint-dot");
        if (breakpoints.has(id) && !dot) {
          dot = document.createElementNS("http://www.w3.org/2000/svg", "circle");
          dot.setAttribute("class", "breakpoint-dot");
          dot.setAttribute("cx", "6"); dot.setAttribute("cy", "6"); dot.setAttribute("r", "5");
          const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
          title.textContent = `Breakpoint${breakpoints.get(id) ? `: ${breakpoints.get(id)}` : ""}`;
          dot.append(title);
          group.append(dot);
        } else if (!breakpoints.has(id)) dot?.remove();
      }
      for (const path of canvas.querySelectorAll("path[data-edge]")) path.classList.toggle("breakpoint", breakpoints.has(path.getAttribute("data-edge") ?? ""));
    },
  };
}

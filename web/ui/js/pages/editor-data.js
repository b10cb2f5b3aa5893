// @ts-check
// The editor's data pane: a wide, resizable pane under the canvas showing rows for the selection — a node's
// preview (its upstream run on the server with sinks disabled) or, after a run, the rows a node or an edge put
// out in it (its edge sample). Tabs: the rows as a table (every column, scrolling sideways), the schema, the
// rows as JSON, and for a preview the records rejected upstream and the nodes' log.
import { api } from "../api.js";
import { errorText, h, show } from "../dom.js";
import { rowsTable, sampleTable } from "../run-view.js";

/**
 * @typedef {{name: string, type: string}} Column
 * @typedef {{label: string, id: string, content: () => Node}} Tab
 */

/**
 * @param {Column[]} columns
 */
function schemaTable(columns) {
  return h("table", { "aria-label": "Schema", class: "schema" }, h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "Column"), h("th", {}, "Type"))),
    h("tbody", {}, ...columns.map((c, i) => h("tr", {}, h("td", {}, String(i + 1)), h("td", { class: "name" }, c.name), h("td", {}, c.type)))));
}

/**
 * @param {Column[]} columns
 * @param {any[][]} rows
 */
function jsonRows(columns, rows) {
  const objects = rows.map((row) => Object.fromEntries(columns.map((c, i) => [c.name, row[i]])));
  return h("pre", { class: "json-rows", tabindex: 0, "aria-label": "Rows as JSON" }, objects.map((o) => JSON.stringify(o)).join("\n"));
}

/**
 * @param {{documentText: () => string}} options
 */
export function createDataPane({ documentText }) {
  const title = h("h2", {});
  const tabList = h("div", { class: "tabs", role: "tablist", "aria-label": "Data views" });
  const body = h("div", { class: "data-body", role: "tabpanel" });
  const close = h("button", { type: "button", class: "small", "aria-label": "Close the data pane", onclick: hide }, "×");
  const element = h("section", { class: "data-pane", id: "data-pane", "aria-label": "Data" }, h("div", { class: "spread" }, h("div", { class: "row" }, title, tabList), close), body);
  element.hidden = true;
  /** What the pane shows: `preview:NODE` or `sample:RUN:NODE.PORT…`, so a redraw for the same selection keeps the tab. */
  let showing = "";
  let activeTab = "rows";

  /**
   * @param {string} key
   * @param {string} heading
   * @param {Tab[]} tabs
   * @param {string} [bodyId]
   */
  function present(key, heading, tabs, bodyId = "") {
    if (key !== showing) activeTab = "rows";
    showing = key;
    title.textContent = heading;
    if (!tabs.some((t) => t.id === activeTab)) activeTab = tabs[0]?.id ?? "rows";
    body.id = bodyId;
    const draw = () => {
      show(tabList, ...tabs.map((t) => h("button", { type: "button", role: "tab", class: t.id === activeTab ? "tab active" : "tab", "aria-selected": t.id === activeTab ? "true" : "false",
        "data-tab": t.id, onclick: () => { activeTab = t.id; draw(); } }, t.label)));
      show(body, tabs.find((t) => t.id === activeTab)?.content() ?? "");
    };
    draw();
    element.hidden = false;
  }

  function hide() {
    showing = "";
    element.hidden = true;
  }

  /**
   * Runs a node's upstream on the server (sinks disabled) and shows its first rows.
   * @param {string} nodeId
   */
  async function preview(nodeId) {
    present(`preview:${nodeId}`, `Preview of ${nodeId}`, [{ label: "Rows", id: "rows", content: () => h("p", { class: "hint" }, `Reading the first rows of ${nodeId}…`) }], "preview");
    /** @type {any} */
    let result;
    try {
      result = await api("POST", "/api/v1/pipelines/preview", { document: documentText(), node: nodeId, limit: 20 });
    } catch (error) {
      present(`preview:${nodeId}`, `Preview of ${nodeId}`, [{ label: "Rows", id: "rows", content: () => errorText(error) }], "preview");
      return;
    }
    if (showing !== `preview:${nodeId}`) return;
    const status = () => h("p", { class: result.status === "succeeded" ? "hint" : "error" }, `${result.rows.length} row(s)`, result.error ? ` — ${result.error}` : "");
    // What planning noticed (a column inferred as string because of one odd value), beside the rows and the schema.
    const notes = () => (result.notes ?? []).map((/** @type {string} */ note) => h("p", { class: "warning", "data-testid": "preview-note" }, `⚠ ${note}`));
    /** @type {Tab[]} */
    const tabs = [
      { label: "Rows", id: "rows", content: () => h("div", {}, status(), ...notes(), rowsTable(`Preview of ${nodeId}`, result.columns, result.rows)) },
      { label: "Schema", id: "schema", content: () => h("div", {}, ...notes(), schemaTable(result.columns)) },
      { label: "JSON", id: "json", content: () => jsonRows(result.columns, result.rows) },
    ];
    if (result.rejected.length) {
      tabs.push({ label: `Rejected upstream (${result.rejected.length})`, id: "rejected", content: () => h("div", { "data-testid": "preview-rejects" },
        h("ul", {}, ...result.rejected.map((/** @type {any} */ r) => h("li", {}, `${r.node}: ${r.message}`, r.line != null ? ` (line ${r.line})` : "", r.raw != null ? h("code", {}, ` ${r.raw}`) : "")))) });
    }
    if ((result.log ?? []).length) {
      tabs.push({ label: `Log (${result.log.length})`, id: "log", content: () => h("pre", { class: "preview-log", "data-testid": "preview-log" },
        result.log.map((/** @type {any} */ l) => `${l.node ? l.node + ": " : ""}${l.message}`).join("\n")) });
    }
    present(`preview:${nodeId}`, `Preview of ${nodeId}`, tabs, "preview");
  }

  return {
    element,
    preview,
    hide,
    /**
     * Shows what the selection put out in a run: one sample (an edge's source output) or a node's outputs.
     * Keeps a preview of the same node on screen.
     * @param {string} runId
     * @param {string} heading
     * @param {any[]} samples
     * @param {string} [previewOf] the selected node, whose preview stays shown if it is showing
     */
    samples(runId, heading, samples, previewOf) {
      if (previewOf && showing === `preview:${previewOf}`) return;
      if (!samples.length) { if (showing.startsWith("sample:")) hide(); return; }
      const key = `sample:${runId}:${samples.map((s) => `${s.node}.${s.port}`).join(",")}`;
      /** @type {Tab[]} */
      const tabs = samples.flatMap((s) => {
        const suffix = samples.length > 1 ? ` · ${s.port}` : "";
        const id = samples.length > 1 ? `-${s.port}` : "";
        return [
          { label: `Rows${suffix}`, id: `rows${id}`, content: () => sampleTable(s) },
          { label: `Schema${suffix}`, id: `schema${id}`, content: () => schemaTable(s.columns) },
          { label: `JSON${suffix}`, id: `json${id}`, content: () => jsonRows(s.columns, s.rows) },
        ];
      });
      present(key, heading, tabs, "run-samples");
    },
    /**
     * Shows the batch where a debug run is paused, the row that met the breakpoint's condition highlighted and
     * scrolled into view.
     * @param {any} pause `GET /api/v1/runs/{id}/debug`'s `paused`
     */
    paused(pause) {
      const rowsView = () => {
        const table = rowsTable(`Paused batch at ${pause.point}`, pause.columns, pause.rows, pause.origins ?? []);
        const body = table.querySelector("tbody");
        const rows = body ? [...body.children] : [];
        if (pause.matching_row !== null && pause.matching_row !== undefined) {
          const row = rows[pause.matching_row - pause.first_row];
          if (row) { row.classList.add("match"); row.setAttribute("data-testid", "matching-row"); setTimeout(() => row.scrollIntoView({ block: "nearest" }), 0); }
        }
        const shown = pause.rows.length < pause.batch_rows ? ` (rows ${pause.first_row + 1}–${pause.first_row + pause.rows.length} shown)` : "";
        return h("div", {}, h("p", { class: "hint" }, `A batch of ${pause.batch_rows} row(s)${pause.matching_row != null ? `; row ${pause.matching_row + 1} matches` : ""}${shown}.`), table);
      };
      present(`pause:${pause.sequence}`, `Paused at ${pause.point}`, [
        { label: "Rows", id: "rows", content: rowsView },
        { label: "Schema", id: "schema", content: () => schemaTable(pause.columns) },
        { label: "JSON", id: "json", content: () => jsonRows(pause.columns, pause.rows) },
      ], "debug-pause");
    },
    /**
     * Hides a preview when its node is no longer selected.
     * @param {string|null} nodeId
     */
    selected(nodeId) {
      if (showing.startsWith("preview:") && showing !== `preview:${nodeId}`) hide();
    },
  };
}

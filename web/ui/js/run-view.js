// @ts-check
// Pieces of a run's display shared by the run page and the editor: a log line as text, the per-node timeline
// chart, and rows as a table (samples, previews, paused batches).
import { h } from "./dom.js";

/**
 * One log line as the run log shows it: time, level, node, message.
 * @param {{at: number, level: string, node?: string|null, message: string}} line
 */
export function logLine(line) {
  return `${new Date(line.at).toLocaleTimeString()} ${line.level.padEnd(7)} ${line.node ? `[${line.node}] ` : ""}${line.message}\n`;
}

/**
 * A bar per node, as long as its duration (SVG, coloured by status).
 * @param {{node: string, status: string, duration_millis?: number}[]} nodes
 */
export function timelineChart(nodes) {
  const SVG = "http://www.w3.org/2000/svg";
  const longest = Math.max(1, ...nodes.map((n) => n.duration_millis ?? 0));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "timeline");
  svg.setAttribute("viewBox", `0 0 600 ${nodes.length * 22 + 4}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Node durations");
  nodes.forEach((n, i) => {
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", "0");
    label.setAttribute("y", String(i * 22 + 15));
    label.textContent = n.node.length > 18 ? n.node.slice(0, 17) + "…" : n.node;
    const bar = document.createElementNS(SVG, "rect");
    bar.setAttribute("x", "150");
    bar.setAttribute("y", String(i * 22 + 4));
    bar.setAttribute("height", "14");
    bar.setAttribute("width", String(Math.max(2, 440 * (n.duration_millis ?? 0) / longest)));
    bar.setAttribute("class", `bar ${n.status}`);
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${n.node}: ${n.status}, ${((n.duration_millis ?? 0) / 1000).toFixed(2)} s`;
    bar.append(title);
    svg.append(label, bar);
  });
  return svg;
}

/**
 * Rows as a table with each column's name and type; when any row's origin is known, a first "from" column says
 * where each row came from.
 * @param {string} label the table's accessible name
 * @param {{name: string, type: string}[]} columns
 * @param {any[][]} rows
 * @param {(string|null)[]} [origins]
 */
export function rowsTable(label, columns, rows, origins = []) {
  const traced = origins.some(Boolean);
  return h("div", { class: "preview-scroll" }, h("table", { "aria-label": label },
    h("thead", {}, h("tr", {}, traced ? h("th", {}, "from", h("div", { class: "hint" }, "source")) : null,
      ...columns.map((c) => h("th", {}, c.name, h("div", { class: "hint" }, c.type))))),
    h("tbody", {}, ...rows.map((row, i) => h("tr", {}, traced ? h("td", { class: "origin" }, origins[i] ?? "") : null,
      ...row.map((v) => h("td", v === null ? { class: "null" } : {}, v === null ? "NULL" : String(v))))))));
}

/**
 * A node output's sample from a run (`GET /api/v1/runs/{id}/samples`): how many rows crossed it and its first
 * rows.
 * @param {{node: string, port: string, rows_seen: number, columns: {name: string, type: string}[], rows: any[][], origins?: (string|null)[]}} sample
 */
export function sampleTable(sample) {
  const caption = `${sample.rows_seen.toLocaleString()} row${sample.rows_seen === 1 ? "" : "s"} crossed ${sample.node}.${sample.port}` +
    (sample.rows.length < sample.rows_seen ? `; the first ${sample.rows.length} are kept` : "");
  return h("div", { class: "sample", "data-testid": `sample-${sample.node}.${sample.port}` }, h("p", { class: "hint" }, caption),
    sample.rows.length ? rowsTable(`Sample of ${sample.node}.${sample.port}`, sample.columns, sample.rows, sample.origins ?? []) : null);
}

// @ts-check
// Pieces of a run's display shared by the run page and the editor's run panel: a log line as text and the
// per-node timeline chart.

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
 * A node output's sample from a run (`GET /api/v1/runs/{id}/samples`): how many rows crossed it and its first
 * rows as a table with each column's name and type.
 * @param {{node: string, port: string, rows_seen: number, columns: {name: string, type: string}[], rows: any[][], origins?: (string|null)[]}} sample
 */
export function sampleTable(sample) {
  const make = (/** @type {string} */ tag, /** @type {string} */ text = "") => { const e = document.createElement(tag); e.textContent = text; return e; };
  const box = document.createElement("div");
  box.className = "sample";
  box.dataset.testid = `sample-${sample.node}.${sample.port}`;
  const caption = make("p", `${sample.rows_seen.toLocaleString()} row${sample.rows_seen === 1 ? "" : "s"} crossed ${sample.node}.${sample.port}` +
    (sample.rows.length < sample.rows_seen ? `; the first ${sample.rows.length} are kept` : ""));
  caption.className = "hint";
  box.append(caption);
  if (!sample.rows.length) return box;
  const scroll = make("div");
  scroll.className = "preview-scroll";
  const table = make("table");
  table.setAttribute("aria-label", `Sample of ${sample.node}.${sample.port}`);
  const head = make("tr");
  // Where each row came from (its source's file and line, or row number), when known.
  const traced = (sample.origins ?? []).some(Boolean);
  const columns = traced ? [{ name: "from", type: "source" }, ...sample.columns] : sample.columns;
  for (const column of columns) {
    const th = make("th", column.name);
    const type = make("div", column.type);
    type.className = "hint";
    th.append(type);
    head.append(th);
  }
  const thead = make("thead");
  thead.append(head);
  const tbody = make("tbody");
  sample.rows.forEach((row, index) => {
    const tr = make("tr");
    if (traced) {
      const from = make("td", sample.origins?.[index] ?? "");
      from.className = "origin";
      tr.append(from);
    }
    for (const value of row) {
      const td = make("td", value === null ? "NULL" : String(value));
      if (value === null) td.className = "null";
      tr.append(td);
    }
    tbody.append(tr);
  });
  table.append(thead, tbody);
  scroll.append(table);
  box.append(scroll);
  return box;
}

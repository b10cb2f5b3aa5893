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

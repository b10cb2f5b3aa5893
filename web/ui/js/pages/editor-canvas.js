// @ts-check
// The editor's canvas, a view of the editor state: nodes with typed ports and the edges between them, drawn
// from the state on every `render`; pointer input (select, shift-select, drag, pan, zoom, connect a port)
// turns into state operations. The canvas is HTML: a "world" layer moved by a CSS transform (pan and zoom)
// holding one SVG with every edge and one small SVG per node, each placed by its own CSS transform. Moving a
// node then lays out that node only; in one big SVG the browser laid out all 500 nodes again on every move
// (see docs/performance.md).
import { h, svg } from "../dom.js";
import { inputsOf, outputsOf, splitRef } from "../graph.js";
import { createLiveOverlay } from "./editor-run.js";

export const NODE_WIDTH = 180, HEADER = 30, PORT_GAP = 20;
const s = svg;

/**
 * @param {{a: number[], b: number[]}} ends
 */
function curve({ a, b }) {
  const dx = Math.max(40, Math.abs(b[0] - a[0]) / 2);
  return `M${a[0]},${a[1]} C${a[0] + dx},${a[1]} ${b[0] - dx},${b[1]} ${b[0]},${b[1]}`;
}

/**
 * @param {object} options
 * @param {import("../editor-state.js").EditorState} options.state
 * @param {boolean} options.canEdit
 * @param {(text: string, bad?: boolean) => void} options.say
 * @param {(from: string, to: string) => boolean} options.connect adds an edge (or says why not)
 * @param {() => void} options.changed the selection or document changed: render everything again
 */
export function createCanvas({ state, canEdit, say, connect, changed }) {
  const view = { x: 0, y: 0, zoom: 1 };
  const element = h("div", { class: "canvas", id: "canvas", tabindex: 0, role: "application", "aria-label": "Pipeline canvas" });
  const world = h("div", { class: "world", id: "world" });
  const edgeLayer = s("svg", { class: "edges", width: 1, height: 1 }), nodeLayer = h("div", { class: "nodes" }), ghost = s("path", { class: "edge ghost" });
  const edgePaths = s("g");
  const liveOverlay = createLiveOverlay(nodeLayer, edgePaths, NODE_WIDTH);
  edgeLayer.append(edgePaths, ghost);
  world.append(edgeLayer, nodeLayer);
  // Zoom controls in the canvas's corner (also the keys + - and 0).
  const zoomControls = h("div", { class: "zoom-controls", role: "group", "aria-label": "Zoom" },
    h("button", { type: "button", class: "small", id: "zoom-in", title: "Zoom in (+)", "aria-label": "Zoom in", onclick: () => zoomBy(1.25) }, "+"),
    h("button", { type: "button", class: "small", id: "zoom-out", title: "Zoom out (-)", "aria-label": "Zoom out", onclick: () => zoomBy(0.8) }, "−"),
    h("button", { type: "button", class: "small", id: "zoom-fit", title: "Fit the pipeline in view (0)", onclick: () => fit() }, "Fit"));
  zoomControls.addEventListener("pointerdown", (event) => event.stopPropagation());
  element.append(world, zoomControls);

  /** @param {any} node */
  function portsOf(node) {
    const spec = state.specOf(node.id);
    return { spec, inputs: spec ? inputsOf(spec) : [], outputs: spec ? outputsOf(spec, node) : [] };
  }

  /**
   * Where a port is drawn, in canvas coordinates.
   * @param {string} ref
   * @param {"in"|"out"} side
   * @returns {number[]}
   */
  function portPosition(ref, side) {
    const { node: nodeId, port } = splitRef(ref);
    const node = state.node(nodeId);
    const [x, y] = state.doc.layout[nodeId] ?? [0, 0];
    const ports = node ? (side === "in" ? portsOf(node).inputs : portsOf(node).outputs) : [];
    const index = Math.max(0, ports.findIndex((/** @type {any} */ p) => p.name === port));
    return [side === "in" ? x : x + NODE_WIDTH, y + HEADER + 10 + index * PORT_GAP];
  }

  /** @param {any} edge */
  const edgePath = (edge) => curve({ a: portPosition(edge.from, "out"), b: portPosition(edge.to, "in") });

  function applyView() {
    world.style.transform = `translate(${view.x}px,${view.y}px) scale(${view.zoom})`;
  }

  /**
   * Draws the document, marking selected nodes and the nodes with problems.
   * @param {any[]} problems
   */
  function render(problems) {
    applyView();
    const selection = state.selection;
    edgePaths.replaceChildren(...state.doc.edges.map((edge, index) => {
      const path = s("path", { class: `edge ${edge.kind === "signal" ? "signal" : ""} ${selection?.kind === "edge" && selection.id === String(index) ? "selected" : ""}`,
        d: edgePath(edge), "data-edge": `${edge.from}->${edge.to}` });
      path.addEventListener("pointerdown", (event) => { event.stopPropagation(); state.selectEdge(index); changed(); });
      if (!edge.where && !edge.select) return path;
      // An edge that filters rows or columns says so at its middle.
      const a = portPosition(edge.from, "out"), b = portPosition(edge.to, "in");
      const label = s("text", { x: (a[0] + b[0]) / 2, y: (a[1] + b[1]) / 2 - 6, class: "edge-label", "text-anchor": "middle" });
      const words = [edge.where ? `where ${edge.where}` : "", edge.select ? `select ${edge.select.join(", ")}` : ""].filter(Boolean).join(" · ");
      label.textContent = words.length > 28 ? words.slice(0, 27) + "…" : words;
      const tip = s("title");
      tip.textContent = words;
      label.append(tip);
      const group = s("g", { "data-edge-filter": `${edge.from}->${edge.to}` });
      group.append(path, label);
      return group;
    }));
    nodeLayer.replaceChildren(...state.doc.nodes.map((node) => renderNode(node, problems.filter((p) => p.node === node.id))));
    liveOverlay.redraw(state.doc);
  }

  /**
   * @param {any} node
   * @param {any[]} nodeProblems
   */
  function renderNode(node, nodeProblems) {
    const { spec, inputs, outputs } = portsOf(node);
    const [x, y] = state.doc.layout[node.id] ?? [0, 0];
    const height = HEADER + Math.max(inputs.length, outputs.length) * PORT_GAP + 8;
    const group = s("g", { class: `node ${state.isSelected(node.id) ? "selected" : ""} ${nodeProblems.length ? "invalid" : ""}`, "data-node": node.id });
    const title = s("title");
    title.textContent = nodeProblems.map((p) => p.message).join("\n") || (spec ? spec.summary ?? "" : `unknown type ${node.type}`);
    const label = s("text", { x: 10, y: 19, class: "node-title" });
    label.textContent = node.id.length > 22 ? node.id.slice(0, 21) + "…" : node.id;
    const type = s("text", { x: NODE_WIDTH - 8, y: 19, class: "node-type", "text-anchor": "end" });
    type.textContent = node.type.length > 14 ? node.type.slice(0, 13) + "…" : node.type;
    const header = s("rect", { width: NODE_WIDTH, height: HEADER - 4, rx: 6, class: "node-header" });
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    if (spec?.color) header.style.setProperty("--node-color", spec.color);
    group.append(title, s("rect", { width: NODE_WIDTH, height, rx: 6, class: "node-body" }), header, label, type);
    inputs.forEach((/** @type {any} */ port, /** @type {number} */ i) => {
      const circle = s("circle", { cx: 0, cy: HEADER + 10 + i * PORT_GAP, r: 6, class: `port in ${port.kind}`, "data-port": `${node.id}.${port.name}`, "data-side": "in" });
      const text = s("text", { x: 10, y: HEADER + 14 + i * PORT_GAP, class: "port-label" });
      text.textContent = port.name;
      group.append(circle, text);
    });
    outputs.forEach((/** @type {any} */ port, /** @type {number} */ i) => {
      const circle = s("circle", { cx: NODE_WIDTH, cy: HEADER + 10 + i * PORT_GAP, r: 6, class: `port out ${port.kind}${port.name === "rejected" ? " rejected" : ""}`, "data-port": `${node.id}.${port.name}`, "data-side": "out" });
      const text = s("text", { x: NODE_WIDTH - 10, y: HEADER + 14 + i * PORT_GAP, class: "port-label", "text-anchor": "end" });
      text.textContent = port.name;
      group.append(circle, text);
    });
    // Its own small SVG, placed with a CSS transform (ports stick out by their radius: overflow is visible).
    const box = /** @type {SVGElement} */ (s("svg", { class: "node-box", width: NODE_WIDTH, height, "data-node-box": node.id }));
    box.style.transform = `translate(${x}px,${y}px)`;
    box.append(group);
    return box;
  }

  /**
   * Moves one node and its edges without drawing the rest again (dragging stays fast on large graphs).
   * @param {string} nodeId
   */
  function moveNode(nodeId) {
    const [x, y] = state.doc.layout[nodeId];
    const box = /** @type {HTMLElement|null} */ (nodeLayer.querySelector(`svg[data-node-box="${CSS.escape(nodeId)}"]`));
    if (box) box.style.transform = `translate(${x}px,${y}px)`;
    for (const edge of state.doc.edges) {
      if (splitRef(edge.from).node !== nodeId && splitRef(edge.to).node !== nodeId) continue;
      edgePaths.querySelector(`path[data-edge="${CSS.escape(`${edge.from}->${edge.to}`)}"]`)?.setAttribute("d", edgePath(edge));
    }
  }

  /**
   * Canvas coordinates of a point on the screen, as the top left of a node dropped there.
   * @param {number} clientX
   * @param {number} clientY
   * @returns {number[]}
   */
  function toWorld(clientX, clientY) {
    const box = element.getBoundingClientRect();
    return [Math.round((clientX - box.left - view.x) / view.zoom - NODE_WIDTH / 2), Math.round((clientY - box.top - view.y) / view.zoom - HEADER / 2)];
  }

  /**
   * Whether a point on the screen is over the canvas.
   * @param {number} clientX
   * @param {number} clientY
   */
  function contains(clientX, clientY) {
    const box = element.getBoundingClientRect();
    return clientX >= box.left && clientX <= box.right && clientY >= box.top && clientY <= box.bottom;
  }

  /**
   * Pans so a node is in the middle.
   * @param {string} nodeId
   */
  function centreOn(nodeId) {
    const [x, y] = state.doc.layout[nodeId] ?? [0, 0];
    const box = element.getBoundingClientRect();
    view.x = Math.round(box.width / 2 - (x + NODE_WIDTH / 2) * view.zoom);
    view.y = Math.round(box.height / 2 - (y + HEADER) * view.zoom);
  }

  /**
   * Follows the pointer until it is released.
   * @param {(e: PointerEvent) => void} move
   * @param {(e: PointerEvent) => void} [up]
   */
  function track(move, up = () => {}) {
    const release = (/** @type {PointerEvent} */ e) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", release);
      up(e);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", release);
  }

  element.addEventListener("pointerdown", (event) => {
    const target = /** @type {Element} */ (event.target);
    const port = target.closest("[data-port]");
    const nodeElement = target.closest("[data-node]");
    element.focus();
    if (port && port.getAttribute("data-side") === "out" && canEdit) return startConnect(event, /** @type {string} */ (port.getAttribute("data-port")));
    if (nodeElement) return startNodeDrag(event, /** @type {string} */ (nodeElement.getAttribute("data-node")));
    state.clearSelection();
    changed();
    startPan(event);
  });

  /**
   * @param {PointerEvent} event
   * @param {string} nodeId
   */
  function startNodeDrag(event, nodeId) {
    state.selectNode(nodeId, { extend: event.shiftKey });
    changed();
    if (event.shiftKey) { say(`${state.selectedNodes().size} node(s) selected.`); return; }
    if (!canEdit) return;
    const start = [event.clientX, event.clientY], origin = [...state.doc.layout[nodeId]];
    const moveTo = state.beginMove(nodeId);
    track((e) => {
      moveTo([Math.round(origin[0] + (e.clientX - start[0]) / view.zoom), Math.round(origin[1] + (e.clientY - start[1]) / view.zoom)]);
      moveNode(nodeId);
    });
  }

  /** @param {PointerEvent} event */
  function startPan(event) {
    const start = [event.clientX, event.clientY], origin = [view.x, view.y];
    track((e) => {
      view.x = origin[0] + e.clientX - start[0];
      view.y = origin[1] + e.clientY - start[1];
      applyView();
    });
  }

  /**
   * @param {PointerEvent} event
   * @param {string} from
   */
  function startConnect(event, from) {
    event.stopPropagation();
    const a = portPosition(from, "out");
    track((e) => {
      const box = element.getBoundingClientRect();
      ghost.setAttribute("d", curve({ a, b: [(e.clientX - box.left - view.x) / view.zoom, (e.clientY - box.top - view.y) / view.zoom] }));
    }, (e) => {
      ghost.setAttribute("d", "");
      const over = document.elementFromPoint(e.clientX, e.clientY)?.closest("[data-port][data-side=in]");
      if (over) connect(from, /** @type {string} */ (over.getAttribute("data-port")));
    });
  }

  /**
   * Zooms around the canvas's middle.
   * @param {number} factor
   */
  function zoomBy(factor) {
    const box = element.getBoundingClientRect();
    const zoom = Math.min(2.5, Math.max(0.2, view.zoom * factor));
    const px = box.width / 2, py = box.height / 2;
    view.x = px - (px - view.x) * (zoom / view.zoom);
    view.y = py - (py - view.y) * (zoom / view.zoom);
    view.zoom = zoom;
    applyView();
  }

  /** Shows every node: zoomed out as far as needed (never in beyond 100 %), centred. */
  function fit() {
    const nodes = state.doc.nodes;
    if (!nodes.length) return;
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return;
    let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
    for (const node of nodes) {
      const [x, y] = state.doc.layout[node.id] ?? [0, 0];
      const { inputs, outputs } = portsOf(node);
      left = Math.min(left, x); top = Math.min(top, y - 16); // the live counters sit above a node
      right = Math.max(right, x + NODE_WIDTH); bottom = Math.max(bottom, y + HEADER + Math.max(inputs.length, outputs.length) * PORT_GAP + 8);
    }
    const margin = 24;
    const zoom = Math.min(1, Math.max(0.2, Math.min((box.width - 2 * margin) / (right - left), (box.height - 2 * margin) / (bottom - top))));
    view.zoom = zoom;
    view.x = Math.round((box.width - (right - left) * zoom) / 2 - left * zoom);
    view.y = Math.round((box.height - (bottom - top) * zoom) / 2 - top * zoom);
    applyView();
  }

  element.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "+" || event.key === "=") { event.preventDefault(); zoomBy(1.25); }
    else if (event.key === "-") { event.preventDefault(); zoomBy(0.8); }
    else if (event.key === "0") { event.preventDefault(); fit(); }
  });

  element.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = element.getBoundingClientRect();
    const zoom = Math.min(2.5, Math.max(0.2, view.zoom * Math.exp(-event.deltaY * 0.0015)));
    const px = event.clientX - box.left, py = event.clientY - box.top;
    view.x = px - (px - view.x) * (zoom / view.zoom);
    view.y = py - (py - view.y) * (zoom / view.zoom);
    view.zoom = zoom;
    applyView();
  }, { passive: false });

  return { element, nodeLayer, liveOverlay, view, render, moveNode, toWorld, contains, centreOn, fit };
}

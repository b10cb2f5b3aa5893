// @ts-check
// The editor's canvas, a view of the editor state: nodes with typed ports and the edges between them, drawn
// from the state on every `render`; pointer input (select, shift-select, drag, pan, zoom, connect a port)
// turns into state operations. The canvas is HTML: a "world" layer moved by a CSS transform (pan and zoom)
// holding one SVG with every edge and one small SVG per node, each placed by its own CSS transform. Moving a
// node then lays out that node only; in one big SVG the browser laid out all 500 nodes again on every move
// (see docs/performance.md).
import { h, svg } from "../dom.js";
import { splitRef } from "../graph.js";
import { FOOTER, HEADER, NODE_WIDTH, PORT_GAP, RectIndex, curve, nodeHeight, portLayout, portY, routeEdge } from "../canvas-geometry.js";
import { iconPath } from "../icons.js";
import { createLiveOverlay } from "./editor-run.js";
import { createMinimap } from "./editor-minimap.js";

export { NODE_WIDTH, HEADER, PORT_GAP };
const s = svg;

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
  // Collaborators' pointers, selections and open settings (live editing draws them; canvas coordinates).
  const presenceLayer = h("div", { class: "presence-layer", "aria-hidden": "true" });
  world.append(edgeLayer, nodeLayer, presenceLayer);
  // Zoom controls in the canvas's corner (also the keys + - and 0).
  const zoomControls = h("div", { class: "zoom-controls", role: "group", "aria-label": "Zoom" },
    h("button", { type: "button", class: "small", id: "zoom-in", title: "Zoom in (+)", "aria-label": "Zoom in", onclick: () => zoomBy(1.25) }, "+"),
    h("button", { type: "button", class: "small", id: "zoom-out", title: "Zoom out (-)", "aria-label": "Zoom out", onclick: () => zoomBy(0.8) }, "−"),
    h("button", { type: "button", class: "small", id: "zoom-fit", title: "Fit the pipeline in view (0)", onclick: () => fit() }, "Fit"));
  zoomControls.addEventListener("pointerdown", (event) => event.stopPropagation());
  const minimap = createMinimap({ centreAt: (x, y) => {
    fitted = false;
    const box = element.getBoundingClientRect();
    view.x = Math.round(box.width / 2 - x * view.zoom);
    view.y = Math.round(box.height / 2 - y * view.zoom);
    applyView();
  } });
  element.append(world, zoomControls, minimap.element);

  /** Every edge end (`node.port`): signal ports without one are drawn only on hover. */
  let connected = new Set();
  /** Each node's box in canvas coordinates (its shown ports and footer), and an index of them for routing edges. */
  /** @type {Map<string, import("../canvas-geometry.js").Rect>} */
  const rects = new Map();
  let index = new RectIndex([]);

  /** @param {any} node */
  function portsOf(node) {
    const spec = state.specOf(node.id);
    const layout = spec ? portLayout(spec, node, connected) : { inputs: [], outputs: [], shownInputs: 0, shownOutputs: 0 };
    return { spec, ...layout, rows: Math.max(layout.shownInputs, layout.shownOutputs) };
  }

  /**
   * The box a node takes (its ports shown, its footer).
   * @param {any} node
   */
  function rectOf(node) {
    const [x, y] = state.doc.layout[node.id] ?? [0, 0];
    return { id: node.id, x, y, w: NODE_WIDTH, h: nodeHeight(portsOf(node).rows) + FOOTER };
  }

  function indexNodes() {
    rects.clear();
    for (const node of state.doc.nodes) rects.set(node.id, rectOf(node));
    index = new RectIndex([...rects.values()]);
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
    if (!node) return [x, y];
    const ports = portsOf(node);
    const list = side === "in" ? ports.inputs : ports.outputs;
    const at = Math.max(0, list.findIndex((/** @type {any} */ p) => p.name === port));
    return [side === "in" ? x : x + NODE_WIDTH, y + rowY(at, side === "in" ? ports.shownInputs : ports.shownOutputs, ports.rows)];
  }

  /**
   * The middle of port `at` of a side showing `shown` ports, in a node of `rows` rows: shown ports in rows, then
   * the hover ones in a drawer under the footer.
   * @param {number} at
   * @param {number} shown
   * @param {number} rows
   */
  const rowY = (at, shown, rows) => at < shown ? portY(at) : nodeHeight(rows) + FOOTER + 10 + (at - shown) * PORT_GAP;

  /** @param {any} edge */
  const edgeRoute = (edge) => routeEdge(portPosition(edge.from, "out"), portPosition(edge.to, "in"), index, new Set([splitRef(edge.from).node, splitRef(edge.to).node]));

  /** The canvas area in view, in canvas coordinates. */
  function visibleArea() {
    const box = element.getBoundingClientRect();
    return { x: -view.x / view.zoom, y: -view.y / view.zoom, w: box.width / view.zoom, h: box.height / view.zoom };
  }

  function applyView() {
    world.style.transform = `translate(${view.x}px,${view.y}px) scale(${view.zoom})`;
    minimap.frame(visibleArea());
  }

  /**
   * Draws the document, marking selected nodes and the nodes with problems.
   * @param {any[]} problems
   */
  function render(problems) {
    connected = new Set(state.doc.edges.flatMap((edge) => [edge.from, edge.to]));
    indexNodes();
    applyView();
    renderEdges();
    nodeLayer.replaceChildren(...state.doc.nodes.map((node) => renderNode(node, problems.filter((p) => p.node === node.id))));
    liveOverlay.redraw(state.doc);
    minimap.draw([...rects.values()], visibleArea());
  }

  /** Draws every edge again, routed around the nodes as they stand. */
  function renderEdges() {
    const selection = state.selection;
    edgePaths.replaceChildren(...state.doc.edges.map((edge, index) => {
      const route = edgeRoute(edge);
      const path = s("path", { class: `edge ${edge.kind === "signal" ? "signal" : ""} ${selection?.kind === "edge" && selection.id === String(index) ? "selected" : ""}`,
        d: route.d, "data-edge": `${edge.from}->${edge.to}` });
      path.addEventListener("pointerdown", (event) => { event.stopPropagation(); state.selectEdge(index); changed(); });
      if (!edge.where && !edge.select) return path;
      // An edge that filters rows or columns says so at its middle.
      const label = s("text", { x: route.label[0], y: route.label[1] - 6, class: "edge-label", "text-anchor": "middle" });
      const words = [edge.where ? `where ${edge.where}` : "", edge.select ? `select ${edge.select.join(", ")}` : ""].filter(Boolean).join(" · ");
      label.textContent = words.length > 28 ? words.slice(0, 27) + "…" : words;
      const tip = s("title");
      tip.textContent = words;
      label.append(tip);
      const group = s("g", { "data-edge-filter": `${edge.from}->${edge.to}` });
      group.append(path, label);
      return group;
    }));
  }

  /**
   * @param {any} node
   * @param {any[]} nodeProblems
   */
  function renderNode(node, nodeProblems) {
    const { spec, inputs, outputs, shownInputs, shownOutputs, rows } = portsOf(node);
    const [x, y] = state.doc.layout[node.id] ?? [0, 0];
    const height = nodeHeight(rows) + FOOTER;
    const hoverRows = Math.max(inputs.length - shownInputs, outputs.length - shownOutputs);
    const group = s("g", { class: `node ${state.isSelected(node.id) ? "selected" : ""} ${nodeProblems.length ? "invalid" : ""}`, "data-node": node.id });
    const title = s("title");
    title.textContent = nodeProblems.map((p) => p.message).join("\n") || (spec ? spec.summary ?? "" : `unknown type ${node.type}`);
    const icon = s("path", { d: iconPath(spec?.icon), class: "node-icon", transform: "translate(8,5)" });
    const label = s("text", { x: 30, y: 18, class: "node-title" });
    label.textContent = node.id.length > 19 ? node.id.slice(0, 18) + "…" : node.id;
    const type = s("text", { x: 10, y: nodeHeight(rows) + 10, class: "node-type" });
    type.textContent = node.type.length > 26 ? node.type.slice(0, 25) + "…" : node.type;
    const header = s("rect", { width: NODE_WIDTH, height: HEADER - 4, rx: 6, class: "node-header" });
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    if (spec?.color) { header.style.setProperty("--node-color", spec.color); icon.style.setProperty("--node-color", spec.color); }
    const body = s("rect", { width: NODE_WIDTH, height, rx: 6, class: "node-body" });
    // Hovered or selected, the body grows over the drawer of unconnected signal ports (CSS reads --full).
    if (hoverRows) body.style.setProperty("--full", `${height + hoverRows * PORT_GAP + 4}px`);
    group.append(title, body, header, icon, label, type);
    const drawer = s("g", { class: "hover-ports" });
    /**
     * @param {any} port
     * @param {number} i
     * @param {"in"|"out"} side
     * @param {number} shown
     */
    const drawPort = (port, i, side, shown) => {
      const cy = rowY(i, shown, rows);
      const circle = s("circle", { cx: side === "in" ? 0 : NODE_WIDTH, cy, r: 6, class: `port ${side} ${port.kind}${port.name === "rejected" ? " rejected" : ""}`,
        "data-port": `${node.id}.${port.name}`, "data-side": side });
      const text = s("text", side === "in" ? { x: 10, y: cy + 4, class: "port-label" } : { x: NODE_WIDTH - 10, y: cy + 4, class: "port-label", "text-anchor": "end" });
      text.textContent = port.name;
      (i < shown ? group : drawer).append(circle, text);
    };
    inputs.forEach((/** @type {any} */ port, /** @type {number} */ i) => drawPort(port, i, "in", shownInputs));
    outputs.forEach((/** @type {any} */ port, /** @type {number} */ i) => drawPort(port, i, "out", shownOutputs));
    if (hoverRows) group.append(drawer);
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
    const node = state.node(nodeId);
    if (node) rects.set(nodeId, rectOf(node));
    index = new RectIndex([...rects.values()]);
    for (const edge of state.doc.edges) {
      if (splitRef(edge.from).node !== nodeId && splitRef(edge.to).node !== nodeId) continue;
      edgePaths.querySelector(`path[data-edge="${CSS.escape(`${edge.from}->${edge.to}`)}"]`)?.setAttribute("d", edgeRoute(edge).d);
    }
  }

  /** After nodes moved: every edge routed again around where they now stand, and the minimap redrawn. */
  function settle() {
    indexNodes();
    renderEdges();
    liveOverlay.redraw(state.doc);
    minimap.draw([...rects.values()], visibleArea());
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
    fitted = false;
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
    let moved = false;
    track((e) => {
      moveTo([Math.round(origin[0] + (e.clientX - start[0]) / view.zoom), Math.round(origin[1] + (e.clientY - start[1]) / view.zoom)]);
      moveNode(nodeId);
      moved = true;
    }, () => { moveTo.end(); if (moved) settle(); });
  }

  /** @param {PointerEvent} event */
  function startPan(event) {
    const start = [event.clientX, event.clientY], origin = [view.x, view.y];
    let moved = false;
    track((e) => {
      if (!moved) { moved = true; fitted = false; }
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
    // While an edge is drawn every node shows all its inputs, the signal ones too.
    element.classList.add("connecting");
    track((e) => {
      const box = element.getBoundingClientRect();
      ghost.setAttribute("d", curve(a, [(e.clientX - box.left - view.x) / view.zoom, (e.clientY - box.top - view.y) / view.zoom]));
    }, (e) => {
      element.classList.remove("connecting");
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
    fitted = false;
    const box = element.getBoundingClientRect();
    const zoom = Math.min(2.5, Math.max(0.2, view.zoom * factor));
    const px = box.width / 2, py = box.height / 2;
    view.x = px - (px - view.x) * (zoom / view.zoom);
    view.y = py - (py - view.y) * (zoom / view.zoom);
    view.zoom = zoom;
    applyView();
  }

  /** Whether the view is as `fit` left it: then a canvas that changes size (a pane opens) fits again. */
  let fitted = false;
  new ResizeObserver(() => { if (fitted && element.isConnected) fit(); }).observe(element);

  /** Shows every node: zoomed out as far as needed (never in beyond 100 %), centred. */
  function fit() {
    const nodes = state.doc.nodes;
    if (!nodes.length) return;
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return;
    indexNodes();
    let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
    for (const r of rects.values()) {
      left = Math.min(left, r.x); top = Math.min(top, r.y);
      right = Math.max(right, r.x + r.w); bottom = Math.max(bottom, r.y + r.h);
    }
    const margin = 24;
    const zoom = Math.min(1, Math.max(0.2, Math.min((box.width - 2 * margin) / (right - left), (box.height - 2 * margin) / (bottom - top))));
    view.zoom = zoom;
    view.x = Math.round((box.width - (right - left) * zoom) / 2 - left * zoom);
    view.y = Math.round((box.height - (bottom - top) * zoom) / 2 - top * zoom);
    applyView();
    fitted = true;
  }

  element.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "+" || event.key === "=") { event.preventDefault(); zoomBy(1.25); }
    else if (event.key === "-") { event.preventDefault(); zoomBy(0.8); }
    else if (event.key === "0") { event.preventDefault(); fit(); }
  });

  element.addEventListener("wheel", (event) => {
    event.preventDefault();
    fitted = false;
    const box = element.getBoundingClientRect();
    const zoom = Math.min(2.5, Math.max(0.2, view.zoom * Math.exp(-event.deltaY * 0.0015)));
    const px = event.clientX - box.left, py = event.clientY - box.top;
    view.x = px - (px - view.x) * (zoom / view.zoom);
    view.y = py - (py - view.y) * (zoom / view.zoom);
    view.zoom = zoom;
    applyView();
  }, { passive: false });

  return { element, nodeLayer, presenceLayer, liveOverlay, view, render, moveNode, settle, toWorld, contains, centreOn, fit, sizeOf: (/** @type {any} */ node) => rectOf(node) };
}

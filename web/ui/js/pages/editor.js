// @ts-check
// The pipeline editor: a palette of node types, an SVG canvas (drag, pan, zoom, connect typed ports), a settings
// panel rendered from the node's spec, validation shown on nodes and fields, and save with conflict handling.
import { api, parseDocument } from "../api.js";
import { errorText, h, show, svg, time } from "../dom.js";
import { renderFields } from "../form.js";
import { autoLayout, inputsOf, newNodeId, refusal, runProgress, specFor, splitRef } from "../graph.js";
import { connectionsSection, nodePicker } from "./editor-keyboard.js";
import { createLiveOverlay, createRunPanel, watchRun } from "./editor-run.js";
import { renderSharing } from "./editor-sharing.js";
import { live } from "../live.js";
import { askParameters } from "../run-dialog.js";
import { toYAML } from "../yaml.js";

const NODE_WIDTH = 180, HEADER = 30, PORT_GAP = 20;
const s = svg;

/**
 * A stored document ready for the canvas: nodes without a saved position are laid out.
 * @param {string} text
 */
async function loadDocument(text) {
  const doc = await parseDocument(text);
  if (!doc.layout || Object.keys(doc.layout).length < doc.nodes.length) doc.layout = { ...autoLayout(doc), ...(doc.layout ?? {}) };
  return doc;
}

/**
 * @param {HTMLElement} view
 * @param {any} me
 */
export async function editorPage(view, me) {
  const id = location.hash.split("/")[2] ?? "";
  const [specs, connections] = await Promise.all([api("GET", "/api/v1/node-types"), api("GET", "/api/v1/connections")]);
  /**
   * @type {any}
   */
  let pipeline = null;
  /**
   * @type {any}
   */
  let doc = { apiVersion: "sluice/v1", name: "new-pipeline", nodes: [], edges: [], layout: {} };
  if (id) {
    pipeline = await api("GET", `/api/v1/pipelines/${id}`);
    doc = await loadDocument(pipeline.document);
  }
  const canEdit = !pipeline || pipeline.role === "owner" || pipeline.role === "editor";
  const view_ = { x: 0, y: 0, zoom: 1 };
  /**
   * @type {{kind: "node"|"edge", id: string}|null}
   */
  let selection = null;
  /**
   * @type {any[]}
   */
  let problems = [];
  /** Nodes selected together (shift-click); the last one clicked is `selection` and shows in the panel. */
  const multi = new Set();

  // ---- layout of the page
  const status = h("div", { id: "editor-status", role: "status", "aria-live": "polite", class: "editor-status" });
  const name = /** @type {HTMLInputElement} */ (h("input", { id: "pipeline-name", "aria-label": "Pipeline name", value: doc.name, disabled: !canEdit }));
  // The canvas is HTML: a "world" layer moved by a CSS transform (pan and zoom) holding one SVG with every edge
  // and one small SVG per node, each placed by its own CSS transform. Moving a node then lays out that node
  // only; in one big SVG the browser laid out all 500 nodes again on every move (see docs/performance.md).
  const canvas = h("div", { class: "canvas", id: "canvas", tabindex: 0, role: "application", "aria-label": "Pipeline canvas" });
  const world = h("div", { class: "world", id: "world" });
  const edgeLayer = s("svg", { class: "edges", width: 1, height: 1 }), nodeLayer = h("div", { class: "nodes" }), ghost = s("path", { class: "edge ghost" });
  const edgePaths = s("g");
  const liveOverlay = createLiveOverlay(nodeLayer, edgePaths, NODE_WIDTH);
  edgeLayer.append(edgePaths, ghost);
  world.append(edgeLayer, nodeLayer);
  canvas.append(world);
  const panel = h("aside", { class: "panel", id: "panel", "aria-label": "Settings" });
  const search = /** @type {HTMLInputElement} */ (h("input", { type: "search", id: "palette-search", placeholder: "Search node types", "aria-label": "Search node types" }));
  const paletteList = h("div");
  const palette = h("aside", { class: "palette", "aria-label": "Node types" }, search, paletteList);

  // ---- undo and redo: snapshots of the document taken before each change
  /** @type {string[]} */
  const undoStack = [];
  /** @type {string[]} */
  const redoStack = [];
  function remember() {
    undoStack.push(JSON.stringify(doc));
    if (undoStack.length > 200) undoStack.shift();
    redoStack.length = 0;
  }
  /**
   * @param {string[]} from
   * @param {string[]} to
   * @param {string} verb
   */
  function travel(from, to, verb) {
    const snapshot = from.pop();
    if (!snapshot) { say(`Nothing to ${verb}.`); return; }
    to.push(JSON.stringify(doc));
    doc = JSON.parse(snapshot);
    selection = null;
    render();
    say(`${verb === "undo" ? "Undid" : "Redid"} the last change.`);
  }
  const undo = () => travel(undoStack, redoStack, "undo");
  const redo = () => travel(redoStack, undoStack, "redo");

  // ---- palette
  function renderPalette() {
    const query = search.value.trim().toLowerCase();
    const byCategory = new Map();
    for (const spec of specs) {
      if (query && !`${spec.id} ${spec.title} ${spec.summary}`.toLowerCase().includes(query)) continue;
      if (!byCategory.has(spec.category)) byCategory.set(spec.category, []);
      byCategory.get(spec.category).push(spec);
    }
    show(paletteList, ...[...byCategory].map(([category, list]) => h("section", {}, h("h3", {}, category),
      ...list.map((/** @type {any} */ spec) => h("button", { type: "button", class: "palette-item", "data-type": spec.id, title: spec.summary, disabled: !canEdit,
        onpointerdown: (/** @type {PointerEvent} */ event) => startPaletteDrag(event, spec),
        onkeydown: (/** @type {KeyboardEvent} */ event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); addNode(spec, freeSpot()); } } },
        spec.title || spec.id, h("span", { class: "hint" }, ` ${spec.id}`))))));
  }
  search.addEventListener("input", renderPalette);

  /**
   * @param {PointerEvent} event
   * @param {any} spec
   */
  function startPaletteDrag(event, spec) {
    if (!canEdit) return;
    event.preventDefault();
    const marker = h("div", { class: "drag-marker" }, spec.id);
    document.body.append(marker);
    const move = (/** @type {PointerEvent} */ e) => { marker.style.left = `${e.clientX + 8}px`; marker.style.top = `${e.clientY + 8}px`; };
    move(event);
    const up = (/** @type {PointerEvent} */ e) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      marker.remove();
      const box = canvas.getBoundingClientRect();
      if (e.clientX >= box.left && e.clientX <= box.right && e.clientY >= box.top && e.clientY <= box.bottom) addNode(spec, toWorld(e.clientX, e.clientY));
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  /**
   * @param {number} clientX
   * @param {number} clientY
   * @returns {number[]}
   */
  function toWorld(clientX, clientY) {
    const box = canvas.getBoundingClientRect();
    return [Math.round((clientX - box.left - view_.x) / view_.zoom - NODE_WIDTH / 2), Math.round((clientY - box.top - view_.y) / view_.zoom - HEADER / 2)];
  }

  function freeSpot() {
    const taken = Object.values(doc.layout ?? {});
    const y = taken.length ? Math.max(...taken.map((p) => /** @type {number[]} */ (p)[1])) + 120 : 40;
    return [40, y];
  }

  /**
   * @param {any} spec
   * @param {number[]} at
   */
  function addNode(spec, at) {
    const nodeId = newNodeId(doc, spec.id);
    remember();
    doc.nodes.push({ id: nodeId, type: spec.id, settings: {} });
    doc.layout[nodeId] = at;
    selection = { kind: "node", id: nodeId };
    render();
    say(`Added ${nodeId}.`);
  }

  // ---- canvas
  /**
   * @param {any} node
   */
  function portsOf(node) {
    const spec = specFor(specs, node.type);
    return { spec, inputs: spec ? inputsOf(spec) : [], outputs: spec ? spec.outputs : [] };
  }

  /**
   * @param {string} ref
   * @param {"in"|"out"} side
   * @returns {number[]}
   */
  function portPosition(ref, side) {
    const { node: nodeId, port } = splitRef(ref);
    const node = doc.nodes.find((/** @type {any} */ n) => n.id === nodeId);
    const [x, y] = doc.layout[nodeId] ?? [0, 0];
    const ports = node ? (side === "in" ? portsOf(node).inputs : portsOf(node).outputs) : [];
    const index = Math.max(0, ports.findIndex((/** @type {any} */ p) => p.name === port));
    return [side === "in" ? x : x + NODE_WIDTH, y + HEADER + 10 + index * PORT_GAP];
  }

  /**
   * @param {number[]} a
   * @param {number[]} b
   */
  function curve(a, b) {
    const dx = Math.max(40, Math.abs(b[0] - a[0]) / 2);
    return `M${a[0]},${a[1]} C${a[0] + dx},${a[1]} ${b[0] - dx},${b[1]} ${b[0]},${b[1]}`;
  }

  function applyView() {
    world.style.transform = `translate(${view_.x}px,${view_.y}px) scale(${view_.zoom})`;
  }

  function render() {
    applyView();
    edgePaths.replaceChildren(...doc.edges.map((/** @type {any} */ edge, /** @type {number} */ index) => {
      const path = s("path", { class: `edge ${edge.kind === "signal" ? "signal" : ""} ${selection?.kind === "edge" && selection.id === String(index) ? "selected" : ""}`,
        d: curve(portPosition(edge.from, "out"), portPosition(edge.to, "in")), "data-edge": `${edge.from}->${edge.to}` });
      path.addEventListener("pointerdown", (event) => { event.stopPropagation(); selection = { kind: "edge", id: String(index) }; render(); });
      return path;
    }));
    nodeLayer.replaceChildren(...doc.nodes.map(renderNode));
    liveOverlay.redraw(doc);
    renderPanel();
  }

  /**
   * @param {any} node
   */
  function renderNode(node) {
    const { spec, inputs, outputs } = portsOf(node);
    const [x, y] = doc.layout[node.id] ?? [0, 0];
    const height = HEADER + Math.max(inputs.length, outputs.length) * PORT_GAP + 8;
    const nodeProblems = problems.filter((p) => p.node === node.id);
    const group = s("g", { class: `node ${(selection?.kind === "node" && selection.id === node.id) || multi.has(node.id) ? "selected" : ""} ${nodeProblems.length ? "invalid" : ""}`,
      "data-node": node.id });
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
      const circle = s("circle", { cx: NODE_WIDTH, cy: HEADER + 10 + i * PORT_GAP, r: 6, class: `port out ${port.kind}`, "data-port": `${node.id}.${port.name}`, "data-side": "out" });
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
   * Moves one node and its edges without re-rendering the rest (dragging stays fast on large graphs).
   * @param {string} nodeId
   */
  function moveNode(nodeId) {
    const [x, y] = doc.layout[nodeId];
    const box = /** @type {HTMLElement|null} */ (nodeLayer.querySelector(`svg[data-node-box="${CSS.escape(nodeId)}"]`));
    if (box) box.style.transform = `translate(${x}px,${y}px)`;
    doc.edges.forEach((/** @type {any} */ edge) => {
      if (splitRef(edge.from).node !== nodeId && splitRef(edge.to).node !== nodeId) return;
      edgePaths.querySelector(`path[data-edge="${CSS.escape(`${edge.from}->${edge.to}`)}"]`)?.setAttribute("d", curve(portPosition(edge.from, "out"), portPosition(edge.to, "in")));
    });
  }

  canvas.addEventListener("pointerdown", (event) => {
    const target = /** @type {Element} */ (event.target);
    const port = target.closest("[data-port]");
    const nodeElement = target.closest("[data-node]");
    canvas.focus();
    if (port && port.getAttribute("data-side") === "out" && canEdit) return startConnect(event, /** @type {string} */ (port.getAttribute("data-port")));
    if (nodeElement) return startNodeDrag(event, /** @type {string} */ (nodeElement.getAttribute("data-node")));
    selection = null;
    multi.clear();
    render();
    startPan(event);
  });

  /**
   * @param {PointerEvent} event
   * @param {string} nodeId
   */
  function startNodeDrag(event, nodeId) {
    if (event.shiftKey) {
      if (selection?.kind === "node") multi.add(selection.id);
      if (multi.has(nodeId) && multi.size > 1) multi.delete(nodeId); else multi.add(nodeId);
    } else {
      multi.clear();
    }
    selection = { kind: "node", id: nodeId };
    render();
    if (event.shiftKey) { say(`${multi.size} node(s) selected.`); return; }
    if (!canEdit) return;
    const start = [event.clientX, event.clientY], origin = [...doc.layout[nodeId]];
    const before = JSON.stringify(doc);
    let moved = false;
    const move = (/** @type {PointerEvent} */ e) => {
      if (!moved) { moved = true; undoStack.push(before); redoStack.length = 0; }
      doc.layout[nodeId] = [Math.round(origin[0] + (e.clientX - start[0]) / view_.zoom), Math.round(origin[1] + (e.clientY - start[1]) / view_.zoom)];
      moveNode(nodeId);
    };
    const up = () => { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  /**
   * @param {PointerEvent} event
   */
  function startPan(event) {
    const start = [event.clientX, event.clientY], origin = [view_.x, view_.y];
    const move = (/** @type {PointerEvent} */ e) => {
      view_.x = origin[0] + e.clientX - start[0];
      view_.y = origin[1] + e.clientY - start[1];
      applyView();
    };
    const up = () => { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  /**
   * @param {PointerEvent} event
   * @param {string} from
   */
  function startConnect(event, from) {
    event.stopPropagation();
    const a = portPosition(from, "out");
    const move = (/** @type {PointerEvent} */ e) => {
      const box = canvas.getBoundingClientRect();
      ghost.setAttribute("d", curve(a, [(e.clientX - box.left - view_.x) / view_.zoom, (e.clientY - box.top - view_.y) / view_.zoom]));
    };
    const up = (/** @type {PointerEvent} */ e) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      ghost.setAttribute("d", "");
      const over = document.elementFromPoint(e.clientX, e.clientY)?.closest("[data-port][data-side=in]");
      if (!over) return;
      connect(from, /** @type {string} */ (over.getAttribute("data-port")));
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  /**
   * Adds an edge, or says why it cannot be added.
   * @param {string} from
   * @param {string} to
   */
  function connect(from, to) {
    const reason = refusal(doc, specs, from, to);
    if (reason) { say(`Cannot connect ${from} → ${to}: ${reason}`, true); return false; }
    const fromPort = portsOf(doc.nodes.find((/** @type {any} */ n) => n.id === splitRef(from).node)).outputs.find((/** @type {any} */ p) => p.name === splitRef(from).port);
    remember();
    doc.edges.push(fromPort?.kind === "signal" ? { from, to, kind: "signal" } : { from, to });
    render();
    say(`Connected ${from} → ${to}.`);
    return true;
  }

  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = canvas.getBoundingClientRect();
    const factor = Math.exp(-event.deltaY * 0.0015);
    const zoom = Math.min(2.5, Math.max(0.2, view_.zoom * factor));
    const px = event.clientX - box.left, py = event.clientY - box.top;
    view_.x = px - (px - view_.x) * (zoom / view_.zoom);
    view_.y = py - (py - view_.y) * (zoom / view_.zoom);
    view_.zoom = zoom;
    applyView();
  }, { passive: false });

  /** The selected nodes: the shift-click set, or the one selected node. */
  function selectedNodes() {
    const ids = new Set(multi);
    if (selection?.kind === "node") ids.add(selection.id);
    return ids;
  }

  /** Copies the selected nodes with their settings, positions and the edges between them (kept across pipelines). */
  function copy() {
    const ids = selectedNodes();
    if (!ids.size) return;
    const nodes = doc.nodes.filter((/** @type {any} */ n) => ids.has(n.id));
    const edges = doc.edges.filter((/** @type {any} */ e) => ids.has(splitRef(e.from).node) && ids.has(splitRef(e.to).node));
    const layout = Object.fromEntries(nodes.map((/** @type {any} */ n) => [n.id, doc.layout[n.id]]));
    localStorage.setItem("sluice.clipboard", JSON.stringify({ nodes, edges, layout }));
    say(`Copied ${nodes.length} node(s).`);
  }

  /** Pastes copied nodes with new ids, 40 px down and right, and selects them. */
  function paste() {
    const text = localStorage.getItem("sluice.clipboard");
    if (!text) { say("Nothing to paste: copy nodes first (Ctrl+C)."); return; }
    const clip = JSON.parse(text);
    remember();
    /** @type {Map<string, string>} */
    const ids = new Map();
    multi.clear();
    for (const node of clip.nodes) {
      const id = newNodeId(doc, node.type);
      ids.set(node.id, id);
      doc.nodes.push({ ...JSON.parse(JSON.stringify(node)), id });
      const [x, y] = clip.layout[node.id] ?? freeSpot();
      doc.layout[id] = [x + 40, y + 40];
      multi.add(id);
    }
    for (const edge of clip.edges) {
      const from = splitRef(edge.from), to = splitRef(edge.to);
      doc.edges.push({ ...edge, from: `${ids.get(from.node)}.${from.port}`, to: `${ids.get(to.node)}.${to.port}` });
    }
    selection = null;
    render();
    say(`Pasted ${clip.nodes.length} node(s): ${[...ids.values()].join(", ")}.`);
  }

  canvas.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "c") { event.preventDefault(); copy(); return; }
    if (canEdit && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "v") { event.preventDefault(); paste(); return; }
    if (canEdit && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") { event.preventDefault(); if (event.shiftKey) redo(); else undo(); return; }
    if (canEdit && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "y") { event.preventDefault(); redo(); return; }
    if (event.key === "Escape") { selection = null; multi.clear(); render(); return; }
    const nudge = { ArrowLeft: [-20, 0], ArrowRight: [20, 0], ArrowUp: [0, -20], ArrowDown: [0, 20] }[event.key];
    if (nudge && canEdit && selectedNodes().size) {
      event.preventDefault();
      remember();
      for (const id of selectedNodes()) {
        const [x, y] = doc.layout[id] ?? [0, 0];
        doc.layout[id] = [x + nudge[0], y + nudge[1]];
        moveNode(id);
      }
      return;
    }
    if ((event.key === "Delete" || event.key === "Backspace") && (selection || multi.size) && canEdit) {
      event.preventDefault();
      remember();
      if (selection?.kind !== "edge") {
        const gone = selectedNodes();
        doc.nodes = doc.nodes.filter((/** @type {any} */ n) => !gone.has(n.id));
        doc.edges = doc.edges.filter((/** @type {any} */ e) => !gone.has(splitRef(e.from).node) && !gone.has(splitRef(e.to).node));
        for (const id of gone) delete doc.layout[id];
        multi.clear();
        say(`Deleted ${[...gone].join(", ")}.`);
      } else if (selection) {
        doc.edges.splice(Number(selection.id), 1);
        say("Deleted the edge.");
      }
      selection = null;
      render();
    }
  });

  // ---- settings panel
  function renderPanel() {
    const problemList = problems.length ? h("section", { class: "problems", "data-testid": "problems" }, h("h2", {}, `${problems.length} problem(s)`),
      h("ul", {}, ...problems.map((p) => h("li", {}, p.node ? h("strong", {}, p.node) : null, p.node ? ": " : "", p.message, p.field ? ` (${p.field})` : "", p.line ? ` — line ${p.line}` : "")))) : null;
    if (!selection || selection.kind !== "node") {
      show(panel, h("h2", {}, "Pipeline"), h("p", { class: "hint" }, `${doc.nodes.length} node(s), ${doc.edges.length} edge(s). Drag node types from the palette (or press Enter on one); connect an output port (right) to an input port (left), or choose a node below and connect it from its Edges list. Arrow keys move the selection, Delete removes it.`),
        doc.nodes.length ? nodePicker(doc, selectNode) : "",
        canEdit ? "" : h("p", { class: "hint", id: "read-only" }, `Read only: your role on this pipeline is ${pipeline?.role}.`),
        problemList ?? "", sharing);
      return;
    }
    const node = doc.nodes.find((/** @type {any} */ n) => n.id === selection?.id);
    if (!node) return;
    /**
     * @type {any}
     */
    const spec = specFor(specs, node.type);
    if (!spec) { show(panel, h("p", { class: "error" }, `Unknown node type ${node.type}`)); return; }
    if (previewBox.dataset.node !== node.id) { show(previewBox); previewBox.dataset.node = ""; }
    const fields = renderFields(spec.fields, { initial: node.settings ?? {}, idPrefix: `setting`, connections: connections.map((/** @type {any} */ c) => c.name) });
    for (const p of problems) if (p.node === node.id && p.field) fields.showError(p.field, p.message, { focus: false });
    const message = h("div");
    show(panel, h("h2", {}, node.id), h("p", { class: "hint" }, `${spec.title} (${spec.reference}): ${spec.summary}`),
      h("form", { "aria-label": `Settings of ${node.id}`, onsubmit: (/** @type {Event} */ event) => {
        event.preventDefault();
        try {
          const settings = fields.values().settings;
          remember();
          node.settings = settings;
          say(`Applied the settings of ${node.id}.`);
          validate();
        } catch { show(message, h("p", { class: "error" }, "Some settings need attention.")); }
      } }, fields.element, message, h("p", { class: "row" },
        canEdit ? h("button", { type: "submit", class: "primary", id: "apply-settings" }, "Apply") : null,
        spec.outputs.some((/** @type {any} */ p) => p.kind === "data") ? h("button", { type: "button", id: "preview-node", onclick: () => preview(node.id) }, "Preview data") : null)),
      connectionsSection({ doc, specs, nodeId: node.id, outputs: spec.outputs, canEdit, connect, removeEdge }),
      previewBox, problemList ?? "");
    if (canEdit) checkWhileTyping(fields, node);
  }

  /**
   * Selects a node from the keyboard: centres the canvas on it and moves focus to its settings.
   * @param {string} nodeId
   */
  function selectNode(nodeId) {
    const [x, y] = doc.layout[nodeId] ?? [0, 0];
    const box = canvas.getBoundingClientRect();
    view_.x = Math.round(box.width / 2 - (x + NODE_WIDTH / 2) * view_.zoom);
    view_.y = Math.round(box.height / 2 - (y + HEADER) * view_.zoom);
    selection = { kind: "node", id: nodeId };
    multi.clear();
    render();
    /** @type {HTMLElement|null} */ (panel.querySelector("input, select, textarea, button"))?.focus();
  }

  /** @param {number} index */
  function removeEdge(index) {
    const [edge] = doc.edges.slice(index, index + 1);
    if (!edge) return;
    remember();
    doc.edges.splice(index, 1);
    render();
    say(`Removed the edge ${edge.from} → ${edge.to}.`);
  }

  /**
   * Checks the settings being typed, 400 ms after the last keystroke: values that do not parse are marked at
   * once; the rest go to the server's validation as a draft of the pipeline, and its errors on this node's
   * fields (expression syntax, unknown columns, wrong types) show under them. Nothing is applied until Apply.
   * @param {{element: HTMLElement, values: () => {settings: Record<string, unknown>}, showError: (name: string, message: string, options?: {focus?: boolean}) => boolean}} fields
   * @param {any} node
   */
  function checkWhileTyping(fields, node) {
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    let timer;
    let sequence = 0;
    fields.element.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const mine = ++sequence;
        /** @type {Record<string, unknown>} */
        let settings;
        try { settings = fields.values().settings; } catch { return; }
        const draft = { ...doc, nodes: doc.nodes.map((/** @type {any} */ n) => n.id === node.id ? { ...n, settings } : n) };
        /** @type {any} */
        let result;
        try { result = await api("POST", "/api/v1/pipelines/validate", { document: toYAML(draft) }); } catch { return; }
        if (mine !== sequence || !fields.element.isConnected) return;
        for (const p of result.problems) if (p.node === node.id && p.field) fields.showError(p.field, p.message, { focus: false });
      }, 400);
    });
  }

  // ---- data preview: the node's first rows (its upstream runs on the server with sinks disabled)
  const previewBox = h("section", { id: "preview", "aria-live": "polite" });
  /** @param {string} nodeId */
  async function preview(nodeId) {
    previewBox.dataset.node = nodeId;
    show(previewBox, h("p", { class: "hint" }, `Reading the first rows of ${nodeId}…`));
    try {
      const result = await api("POST", "/api/v1/pipelines/preview", { document: documentText(), node: nodeId, limit: 20 });
      show(previewBox, h("h2", {}, `Preview of ${nodeId}`),
        h("p", { class: result.status === "succeeded" ? "hint" : "error" }, `${result.rows.length} row(s)`, result.error ? ` — ${result.error}` : ""),
        h("div", { class: "preview-scroll" }, h("table", { "aria-label": `Preview of ${nodeId}` },
          h("thead", {}, h("tr", {}, ...result.columns.map((/** @type {any} */ c) => h("th", {}, c.name, h("div", { class: "hint" }, c.type))))),
          h("tbody", {}, ...result.rows.map((/** @type {any[]} */ row) => h("tr", {}, ...row.map((v) => h("td", {}, v === null ? "NULL" : String(v)))))))),
        result.rejected.length ? h("div", { "data-testid": "preview-rejects" }, h("h3", {}, `${result.rejected.length} record(s) rejected upstream`),
          h("ul", {}, ...result.rejected.map((/** @type {any} */ r) => h("li", {}, `${r.node}: ${r.message}`)))) : "");
    } catch (error) { show(previewBox, errorText(error)); }
  }

  // ---- revision history: list, visual diff against the current revision (on the canvas too), restore
  async function showHistory() {
    if (!pipeline) { say("Save the pipeline to start its history.", true); return; }
    const revisions = await api("GET", `/api/v1/pipelines/${pipeline.id}/revisions`);
    selection = null;
    render();
    const diffBox = h("div", { id: "diff" });
    /** @param {any} revision */
    async function compare(revision) {
      const diff = await api("GET", `/api/v1/pipelines/${pipeline.id}/diff?from=${revision.revision}&to=${pipeline.current_revision}`);
      for (const box of nodeLayer.querySelectorAll("g[data-node]")) box.classList.remove("diff-added", "diff-changed");
      for (const id of diff.nodes_added) nodeLayer.querySelector(`g[data-node="${CSS.escape(id)}"]`)?.classList.add("diff-added");
      for (const change of diff.nodes_changed) nodeLayer.querySelector(`g[data-node="${CSS.escape(change.id)}"]`)?.classList.add("diff-changed");
      /** @param {string} title @param {(Node|string)[]} items */
      const list = (title, items) => items.length ? h("div", {}, h("h3", {}, title), h("ul", {}, ...items.map((i) => h("li", {}, i)))) : "";
      const empty = !diff.nodes_added.length && !diff.nodes_removed.length && !diff.nodes_changed.length && !diff.edges_added.length && !diff.edges_removed.length && !diff.settings_changed.length;
      show(diffBox, h("h2", {}, `Revision ${revision.revision} → ${pipeline.current_revision}`),
        empty ? h("p", { class: "hint" }, "No differences in nodes, edges or settings.") : "",
        list("Nodes added (green on the canvas)", diff.nodes_added),
        list("Nodes removed", diff.nodes_removed),
        list("Nodes changed (amber on the canvas)", diff.nodes_changed.map((/** @type {any} */ c) => h("span", {}, h("strong", {}, c.id),
          c.type_before !== c.type_after && c.type_before ? ` type ${c.type_before} → ${c.type_after}` : "",
          ...c.settings.map((/** @type {any} */ x) => h("div", { class: "hint" }, `${x.path}: ${x.before ?? "—"} → ${x.after ?? "—"}`))))),
        list("Edges added", diff.edges_added), list("Edges removed", diff.edges_removed),
        list("Pipeline settings", diff.settings_changed.map((/** @type {any} */ x) => `${x.path}: ${x.before ?? "—"} → ${x.after ?? "—"}`)));
    }
    /** @param {any} revision */
    async function restore(revision) {
      if (!confirm(`Restore revision ${revision.revision}? It becomes a new revision; nothing is lost.`)) return;
      pipeline = await api("POST", `/api/v1/pipelines/${pipeline.id}/revisions/${revision.revision}/restore`);
      doc = await loadDocument(pipeline.document);
      name.value = doc.name;
      showRevision();
      render();
      say(`Restored revision ${revision.revision} as revision ${pipeline.current_revision}.`);
    }
    show(panel, h("h2", {}, "Revisions"), h("ul", { class: "revisions" }, ...revisions.map((/** @type {any} */ r) => h("li", { "data-revision": String(r.revision) },
      h("strong", {}, `#${r.revision}`), ` ${r.message} — ${r.author}, ${time(r.created_at)} `,
      r.revision === pipeline.current_revision ? h("span", { class: "hint" }, "(current)") : h("span", { class: "row" },
        h("button", { type: "button", onclick: () => compare(r) }, "Compare with current"),
        canEdit ? h("button", { type: "button", onclick: () => restore(r) }, "Restore") : null)))), diffBox);
  }

  // ---- sharing (owners change it; everyone who sees the pipeline sees who else does)
  const sharing = h("section", { id: "sharing" });

  // ---- validate, save
  /**
   * @param {string} text
   * @param {boolean} [bad]
   */
  function say(text, bad = false) {
    status.textContent = text;
    status.classList.toggle("error", bad);
  }

  function documentText() {
    doc.name = name.value.trim() || doc.name;
    return toYAML(doc);
  }

  async function validate() {
    const result = await api("POST", "/api/v1/pipelines/validate", { document: documentText() });
    problems = result.problems;
    render();
    say(result.valid ? "Valid: the planner accepts this pipeline." : `${problems.length} problem(s): see the nodes marked in red.`, !result.valid);
    return result.valid;
  }

  /**
   * @param {boolean} [overwrite]
   */
  async function save(overwrite = false) {
    const text = documentText();
    const message = /** @type {HTMLInputElement} */ (document.getElementById("save-message")).value;
    try {
      if (!pipeline) {
        pipeline = await api("POST", "/api/v1/pipelines", { document: text, message: message || "created in the editor" });
        history.replaceState(null, "", `#/edit/${pipeline.id}`);
      } else {
        const base = overwrite ? (await api("GET", `/api/v1/pipelines/${pipeline.id}`)).current_revision : pipeline.current_revision;
        pipeline = await api("PUT", `/api/v1/pipelines/${pipeline.id}`, { document: text, message: message || "saved in the editor", base_revision: base });
      }
      showRevision();
      await renderSharing(sharing, pipeline, me);
      await validate();
      say(`Saved revision ${pipeline.current_revision}. ${status.textContent}`);
    } catch (error) {
      const e = /** @type {any} */ (error);
      if (e.status === 409) {
        say("Someone saved a newer revision while you were editing.", true);
        show(conflict, h("div", { class: "card", role: "alertdialog", "aria-label": "Save conflict" }, h("p", {}, e.message),
          h("div", { class: "row" }, h("button", { type: "button", onclick: () => { location.reload(); } }, "Reload theirs (drop my changes)"),
            h("button", { type: "button", class: "danger", onclick: () => { show(conflict); save(true); } }, "Overwrite with mine"))));
      } else {
        show(conflict, errorText(error));
      }
    }
  }

  async function runNow() {
    if (!pipeline) { say("Save the pipeline before running it.", true); return; }
    const parameters = await askParameters(doc.parameters);
    if (parameters === null) return;
    /** @type {any} */
    let run;
    try { run = await api("POST", `/api/v1/pipelines/${pipeline.id}/runs`, { parameters }); } catch (error) { say(/** @type {Error} */ (error).message, true); return; }
    show(conflict, h("p", {}, `Run ${run.id.slice(0, 8)} queued. `, h("a", { href: `#/run/${run.id}`, id: "open-run" }, "Open the run")));
    watchRun(run.id, { overlay: liveOverlay, panel: runPanel, doc: () => doc, say, isShown: () => canvas.isConnected });
  }

  const conflict = h("div");
  const revisionHint = h("span", { class: "hint", id: "revision-hint" });
  function showRevision() {
    revisionHint.textContent = pipeline ? `revision ${pipeline.current_revision}, your role: ${pipeline.role}` : "not saved yet";
  }
  const toolbar = h("div", { class: "toolbar" }, name,
    h("button", { type: "button", onclick: validate }, "Validate"),
    h("button", { type: "button", onclick: () => { remember(); doc.layout = autoLayout(doc); render(); } }, "Auto-layout"),
    canEdit ? h("button", { type: "button", id: "undo", title: "Undo (Ctrl+Z)", onclick: undo }, "Undo") : null,
    canEdit ? h("button", { type: "button", id: "redo", title: "Redo (Ctrl+Shift+Z)", onclick: redo }, "Redo") : null,
    h("button", { type: "button", id: "show-history", onclick: () => showHistory() }, "History"),
    canEdit ? h("input", { id: "save-message", placeholder: "Revision message (optional)", "aria-label": "Revision message" }) : null,
    canEdit ? h("button", { type: "button", class: "primary", id: "save-pipeline", onclick: () => save() }, "Save") : null,
    !pipeline || ["owner", "editor", "runner"].includes(pipeline.role) ? h("button", { type: "button", id: "run-pipeline", onclick: runNow }, "Run") : null,
    revisionHint);
  showRevision();
  const runPanel = createRunPanel(selectNode);
  show(view, h("div", { class: "editor" }, toolbar, status, conflict, h("div", { class: "editor-body" }, palette, canvas, panel), runPanel.element));
  view.classList.add("wide");
  renderPalette();
  render();
  await renderSharing(sharing, pipeline, me);
  if (doc.nodes.length && pipeline) await validate();
  // For tests and tooling: the editor's state and actions.
  /** @type {any} */ (window).sluiceEditor = { doc: () => doc, connect, render, view: view_ };
}

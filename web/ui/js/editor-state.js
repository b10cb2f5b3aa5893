// @ts-check
// The editor's state, pure (no DOM; unit-tested with node --test): the pipeline document, the selection, and
// every change the editor makes to them. Each change is an operation of live editing (live-ops.js): applied here,
// handed to `onOp` (which sends it to the other editors), and undoable; undo and redo apply the inverse of one's
// own operations only, so they never take back what someone else did. The canvas and the settings panel render
// this state and call these methods; they never change the document themselves.
import { autoLayout, newNodeId, outputsOf, refusal, specFor, splitRef } from "./graph.js";
import { addOp, applyOp, encode, inverseOf, renameIn } from "./live-ops.js";

/**
 * @typedef {import("./graph.js").NodeSpec} NodeSpec
 * @typedef {import("./graph.js").NodeDecl} NodeDecl
 * @typedef {import("./graph.js").EdgeDecl} EdgeDecl
 * @typedef {{apiVersion?: string, name: string, nodes: NodeDecl[], edges: EdgeDecl[], layout: Record<string, number[]>, parameters?: any, [key: string]: any}} EditorDoc
 * @typedef {{kind: "node"|"edge", id: string}} Selection
 * @typedef {{nodes: NodeDecl[], edges: EdgeDecl[], layout: Record<string, number[]>}} Clip
 * @typedef {import("./live-ops.js").Op} Op
 * @typedef {{op: Op, inverse: Op}} HistoryEntry
 */

/** How many changes undo remembers. */
const UNDO_DEPTH = 200;

export class EditorState {
  /**
   * @param {EditorDoc} doc
   * @param {NodeSpec[]} specs
   */
  constructor(doc, specs) {
    /** @type {EditorDoc} */
    this.doc = doc;
    this.specs = specs;
    /** @type {Selection|null} the node or edge shown in the panel */
    this.selection = null;
    /** Nodes selected together (shift-click); `selection` is the last one clicked. */
    this.multi = new Set();
    /** @type {HistoryEntry[]} own changes, each with the operation that undoes it */
    this.undoStack = [];
    /** @type {HistoryEntry[]} */
    this.redoStack = [];
    /** @type {((op: Op) => void)|null} told of every change made here (live editing sends it) */
    this.onOp = null;
    /** @type {{id: string, at: number[]}|null} the node being dragged, where it is now (kept over others' changes) */
    this.dragging = null;
  }

  /**
   * Makes a change: applies it, remembers how to undo it, and tells `onOp`.
   * @param {Op} op
   */
  perform(op) {
    const inverse = inverseOf(this.doc, op);
    applyOp(this.doc, op);
    if (inverse) {
      this.undoStack.push({ op, inverse });
      if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
      this.redoStack.length = 0;
    }
    this.onOp?.(op);
  }

  /** Undoes one's own last change; false when there is none. */
  undo() { return this.#travel(this.undoStack, this.redoStack); }

  /** Redoes one's own last undone change; false when there is none. */
  redo() { return this.#travel(this.redoStack, this.undoStack); }

  /**
   * @param {HistoryEntry[]} from
   * @param {HistoryEntry[]} to
   */
  #travel(from, to) {
    const entry = from.pop();
    if (!entry) return false;
    const back = inverseOf(this.doc, entry.inverse) ?? entry.op;
    applyOp(this.doc, entry.inverse);
    to.push({ op: entry.inverse, inverse: back });
    this.onOp?.(entry.inverse);
    this.selection = null;
    this.multi.clear();
    return true;
  }

  /**
   * Replaces the whole document (another pipeline, a restored draft); the selection is cleared, undo starts again.
   * @param {EditorDoc} doc
   */
  replace(doc) {
    this.doc = doc;
    this.selection = null;
    this.multi.clear();
    this.undoStack.length = 0;
    this.redoStack.length = 0;
  }

  /**
   * Shows the document as others changed it (live editing): the selection keeps what still exists, undo keeps
   * one's own changes, a node being dragged stays under the pointer.
   * @param {EditorDoc} doc
   */
  rebase(doc) {
    this.doc = doc;
    const exists = (/** @type {string} */ id) => doc.nodes.some((n) => n.id === id);
    for (const id of [...this.multi]) if (!exists(id)) this.multi.delete(id);
    if (this.selection?.kind === "node" && !exists(this.selection.id)) this.selection = null;
    if (this.selection?.kind === "edge" && !doc.edges[Number(this.selection.id)]) this.selection = null;
    if (this.dragging && exists(this.dragging.id)) doc.layout[this.dragging.id] = this.dragging.at;
  }

  /**
   * Node ids the server changed (another editor added the same id first): one's history and selection follow.
   * @param {Record<string, string>} map old → new
   */
  renamed(map) {
    for (const stack of [this.undoStack, this.redoStack]) {
      for (const entry of stack) { entry.op = renameIn(entry.op, map); entry.inverse = renameIn(entry.inverse, map); }
    }
    if (this.selection?.kind === "node" && map[this.selection.id]) this.selection = { kind: "node", id: map[this.selection.id] };
    this.multi = new Set([...this.multi].map((id) => map[id] ?? id));
  }

  /** @param {string} nodeId */
  node(nodeId) { return this.doc.nodes.find((n) => n.id === nodeId) ?? null; }

  /** @param {string} nodeId */
  specOf(nodeId) {
    const node = this.node(nodeId);
    return node ? specFor(this.specs, node.type) : null;
  }

  // ---- selection

  /**
   * Selects a node; with `extend` (shift-click) it joins or leaves the nodes selected together.
   * @param {string} nodeId
   * @param {{extend?: boolean}} [options]
   */
  selectNode(nodeId, options = {}) {
    if (options.extend) {
      if (this.selection?.kind === "node") this.multi.add(this.selection.id);
      if (this.multi.has(nodeId) && this.multi.size > 1) this.multi.delete(nodeId); else this.multi.add(nodeId);
    } else {
      this.multi.clear();
    }
    this.selection = { kind: "node", id: nodeId };
  }

  /** @param {number} index */
  selectEdge(index) { this.selection = { kind: "edge", id: String(index) }; }

  clearSelection() {
    this.selection = null;
    this.multi.clear();
  }

  /** The selected nodes: the shift-click set, or the one selected node. */
  selectedNodes() {
    const ids = new Set(this.multi);
    if (this.selection?.kind === "node") ids.add(this.selection.id);
    return ids;
  }

  /** @param {string} nodeId */
  isSelected(nodeId) { return (this.selection?.kind === "node" && this.selection.id === nodeId) || this.multi.has(nodeId); }

  // ---- changes

  /** A free place for a new node: below the lowest one. */
  freeSpot() {
    const taken = Object.values(this.doc.layout ?? {});
    return [40, taken.length ? Math.max(...taken.map((p) => p[1])) + 120 : 40];
  }

  /**
   * Adds a node of `spec`'s type at `at` and selects it; returns its id.
   * @param {NodeSpec} spec
   * @param {number[]} [at]
   */
  addNode(spec, at = this.freeSpot()) {
    const nodeId = newNodeId(this.doc, spec.id);
    this.perform(addOp({ id: nodeId, type: spec.id, settings: {} }, at));
    this.selection = { kind: "node", id: nodeId };
    this.multi.clear();
    return nodeId;
  }

  /**
   * Connects an output to an input (a signal edge when the output is a signal); returns why not, or null.
   * @param {string} from `node.port`
   * @param {string} to `node.port`
   */
  connect(from, to) {
    const reason = refusal(this.doc, this.specs, from, to);
    if (reason) return reason;
    const ref = splitRef(from);
    const spec = this.specOf(ref.node);
    const port = spec ? outputsOf(spec, this.node(ref.node)).find((p) => p.name === ref.port) : undefined;
    this.perform({ kind: "connect", edge: port?.kind === "signal" ? { from, to, kind: "signal" } : { from, to } });
    return null;
  }

  /**
   * Removes the edge at `index`; returns it (null when there is none).
   * @param {number} index
   */
  removeEdge(index) {
    const edge = this.doc.edges[index];
    if (!edge) return null;
    this.perform({ kind: "disconnect", from: edge.from, to: edge.to });
    if (this.selection?.kind === "edge") this.selection = null;
    return edge;
  }

  /**
   * Deletes the selected nodes (with their edges) or the selected edge; returns what went, for a message.
   * @returns {{nodes: string[]}|{edge: EdgeDecl}|null}
   */
  deleteSelection() {
    if (this.selection?.kind === "edge") {
      const edge = this.removeEdge(Number(this.selection.id));
      return edge ? { edge } : null;
    }
    const gone = this.selectedNodes();
    if (!gone.size) return null;
    this.perform({ kind: "remove", nodes: [...gone] });
    this.clearSelection();
    return { nodes: [...gone] };
  }

  /**
   * Moves the selected nodes by (dx, dy); returns their ids.
   * @param {number} dx
   * @param {number} dy
   */
  nudge(dx, dy) {
    const ids = [...this.selectedNodes()];
    if (!ids.length) return ids;
    /** @type {Record<string, number[]>} */
    const at = {};
    for (const id of ids) {
      const [x, y] = this.doc.layout[id] ?? [0, 0];
      at[id] = [x + dx, y + dy];
    }
    this.perform({ kind: "move", at });
    return ids;
  }

  /**
   * Starts dragging a node: the returned function moves it (here only); its `end()` makes the whole drag one
   * change (one operation, one undo).
   * @param {string} nodeId
   * @returns {((at: number[]) => void) & {end: () => void}}
   */
  beginMove(nodeId) {
    const origin = [...(this.doc.layout[nodeId] ?? [0, 0])];
    const move = (/** @type {number[]} */ at) => {
      this.dragging = { id: nodeId, at };
      this.doc.layout[nodeId] = at;
    };
    move.end = () => {
      const dragged = this.dragging;
      this.dragging = null;
      if (!dragged || !this.node(nodeId)) return;
      this.doc.layout[nodeId] = origin;
      if (dragged.at[0] !== origin[0] || dragged.at[1] !== origin[1]) this.perform({ kind: "move", at: { [nodeId]: dragged.at } });
    };
    return move;
  }

  /**
   * Applies a node's settings as edited from `base` (the settings the form showed; by default the current ones):
   * only the fields that differ from `base` change, so others' changes to other fields stay. False when the node
   * is gone or nothing changed.
   * @param {string} nodeId
   * @param {Record<string, unknown>} settings
   * @param {Record<string, unknown>} [base]
   * @param {number} [since] the live operation the form showed: a field someone changed after it is a race (they are told)
   */
  applySettings(nodeId, settings, base, since) {
    const node = this.node(nodeId);
    if (!node) return false;
    const before = base ?? node.settings ?? {};
    /** @type {import("./live-ops.js").SimpleOp[]} */
    const ops = [];
    for (const field of new Set([...Object.keys(before), ...Object.keys(settings)])) {
      if (JSON.stringify(before[field]) === JSON.stringify(settings[field])) continue;
      /** @type {import("./live-ops.js").SetOp} */
      const op = { kind: "set", node: nodeId, field, value: encode(settings[field]) };
      if (since !== undefined) op.since = since;
      ops.push(op);
    }
    if (!ops.length) return false;
    this.perform(ops.length === 1 ? ops[0] : { kind: "batch", ops });
    return true;
  }

  /**
   * Gives a node another id (its edges and position follow); returns why not, or null.
   * @param {string} nodeId
   * @param {string} to
   */
  renameNode(nodeId, to) {
    if (!this.node(nodeId)) return `there is no node ${nodeId}`;
    if (to === nodeId) return null;
    if (!/^[A-Za-z_][A-Za-z0-9_-]{0,99}$/.test(to)) return "an id starts with a letter or _ and holds letters, digits, _ and - (at most 100)";
    if (this.node(to)) return `a node is already called ${to}`;
    this.perform({ kind: "rename", node: nodeId, to });
    if (this.selection?.kind === "node" && this.selection.id === nodeId) this.selection = { kind: "node", id: to };
    if (this.multi.delete(nodeId)) this.multi.add(to);
    return null;
  }

  /**
   * Sets (or, with undefined, removes) a field of the pipeline itself (its name, description, parameters).
   * @param {string} field
   * @param {unknown} value
   */
  setMeta(field, value) {
    if (JSON.stringify(this.doc[field]) === JSON.stringify(value)) return false;
    this.perform({ kind: "meta", field, value: encode(value) });
    return true;
  }

  /**
   * Sets (or clears, with empty values) the row condition and the columns of a data edge.
   * @param {number} index
   * @param {string} where
   * @param {string[]} select
   */
  setEdgeFilter(index, where, select) {
    const edge = this.doc.edges[index];
    if (!edge || edge.kind === "signal") return false;
    /** @type {import("./live-ops.js").FilterOp} */
    const op = { kind: "filter", from: edge.from, to: edge.to };
    if (where.trim()) op.where = where.trim();
    if (select.length) op.select = select;
    this.perform(op);
    return true;
  }

  /** Lays every node out again by layers. */
  layoutAll() {
    this.perform({ kind: "move", at: autoLayout(this.doc) });
  }

  /**
   * The document with one node's settings replaced, unchanged otherwise (a draft to validate while typing).
   * @param {string} nodeId
   * @param {Record<string, unknown>} settings
   * @returns {EditorDoc}
   */
  draftWith(nodeId, settings) {
    return { ...this.doc, nodes: this.doc.nodes.map((n) => n.id === nodeId ? { ...n, settings } : n) };
  }

  // ---- copy and paste

  /**
   * The selected nodes with their settings, positions and the edges between them; null when none is selected.
   * @returns {Clip|null}
   */
  copySelection() {
    const ids = this.selectedNodes();
    if (!ids.size) return null;
    const nodes = this.doc.nodes.filter((n) => ids.has(n.id));
    const edges = this.doc.edges.filter((e) => ids.has(splitRef(e.from).node) && ids.has(splitRef(e.to).node));
    const layout = Object.fromEntries(nodes.map((n) => [n.id, this.doc.layout[n.id]]));
    return JSON.parse(JSON.stringify({ nodes, edges, layout }));
  }

  /**
   * Pastes copied nodes with new ids, 40 px down and right, and selects them; returns the new ids.
   * @param {Clip} clip
   */
  paste(clip) {
    /** @type {Map<string, string>} */
    const ids = new Map();
    this.clearSelection();
    const taken = { nodes: [...this.doc.nodes] };
    /** @type {import("./live-ops.js").AddOp} */
    const op = { kind: "add", nodes: [], at: {}, edges: [] };
    for (const node of clip.nodes) {
      const id = newNodeId(/** @type {any} */ (taken), node.type);
      ids.set(node.id, id);
      taken.nodes.push({ ...node, id });
      const { id: _, ...rest } = node;
      op.nodes.push({ id, decl: JSON.stringify(rest) });
      const [x, y] = clip.layout[node.id] ?? this.freeSpot();
      /** @type {Record<string, number[]>} */ (op.at)[id] = [x + 40, y + 40];
    }
    for (const edge of clip.edges) {
      const from = splitRef(edge.from), to = splitRef(edge.to);
      op.edges?.push({ ...edge, from: `${ids.get(from.node)}.${from.port}`, to: `${ids.get(to.node)}.${to.port}` });
    }
    this.perform(op);
    for (const id of ids.values()) this.multi.add(id);
    return [...ids.values()];
  }
}

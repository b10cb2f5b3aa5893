// @ts-check
// The editor's state, pure (no DOM; unit-tested with node --test): the pipeline document, the selection, and
// every change the editor makes to them, each undoable. The canvas and the settings panel render this state
// and call these operations; they never change the document themselves.
import { autoLayout, newNodeId, outputsOf, refusal, specFor, splitRef } from "./graph.js";

/**
 * @typedef {import("./graph.js").NodeSpec} NodeSpec
 * @typedef {import("./graph.js").NodeDecl} NodeDecl
 * @typedef {import("./graph.js").EdgeDecl} EdgeDecl
 * @typedef {{apiVersion?: string, name: string, nodes: NodeDecl[], edges: EdgeDecl[], layout: Record<string, number[]>, parameters?: any, [key: string]: any}} EditorDoc
 * @typedef {{kind: "node"|"edge", id: string}} Selection
 * @typedef {{nodes: NodeDecl[], edges: EdgeDecl[], layout: Record<string, number[]>}} Clip
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
    /** @type {string[]} snapshots of the document before each change */
    this.undoStack = [];
    /** @type {string[]} */
    this.redoStack = [];
  }

  /** Takes a snapshot before a change (the change can then be undone). */
  remember() {
    this.undoStack.push(JSON.stringify(this.doc));
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
    this.redoStack.length = 0;
  }

  /** Undoes the last change; false when there is none. */
  undo() { return this.#travel(this.undoStack, this.redoStack); }

  /** Redoes the last undone change; false when there is none. */
  redo() { return this.#travel(this.redoStack, this.undoStack); }

  /**
   * @param {string[]} from
   * @param {string[]} to
   */
  #travel(from, to) {
    const snapshot = from.pop();
    if (!snapshot) return false;
    to.push(JSON.stringify(this.doc));
    this.doc = JSON.parse(snapshot);
    this.selection = null;
    this.multi.clear();
    return true;
  }

  /**
   * Replaces the whole document (a restored revision); the selection is cleared, undo starts again.
   * @param {EditorDoc} doc
   */
  replace(doc) {
    this.doc = doc;
    this.selection = null;
    this.multi.clear();
    this.undoStack.length = 0;
    this.redoStack.length = 0;
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
    this.remember();
    this.doc.nodes.push({ id: nodeId, type: spec.id, settings: {} });
    this.doc.layout[nodeId] = at;
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
    this.remember();
    this.doc.edges.push(port?.kind === "signal" ? { from, to, kind: "signal" } : { from, to });
    return null;
  }

  /**
   * Removes the edge at `index`; returns it (null when there is none).
   * @param {number} index
   */
  removeEdge(index) {
    const edge = this.doc.edges[index];
    if (!edge) return null;
    this.remember();
    this.doc.edges.splice(index, 1);
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
    this.remember();
    this.doc.nodes = this.doc.nodes.filter((n) => !gone.has(n.id));
    this.doc.edges = this.doc.edges.filter((e) => !gone.has(splitRef(e.from).node) && !gone.has(splitRef(e.to).node));
    for (const id of gone) delete this.doc.layout[id];
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
    this.remember();
    for (const id of ids) {
      const [x, y] = this.doc.layout[id] ?? [0, 0];
      this.doc.layout[id] = [x + dx, y + dy];
    }
    return ids;
  }

  /**
   * Starts dragging a node: the returned function moves it; the first move makes the drag one undoable change.
   * @param {string} nodeId
   * @returns {(at: number[]) => void}
   */
  beginMove(nodeId) {
    const before = JSON.stringify(this.doc);
    let moved = false;
    return (at) => {
      if (!moved) {
        moved = true;
        this.undoStack.push(before);
        this.redoStack.length = 0;
      }
      this.doc.layout[nodeId] = at;
    };
  }

  /**
   * Replaces a node's settings.
   * @param {string} nodeId
   * @param {Record<string, unknown>} settings
   */
  applySettings(nodeId, settings) {
    const node = this.node(nodeId);
    if (!node) return false;
    this.remember();
    node.settings = settings;
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
    this.remember();
    if (where.trim()) edge.where = where.trim(); else delete edge.where;
    if (select.length) edge.select = select; else delete edge.select;
    return true;
  }

  /** Lays every node out again by layers. */
  layoutAll() {
    this.remember();
    this.doc.layout = autoLayout(this.doc);
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
    this.remember();
    /** @type {Map<string, string>} */
    const ids = new Map();
    this.clearSelection();
    for (const node of clip.nodes) {
      const id = newNodeId(this.doc, node.type);
      ids.set(node.id, id);
      this.doc.nodes.push({ ...JSON.parse(JSON.stringify(node)), id });
      const [x, y] = clip.layout[node.id] ?? this.freeSpot();
      this.doc.layout[id] = [x + 40, y + 40];
      this.multi.add(id);
    }
    for (const edge of clip.edges) {
      const from = splitRef(edge.from), to = splitRef(edge.to);
      this.doc.edges.push({ ...edge, from: `${ids.get(from.node)}.${from.port}`, to: `${ids.get(to.node)}.${to.port}` });
    }
    return [...ids.values()];
  }
}

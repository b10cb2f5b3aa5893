// @ts-check
// The operations of live editing (pure; unit-tested with node --test). Every change the editor makes to a pipeline
// document is one of these; every editor applies the server's ordered list of them the same way, so all converge
// to one document. They name nodes and edges by id (never by position), so one applied on a document that others
// changed meanwhile still does what its author meant, and one that no longer applies (its node was removed) does
// nothing. Values (a node's declaration, a setting) travel as JSON text: the server stores and forwards them
// untouched, so a mapping's keys keep their order (a switch's cases are tried in order).

/**
 * @typedef {import("./graph.js").NodeDecl} NodeDecl
 * @typedef {import("./graph.js").EdgeDecl} EdgeDecl
 * @typedef {{name?: string, nodes: NodeDecl[], edges: EdgeDecl[], layout: Record<string, number[]>, [key: string]: any}} LiveDocument
 * @typedef {{kind: "add", nodes: {id: string, decl: string}[], at?: Record<string, number[]>, edges?: EdgeDecl[]}} AddOp
 * @typedef {{kind: "remove", nodes: string[]}} RemoveOp
 * @typedef {{kind: "move", at: Record<string, number[]>}} MoveOp
 * @typedef {{kind: "connect", edge: EdgeDecl}} ConnectOp
 * @typedef {{kind: "disconnect", from: string, to: string}} DisconnectOp
 * @typedef {{kind: "filter", from: string, to: string, where?: string, select?: string[]}} FilterOp
 * @typedef {{kind: "set", node: string, field: string, value?: string, since?: number}} SetOp
 * @typedef {{kind: "rename", node: string, to: string}} RenameOp
 * @typedef {{kind: "meta", field: string, value?: string}} MetaOp
 * @typedef {AddOp|RemoveOp|MoveOp|ConnectOp|DisconnectOp|FilterOp|SetOp|RenameOp|MetaOp} SimpleOp
 * @typedef {SimpleOp|{kind: "batch", ops: SimpleOp[]}} Op
 */

/** Document fields a `meta` operation may not set: nodes, edges and layout change through their own operations. */
const STRUCTURAL = new Set(["nodes", "edges", "layout", "apiVersion"]);

/**
 * A value as an operation carries it (JSON text; undefined: the field is removed).
 * @param {unknown} value
 * @returns {string|undefined}
 */
export function encode(value) { return value === undefined ? undefined : JSON.stringify(value); }

/**
 * @param {string|undefined} text
 * @returns {unknown}
 */
function decode(text) {
  if (text === undefined) return undefined;
  try { return JSON.parse(text); } catch { return undefined; }
}

/** @param {unknown} value */
const clone = (value) => value === undefined ? undefined : JSON.parse(JSON.stringify(value));

/** @param {string} ref `node.port` */
const nodeOf = (ref) => ref.slice(0, ref.indexOf("."));

/**
 * An operation that adds `node` (at `at`, with `edges`).
 * @param {NodeDecl} node
 * @param {number[]|undefined} at
 * @param {EdgeDecl[]} [edges]
 * @returns {AddOp}
 */
export function addOp(node, at, edges = []) {
  const { id, ...rest } = node;
  /** @type {AddOp} */
  const op = { kind: "add", nodes: [{ id, decl: JSON.stringify(rest) }] };
  if (at) op.at = { [id]: [...at] };
  if (edges.length) op.edges = clone(edges);
  return op;
}

/**
 * Applies an operation to a document, in place; what no longer applies is skipped. Returns the document.
 * @param {LiveDocument} doc
 * @param {Op} op
 */
export function applyOp(doc, op) {
  doc.layout ??= {};
  const has = (/** @type {string} */ id) => doc.nodes.some((n) => n.id === id);
  switch (op.kind) {
    case "batch":
      for (const inner of op.ops ?? []) applyOp(doc, inner);
      break;
    case "add":
      for (const { id, decl } of op.nodes ?? []) {
        const parsed = decode(decl);
        const node = /** @type {NodeDecl} */ (Object.assign({ id }, parsed && typeof parsed === "object" ? parsed : {}, { id }));
        const index = doc.nodes.findIndex((n) => n.id === id);
        if (index >= 0) doc.nodes[index] = node; else doc.nodes.push(node);
        const at = op.at?.[id];
        if (at) doc.layout[id] = [...at];
      }
      for (const edge of op.edges ?? []) connectEdge(doc, edge, has);
      break;
    case "remove": {
      const gone = new Set(op.nodes);
      doc.nodes = doc.nodes.filter((n) => !gone.has(n.id));
      doc.edges = doc.edges.filter((e) => !gone.has(nodeOf(e.from)) && !gone.has(nodeOf(e.to)));
      for (const id of gone) delete doc.layout[id];
      break;
    }
    case "move":
      for (const [id, at] of Object.entries(op.at ?? {})) if (has(id)) doc.layout[id] = [...at];
      break;
    case "connect":
      connectEdge(doc, op.edge, has);
      break;
    case "disconnect":
      doc.edges = doc.edges.filter((e) => e.from !== op.from || e.to !== op.to);
      break;
    case "filter":
      for (const edge of doc.edges) {
        if (edge.from !== op.from || edge.to !== op.to) continue;
        if (op.where) edge.where = op.where; else delete edge.where;
        if (op.select?.length) edge.select = [...op.select]; else delete edge.select;
      }
      break;
    case "set": {
      const node = doc.nodes.find((n) => n.id === op.node);
      if (!node) break;
      const value = decode(op.value);
      node.settings ??= {};
      if (value === undefined) delete node.settings[op.field]; else node.settings[op.field] = value;
      break;
    }
    case "rename": {
      const node = doc.nodes.find((n) => n.id === op.node);
      if (!node || has(op.to)) break;
      node.id = op.to;
      /** @param {string} ref */
      const moved = (ref) => nodeOf(ref) === op.node ? op.to + ref.slice(op.node.length) : ref;
      for (const edge of doc.edges) { edge.from = moved(edge.from); edge.to = moved(edge.to); }
      if (doc.layout[op.node]) { doc.layout[op.to] = doc.layout[op.node]; delete doc.layout[op.node]; }
      break;
    }
    case "meta": {
      if (STRUCTURAL.has(op.field)) break;
      const value = decode(op.value);
      if (value === undefined) delete doc[op.field]; else doc[op.field] = value;
      break;
    }
  }
  return doc;
}

/**
 * @param {LiveDocument} doc
 * @param {EdgeDecl} edge
 * @param {(id: string) => boolean} has
 */
function connectEdge(doc, edge, has) {
  if (!edge || !has(nodeOf(edge.from)) || !has(nodeOf(edge.to))) return;
  if (doc.edges.some((e) => e.from === edge.from && e.to === edge.to)) return;
  doc.edges.push(clone(edge));
}

/**
 * The operation that undoes `op`, computed on the document as it was before `op`; null when `op` changes nothing.
 * @param {LiveDocument} before
 * @param {Op} op
 * @returns {Op|null}
 */
export function inverseOf(before, op) {
  const node = (/** @type {string} */ id) => before.nodes.find((n) => n.id === id);
  switch (op.kind) {
    case "batch": {
      const doc = clone(before);
      /** @type {SimpleOp[]} */
      const inverses = [];
      for (const inner of op.ops) {
        const inverse = inverseOf(doc, inner);
        if (inverse) inverses.unshift(...(inverse.kind === "batch" ? inverse.ops : [inverse]));
        applyOp(doc, inner);
      }
      return inverses.length ? { kind: "batch", ops: inverses } : null;
    }
    case "add": {
      const added = op.nodes.map((n) => n.id).filter((id) => !node(id));
      const replaced = op.nodes.map((n) => n.id).filter((id) => node(id));
      /** @type {SimpleOp[]} */
      const ops = [];
      if (added.length) ops.push({ kind: "remove", nodes: added });
      if (replaced.length) {
        const back = removedNodes(before, replaced);
        if (back) ops.push(back);
      }
      return ops.length === 1 ? ops[0] : ops.length ? { kind: "batch", ops } : null;
    }
    case "remove":
      return removedNodes(before, op.nodes);
    case "move": {
      /** @type {Record<string, number[]>} */
      const at = {};
      for (const id of Object.keys(op.at ?? {})) if (node(id) && before.layout?.[id]) at[id] = [...before.layout[id]];
      return Object.keys(at).length ? { kind: "move", at } : null;
    }
    case "connect":
      return before.edges.some((e) => e.from === op.edge.from && e.to === op.edge.to) || !node(nodeOf(op.edge.from)) || !node(nodeOf(op.edge.to))
        ? null : { kind: "disconnect", from: op.edge.from, to: op.edge.to };
    case "disconnect": {
      const edge = before.edges.find((e) => e.from === op.from && e.to === op.to);
      return edge ? { kind: "connect", edge: clone(edge) } : null;
    }
    case "filter": {
      const edge = before.edges.find((e) => e.from === op.from && e.to === op.to);
      if (!edge) return null;
      /** @type {FilterOp} */
      const inverse = { kind: "filter", from: op.from, to: op.to };
      if (edge.where) inverse.where = edge.where;
      if (edge.select) inverse.select = [...edge.select];
      return inverse;
    }
    case "set": {
      const target = node(op.node);
      return target ? { kind: "set", node: op.node, field: op.field, value: encode(target.settings?.[op.field]) } : null;
    }
    case "rename":
      return node(op.node) && !node(op.to) ? { kind: "rename", node: op.to, to: op.node } : null;
    case "meta":
      return STRUCTURAL.has(op.field) ? null : { kind: "meta", field: op.field, value: encode(before[op.field]) };
  }
  return null;
}

/**
 * The operation that puts back nodes as they are in `doc`, with their positions and edges.
 * @param {LiveDocument} doc
 * @param {string[]} ids
 * @returns {AddOp|null}
 */
function removedNodes(doc, ids) {
  const gone = new Set(ids);
  const nodes = doc.nodes.filter((n) => gone.has(n.id));
  if (!nodes.length) return null;
  /** @type {AddOp} */
  const op = { kind: "add", nodes: nodes.map(({ id, ...rest }) => ({ id, decl: JSON.stringify(rest) })) };
  const at = Object.fromEntries(nodes.filter((n) => doc.layout?.[n.id]).map((n) => [n.id, [...doc.layout[n.id]]]));
  if (Object.keys(at).length) op.at = at;
  const edges = doc.edges.filter((e) => gone.has(nodeOf(e.from)) || gone.has(nodeOf(e.to)));
  if (edges.length) op.edges = clone(edges);
  return op;
}

/**
 * The operation with node ids renamed by `map` (old → new) wherever it names them, ids it adds included.
 * @template {Op} T
 * @param {T} op
 * @param {Record<string, string>} map
 * @returns {T}
 */
export function renameIn(op, map) {
  const id = (/** @type {string} */ x) => map[x] ?? x;
  const ref = (/** @type {string} */ r) => { const n = nodeOf(r); return map[n] ? map[n] + r.slice(n.length) : r; };
  /** @param {EdgeDecl} e */
  const edge = (e) => ({ ...e, from: ref(e.from), to: ref(e.to) });
  /** @param {Record<string, number[]>|undefined} at */
  const positions = (at) => at && Object.fromEntries(Object.entries(at).map(([k, v]) => [id(k), v]));
  const o = /** @type {Op} */ (op);
  /** @type {any} */
  let out;
  switch (o.kind) {
    case "batch": out = { ...o, ops: o.ops.map((inner) => renameIn(inner, map)) }; break;
    case "add": out = { ...o, nodes: o.nodes.map((n) => ({ ...n, id: id(n.id) })), ...(o.at ? { at: positions(o.at) } : {}), ...(o.edges ? { edges: o.edges.map(edge) } : {}) }; break;
    case "remove": out = { ...o, nodes: o.nodes.map(id) }; break;
    case "move": out = { ...o, at: positions(o.at) }; break;
    case "connect": out = { ...o, edge: edge(o.edge) }; break;
    case "disconnect": case "filter": out = { ...o, from: ref(o.from), to: ref(o.to) }; break;
    case "set": out = { ...o, node: id(o.node) }; break;
    case "rename": out = { ...o, node: id(o.node) }; break;
    default: out = o;
  }
  return out;
}

/**
 * The ids an operation adds, in order.
 * @param {Op} op
 * @returns {string[]}
 */
export function addedIds(op) {
  if (op.kind === "batch") return op.ops.flatMap(addedIds);
  return op.kind === "add" ? op.nodes.map((n) => n.id) : [];
}

/**
 * The renames an operation makes (`rename` operations), old → new.
 * @param {Op} op
 * @returns {Record<string, string>}
 */
export function renamesIn(op) {
  /** @type {Record<string, string>} */
  const map = {};
  for (const inner of op.kind === "batch" ? op.ops : [op]) if (inner.kind === "rename") map[inner.node] = inner.to;
  return map;
}

/**
 * The fields an operation sets, as `node.field` (`.field` for a pipeline field), for notices.
 * @param {Op} op
 * @returns {{node: string|null, field: string}[]}
 */
export function fieldsSet(op) {
  return (op.kind === "batch" ? op.ops : [op]).flatMap((/** @type {SimpleOp} */ inner) => /** @type {{node: string|null, field: string}[]} */ (
    inner.kind === "set" ? [{ node: inner.node, field: inner.field }] : inner.kind === "meta" ? [{ node: null, field: inner.field }] : []));
}

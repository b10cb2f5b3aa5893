// @ts-check
// The pipeline graph's rules, pure (unit-tested with node --test): ports, which connections are allowed and
// why not, node ids, and a layered auto-layout.

/**
 * @typedef {{name: string, kind: string, summary?: string}} Port
 * @typedef {{id: string, reference: string, category: string, title: string, summary?: string, inputs: Port[], outputs: Port[], fields: any[], capabilities: string[], color?: string, icon?: string, outputsFromSetting?: string|null}} NodeSpec
 * @typedef {{id: string, type: string, settings?: Record<string, unknown>}} NodeDecl
 * @typedef {{from: string, to: string, kind?: string, where?: string, select?: string[]}} EdgeDecl
 * @typedef {{name?: string, nodes: NodeDecl[], edges: EdgeDecl[], layout?: Record<string, number[]>}} Doc
 */

/**
 * The spec a node's `type` names (`csv.read` or `csv.read@1`).
 * @param {NodeSpec[]} specs
 * @param {string} type
 */
export function specFor(specs, type) {
  const [name, version] = type.split("@");
  const matching = specs.filter((s) => s.id === name);
  if (version) return matching.find((s) => s.reference === type) ?? null;
  return matching.sort((a, b) => b.reference.localeCompare(a.reference))[0] ?? null;
}

/**
 * Input ports, with the implicit `start` signal.
 * @param {NodeSpec} spec
 * @returns {Port[]}
 */
export function inputsOf(spec) {
  return spec.inputs.some((p) => p.name === "start") ? spec.inputs : [...spec.inputs, { name: "start", kind: "signal", summary: "Waits for signal edges before starting." }];
}

/**
 * Output ports of one node: the keys of the setting that declares ports (`switch`'s `cases`), then the spec's.
 * @param {NodeSpec} spec
 * @param {NodeDecl|null|undefined} node
 * @returns {Port[]}
 */
export function outputsOf(spec, node) {
  const name = spec.outputsFromSetting;
  const declared = name ? node?.settings?.[name] : null;
  if (!declared || typeof declared !== "object" || Array.isArray(declared)) return spec.outputs;
  const taken = new Set(spec.outputs.map((p) => p.name));
  const extra = Object.keys(declared).filter((key) => key && !taken.has(key)).map((key) => ({ name: key, kind: "data", summary: `Rows of the case '${key}'.` }));
  return [...extra, ...spec.outputs];
}

/**
 * @param {string} ref `node.port`
 * @returns {{node: string, port: string}}
 */
export function splitRef(ref) {
  const dot = ref.lastIndexOf(".");
  return { node: ref.slice(0, dot), port: ref.slice(dot + 1) };
}

/**
 * Why an edge from `from` (an output) to `to` (an input) is not allowed, or null when it is.
 * @param {Doc} doc
 * @param {NodeSpec[]} specs
 * @param {string} from  `node.port`
 * @param {string} to    `node.port`
 * @returns {string|null}
 */
export function refusal(doc, specs, from, to) {
  const a = splitRef(from), b = splitRef(to);
  if (a.node === b.node) return "a node cannot feed itself";
  const source = doc.nodes.find((n) => n.id === a.node), target = doc.nodes.find((n) => n.id === b.node);
  if (!source || !target) return "both ends must be nodes of this pipeline";
  const sourceSpec = specFor(specs, source.type), targetSpec = specFor(specs, target.type);
  if (!sourceSpec || !targetSpec) return "unknown node type";
  const out = outputsOf(sourceSpec, source).find((p) => p.name === a.port);
  const into = inputsOf(targetSpec).find((p) => p.name === b.port);
  if (!out) return `${a.node} has no output '${a.port}'`;
  if (!into) return `${b.node} has no input '${b.port}'`;
  if (out.kind !== into.kind) return `${out.kind} output '${a.port}' cannot connect to ${into.kind} input '${b.port}'; connect data to data, signals (done) to start`;
  if (doc.edges.some((e) => e.from === from && e.to === to)) return "these ports are already connected";
  if (into.kind === "data" && !(targetSpec.capabilities ?? []).includes("fanIn") && doc.edges.some((e) => e.to === to)) {
    return `input '${b.port}' of ${b.node} takes one edge; merge streams with a union node`;
  }
  if (reaches(doc, b.node, a.node)) return `this edge would make a cycle: ${b.node} already leads to ${a.node}`;
  return null;
}

/**
 * True when `start` reaches `goal` along edges.
 * @param {Doc} doc
 * @param {string} start
 * @param {string} goal
 */
export function reaches(doc, start, goal) {
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length) {
    const node = /** @type {string} */ (stack.pop());
    if (node === goal) return true;
    for (const edge of doc.edges) {
      const next = splitRef(edge.to).node;
      if (splitRef(edge.from).node === node && !seen.has(next)) { seen.add(next); stack.push(next); }
    }
  }
  return false;
}

/**
 * A new node id from its type (`csv.read` → `csv_read`, then `csv_read_2`…).
 * @param {Doc} doc
 * @param {string} type
 */
export function newNodeId(doc, type) {
  const base = type.split("@")[0].replace(/[^A-Za-z0-9_-]/g, "_");
  const taken = new Set(doc.nodes.map((n) => n.id));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

/**
 * Layered layout: each node one column right of its furthest predecessor, rows in document order.
 * @param {Doc} doc
 * @returns {Record<string, number[]>}
 */
export function autoLayout(doc, columnWidth = 240, rowHeight = 120) {
  /**
   * @type {Map<string, number>}
   */
  const depth = new Map(doc.nodes.map((n) => [n.id, 0]));
  for (let pass = 0; pass < doc.nodes.length; pass++) {
    let changed = false;
    for (const edge of doc.edges) {
      const a = splitRef(edge.from).node, b = splitRef(edge.to).node;
      const wanted = (depth.get(a) ?? 0) + 1;
      if (depth.has(b) && (depth.get(b) ?? 0) < wanted) { depth.set(b, wanted); changed = true; }
    }
    if (!changed) break;
  }
  /**
   * @type {Map<number, number>}
   */
  const rows = new Map();
  /**
   * @type {Record<string, number[]>}
   */
  const layout = {};
  for (const node of doc.nodes) {
    const column = depth.get(node.id) ?? 0;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    layout[node.id] = [40 + column * columnWidth, 40 + row * rowHeight];
  }
  return layout;
}

/**
 * The input ports `from` (an output, `node.port`) may be connected to, each as `node.port`: every input of every
 * other node that `refusal` accepts and that is not connected from `from` already. For keyboard connecting.
 * @param {Doc} doc
 * @param {NodeSpec[]} specs
 * @param {string} from
 * @returns {string[]}
 */
export function connectableTargets(doc, specs, from) {
  const existing = new Set(doc.edges.filter((e) => e.from === from).map((e) => e.to));
  /** @type {string[]} */
  const targets = [];
  for (const node of doc.nodes) {
    const spec = specFor(specs, node.type);
    if (!spec) continue;
    for (const port of inputsOf(spec)) {
      const to = `${node.id}.${port.name}`;
      if (!existing.has(to) && refusal(doc, specs, from, to) === null) targets.push(to);
    }
  }
  return targets;
}

/**
 * How far each node of a run is, from 0 to 1, or null when unknown. A succeeded node is done; a node that
 * reports its own progress (a file source: bytes read of the files' sizes) shows it; any other node is as far as
 * the least advanced node upstream of it, since data streams through (below 1 until it finishes itself).
 * @param {Doc} doc
 * @param {Map<string, string>} statuses node id → run status
 * @param {Record<string, number>} reported node id → progress the node reported
 * @returns {Map<string, number|null>}
 */
export function runProgress(doc, statuses, reported) {
  /** @type {Map<string, string[]>} */
  const upstream = new Map();
  for (const edge of doc.edges) {
    const to = splitRef(edge.to).node;
    upstream.set(to, [...(upstream.get(to) ?? []), splitRef(edge.from).node]);
  }
  /** @type {Map<string, number|null>} */
  const result = new Map();
  /**
   * @param {string} id
   * @param {Set<string>} visiting
   * @returns {number|null}
   */
  const visit = (id, visiting) => {
    const known = result.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return null;
    visiting.add(id);
    /** @type {number|null} */
    let value = null;
    if (statuses.get(id) === "succeeded") value = 1;
    else if (reported[id] !== undefined) value = Math.min(1, Math.max(0, reported[id]));
    else {
      const above = (upstream.get(id) ?? []).map((u) => visit(u, visiting));
      if (above.length && above.every((v) => v !== null)) value = Math.min(0.99, ...above.map((v) => v ?? 0));
    }
    result.set(id, value);
    return value;
  };
  for (const node of doc.nodes) visit(node.id, new Set());
  return result;
}

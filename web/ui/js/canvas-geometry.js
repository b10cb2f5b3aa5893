// @ts-check
// The canvas's geometry, pure (unit-tested with node --test): which ports a node shows, how tall it is, where a
// dropped node goes so it overlaps none, and how an edge is routed around the nodes between its ends.
import { inputsOf, outputsOf } from "./graph.js";

export const NODE_WIDTH = 180, HEADER = 30, PORT_GAP = 20;
/** Height of a node's footer: its type while idle, its live counters as badges during a run. */
export const FOOTER = 18;

/**
 * @typedef {{x: number, y: number, w: number, h: number, id?: string}} Rect
 * @typedef {import("./graph.js").Port} Port
 */

/**
 * A node's ports in drawing order: data ports and connected signal ports always (`shown`), then the signal ports
 * nothing is connected to (`hover`), drawn only while the pointer is over the node, it is selected, or an edge is
 * being drawn. Edges always end at shown ports, so revealing the others moves no edge.
 * @param {import("./graph.js").NodeSpec} spec
 * @param {import("./graph.js").NodeDecl} node
 * @param {Set<string>} connected `node.port` of every edge end
 */
export function portLayout(spec, node, connected) {
  /** @param {Port[]} ports */
  const split = (ports) => {
    const shown = ports.filter((p) => p.kind !== "signal" || connected.has(`${node.id}.${p.name}`));
    return { shown, hover: ports.filter((p) => !shown.includes(p)) };
  };
  const inputs = split(inputsOf(spec)), outputs = split(outputsOf(spec, node));
  return {
    inputs: [...inputs.shown, ...inputs.hover], outputs: [...outputs.shown, ...outputs.hover],
    shownInputs: inputs.shown.length, shownOutputs: outputs.shown.length,
  };
}

/**
 * Height of a node showing `rows` port rows (at least one, so an empty node still has a body).
 * @param {number} rows
 */
export const nodeHeight = (rows) => HEADER + Math.max(1, rows) * PORT_GAP + 8;

/**
 * The box of a new node of `spec` (nothing connected yet), for placing it where it overlaps nothing.
 * @param {import("./graph.js").NodeSpec} spec
 */
export function newNodeSize(spec) {
  const ports = portLayout(spec, { id: "", type: spec.id, settings: {} }, new Set());
  return { w: NODE_WIDTH, h: nodeHeight(Math.max(ports.shownInputs, ports.shownOutputs)) + FOOTER };
}

/**
 * The vertical middle of a node's port row `index`, relative to the node's top.
 * @param {number} index
 */
export const portY = (index) => HEADER + 10 + index * PORT_GAP;

/**
 * @param {Rect} a
 * @param {Rect} b
 * @param {number} margin
 */
const overlaps = (a, b, margin) => a.x < b.x + b.w + margin && b.x < a.x + a.w + margin && a.y < b.y + b.h + margin && b.y < a.y + a.h + margin;

/**
 * The place nearest `at` (trying further down, then right) where a node of `w`×`h` overlaps no rect, with a gap.
 * @param {Rect[]} rects
 * @param {number[]} at
 * @param {number} w
 * @param {number} h
 * @returns {number[]}
 */
export function clearSpot(rects, at, w, h) {
  const gap = 16;
  for (let ring = 0; ring < 60; ring++) {
    for (const [dx, dy] of ring === 0 ? [[0, 0]] : [[0, ring * 20], [ring * 20, 0], [0, -ring * 20], [ring * 20, ring * 20], [-ring * 20, 0]]) {
      const place = { x: at[0] + dx, y: at[1] + dy, w, h };
      if (!rects.some((r) => overlaps(place, r, gap))) return [place.x, place.y];
    }
  }
  return at;
}

/** Rects bucketed by a grid of cells, so routing an edge looks only at the nodes near it. */
export class RectIndex {
  /**
   * @param {Rect[]} rects
   * @param {number} [cell]
   */
  constructor(rects, cell = 240) {
    this.cell = cell;
    /** @type {Map<string, Rect[]>} */
    this.cells = new Map();
    for (const rect of rects) {
      for (const key of this.keys(rect)) {
        const list = this.cells.get(key);
        if (list) list.push(rect); else this.cells.set(key, [rect]);
      }
    }
  }

  /** @param {Rect} r */
  *keys(r) {
    const c = this.cell;
    for (let cx = Math.floor(r.x / c); cx <= Math.floor((r.x + r.w) / c); cx++) {
      for (let cy = Math.floor(r.y / c); cy <= Math.floor((r.y + r.h) / c); cy++) yield `${cx},${cy}`;
    }
  }

  /**
   * The rects overlapping `area`.
   * @param {Rect} area
   * @returns {Rect[]}
   */
  near(area) {
    /** @type {Set<Rect>} */
    const found = new Set();
    for (const key of this.keys(area)) for (const r of this.cells.get(key) ?? []) if (overlaps(area, r, 0)) found.add(r);
    return [...found];
  }
}

/**
 * The default edge: a horizontal S-curve from an output (right) to an input (left).
 * @param {number[]} a
 * @param {number[]} b
 */
export function curve(a, b) {
  const dx = Math.max(40, Math.abs(b[0] - a[0]) / 2);
  return `M${a[0]},${a[1]} C${a[0] + dx},${a[1]} ${b[0] - dx},${b[1]} ${b[0]},${b[1]}`;
}

/**
 * Points along `curve(a, b)`.
 * @param {number[]} a
 * @param {number[]} b
 * @param {number} steps
 */
function curvePoints(a, b, steps = 14) {
  const dx = Math.max(40, Math.abs(b[0] - a[0]) / 2);
  const p = [a, [a[0] + dx, a[1]], [b[0] - dx, b[1]], b];
  /** @type {number[][]} */
  const points = [];
  for (let i = 1; i < steps; i++) {
    const t = i / steps, u = 1 - t;
    const k = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
    points.push([k[0] * p[0][0] + k[1] * p[1][0] + k[2] * p[2][0] + k[3] * p[3][0], k[0] * p[0][1] + k[1] * p[1][1] + k[2] * p[2][1] + k[3] * p[3][1]]);
  }
  return points;
}

/**
 * Whether the axis-parallel segment from `p` to `q` crosses `r` (grown by `margin`).
 * @param {number[]} p
 * @param {number[]} q
 * @param {Rect} r
 * @param {number} margin
 */
function segmentHits(p, q, r, margin) {
  const left = Math.min(p[0], q[0]), right = Math.max(p[0], q[0]), top = Math.min(p[1], q[1]), bottom = Math.max(p[1], q[1]);
  return left < r.x + r.w + margin && right > r.x - margin && top < r.y + r.h + margin && bottom > r.y - margin;
}

/**
 * An edge's path from output `a` to input `b`: the S-curve when it crosses no node but its own two, otherwise
 * an orthogonal route with rounded corners: out to the right, along a free horizontal lane above or below the
 * nodes in the way (the one adding the least length), and into the input from the left. When no lane is free the
 * S-curve stays.
 * @param {number[]} a
 * @param {number[]} b
 * @param {RectIndex} index the nodes
 * @param {Set<string|undefined>} ends the ids of the edge's own nodes
 * @returns {{d: string, routed: boolean, label: number[]}}
 */
export function routeEdge(a, b, index, ends) {
  const forward = b[0] - a[0] >= 40;
  if (forward) {
    const span = { x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]) - 60, w: Math.abs(b[0] - a[0]), h: Math.abs(b[1] - a[1]) + 120 };
    const others = index.near(span).filter((r) => !ends.has(r.id));
    const blocked = curvePoints(a, b).some(([x, y]) => others.some((r) => x > r.x - 4 && x < r.x + r.w + 4 && y > r.y - 4 && y < r.y + r.h + 4));
    if (!blocked) return { d: curve(a, b), routed: false, label: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] };
  }
  const x1 = a[0] + 20, x2 = b[0] - 20;
  const top = Math.min(a[1], b[1]) - 800, bottom = Math.max(a[1], b[1]) + 800;
  const area = { x: Math.min(x1, x2) - 8, y: top, w: Math.abs(x2 - x1) + 16, h: bottom - top };
  const nearby = index.near(area);
  const lanes = [a[1], b[1], ...nearby.flatMap((r) => [r.y - 14, r.y + r.h + 14])];
  lanes.sort((p, q) => Math.abs(p - a[1]) + Math.abs(p - b[1]) - Math.abs(q - a[1]) - Math.abs(q - b[1]));
  for (const lane of lanes) {
    const legs = [[[x1, a[1]], [x1, lane]], [[x1, lane], [x2, lane]], [[x2, lane], [x2, b[1]]]];
    if (nearby.some((r) => legs.some(([p, q]) => segmentHits(p, q, r, 4)))) continue;
    const points = [a, [x1, a[1]], [x1, lane], [x2, lane], [x2, b[1]], b];
    return { d: rounded(points, 8), routed: true, label: [(x1 + x2) / 2, lane] };
  }
  return { d: curve(a, b), routed: false, label: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] };
}

/**
 * An SVG path through `points` (axis-parallel legs) with corners rounded by up to `radius`; repeated points and
 * zero-length legs are dropped.
 * @param {number[][]} points
 * @param {number} radius
 */
export function rounded(points, radius) {
  const p = points.filter((q, i) => i === 0 || q[0] !== points[i - 1][0] || q[1] !== points[i - 1][1]);
  let d = `M${p[0][0]},${p[0][1]}`;
  for (let i = 1; i < p.length - 1; i++) {
    const [prev, here, next] = [p[i - 1], p[i], p[i + 1]];
    const r = Math.min(radius, Math.hypot(here[0] - prev[0], here[1] - prev[1]) / 2, Math.hypot(next[0] - here[0], next[1] - here[1]) / 2);
    const into = toward(here, prev, r), out = toward(here, next, r);
    d += ` L${into[0]},${into[1]} Q${here[0]},${here[1]} ${out[0]},${out[1]}`;
  }
  const last = p[p.length - 1];
  return `${d} L${last[0]},${last[1]}`;
}

/**
 * The point `distance` from `from` toward `to`.
 * @param {number[]} from
 * @param {number[]} to
 * @param {number} distance
 */
function toward(from, to, distance) {
  const length = Math.hypot(to[0] - from[0], to[1] - from[1]) || 1;
  return [Math.round((from[0] + (to[0] - from[0]) * distance / length) * 10) / 10, Math.round((from[1] + (to[1] - from[1]) * distance / length) * 10) / 10];
}

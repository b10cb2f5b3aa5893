// Unit tests of the canvas's geometry: node --test web/test
import { test } from "node:test";
import assert from "node:assert/strict";
import { RectIndex, clearSpot, portLayout, rounded, routeEdge } from "../ui/js/canvas-geometry.js";

const spec = {
  id: "filter", reference: "filter@1", category: "transform", title: "Filter", inputs: [{ name: "in", kind: "data" }], fields: [], capabilities: [],
  outputs: [{ name: "out", kind: "data" }, { name: "done", kind: "signal" }, { name: "failed", kind: "signal" }, { name: "rejected", kind: "data" }],
};
const node = { id: "f", type: "filter", settings: {} };

test("signal ports are drawn only when connected (the others wait in the hover drawer, after the shown ones)", () => {
  const idle = portLayout(spec, node, new Set());
  assert.deepEqual(idle.inputs.map((p) => p.name), ["in", "start"]);
  assert.equal(idle.shownInputs, 1);
  assert.deepEqual(idle.outputs.map((p) => p.name), ["out", "rejected", "done", "failed"]);
  assert.equal(idle.shownOutputs, 2);
  const wired = portLayout(spec, node, new Set(["f.done", "f.start"]));
  assert.deepEqual(wired.outputs.map((p) => p.name), ["out", "done", "rejected", "failed"]);
  assert.equal(wired.shownOutputs, 3);
  assert.equal(wired.shownInputs, 2);
});

test("a dropped node goes to the nearest place that overlaps no node", () => {
  const rects = [{ x: 0, y: 0, w: 180, h: 80 }, { x: 0, y: 100, w: 180, h: 80 }];
  const [x, y] = clearSpot(rects, [10, 10], 180, 80);
  for (const r of rects) assert.ok(x >= r.x + r.w + 16 || x + 180 + 16 <= r.x || y >= r.y + r.h + 16 || y + 80 + 16 <= r.y, `${x},${y} overlaps ${JSON.stringify(r)}`);
  assert.deepEqual(clearSpot(rects, [400, 0], 180, 80), [400, 0]);
});

/** Points along an SVG path of M, L, Q and C commands (end points and control points), enough to test crossings. */
function pathPoints(d) {
  const numbers = d.match(/-?\d+(\.\d+)?/g).map(Number);
  const points = [];
  for (let i = 0; i + 1 < numbers.length; i += 2) points.push([numbers[i], numbers[i + 1]]);
  return points;
}

/** Whether the polyline through `points` (sampled finely) enters `r`. */
function crosses(points, r) {
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    for (let t = 0; t <= 1; t += 0.02) {
      const x = a[0] + (b[0] - a[0]) * t, y = a[1] + (b[1] - a[1]) * t;
      if (x > r.x && x < r.x + r.w && y > r.y && y < r.y + r.h) return true;
    }
  }
  return false;
}

test("an edge with nothing in its way is the plain curve", () => {
  const nodes = [{ id: "a", x: 0, y: 0, w: 180, h: 80 }, { id: "b", x: 300, y: 0, w: 180, h: 80 }];
  const route = routeEdge([180, 40], [300, 40], new RectIndex(nodes), new Set(["a", "b"]));
  assert.equal(route.routed, false);
  assert.match(route.d, /^M180,40 C/);
});

test("an edge is routed around a node between its ends", () => {
  const blocker = { id: "c", x: 260, y: 0, w: 180, h: 80 };
  const nodes = [{ id: "a", x: 0, y: 0, w: 180, h: 80 }, blocker, { id: "b", x: 520, y: 0, w: 180, h: 80 }];
  const route = routeEdge([180, 40], [520, 40], new RectIndex(nodes), new Set(["a", "b"]));
  assert.equal(route.routed, true);
  assert.ok(!crosses(pathPoints(route.d), blocker), route.d);
  assert.ok(route.d.startsWith("M180,40") && route.d.endsWith("L520,40"), route.d);
});

test("an edge back to a node on the left goes around both ends instead of through them", () => {
  const a = { id: "a", x: 300, y: 0, w: 180, h: 80 }, b = { id: "b", x: 0, y: 0, w: 180, h: 80 };
  const route = routeEdge([480, 40], [0, 40], new RectIndex([a, b]), new Set(["a", "b"]));
  assert.equal(route.routed, true);
  const points = pathPoints(route.d);
  assert.ok(!crosses(points.slice(1, -1), a) && !crosses(points.slice(1, -1), b), route.d);
});

test("rounded corners keep the path's ends", () => {
  assert.equal(rounded([[0, 0], [10, 0], [10, 0], [10, 30], [40, 30]], 8), "M0,0 L5,0 Q10,0 10,5 L10,22 Q10,30 18,30 L40,30");
});

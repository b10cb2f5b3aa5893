import { test } from "node:test";
import assert from "node:assert/strict";
import { autoLayout, connectableTargets, newNodeId, outputsOf, refusal, runProgress, specFor } from "../ui/js/graph.js";
import { toYAML } from "../ui/js/yaml.js";

const specs = [
  { id: "csv.read", reference: "csv.read@1", category: "source", title: "CSV", inputs: [], outputs: [{ name: "out", kind: "data" }, { name: "done", kind: "signal" }], fields: [], capabilities: [] },
  { id: "filter", reference: "filter@1", category: "transform", title: "Filter", inputs: [{ name: "in", kind: "data" }], outputs: [{ name: "out", kind: "data" }, { name: "done", kind: "signal" }], fields: [], capabilities: [] },
  { id: "union", reference: "union@1", category: "transform", title: "Union", inputs: [{ name: "in", kind: "data" }], outputs: [{ name: "out", kind: "data" }, { name: "done", kind: "signal" }], fields: [], capabilities: ["fanIn"] },
];
const doc = () => ({ nodes: [{ id: "a", type: "csv.read" }, { id: "b", type: "filter" }, { id: "c", type: "filter" }, { id: "u", type: "union" }],
                     edges: [{ from: "a.out", to: "b.in" }, { from: "b.out", to: "c.in" }] });

test("allowed connections", () => {
  assert.equal(refusal(doc(), specs, "c.out", "u.in"), null);
  assert.equal(refusal(doc(), specs, "a.done", "c.start"), null);
  assert.equal(specFor(specs, "filter@1")?.id, "filter");
});

test("refused connections say why", () => {
  assert.match(refusal(doc(), specs, "a.out", "b.in") ?? "", /already connected/);
  assert.match(refusal(doc(), specs, "a.out", "c.in") ?? "", /takes one edge/);
  assert.match(refusal(doc(), specs, "c.out", "b.in") ?? "", /takes one edge|cycle/);
  assert.match(refusal(doc(), specs, "a.done", "u.in") ?? "", /signal output 'done' cannot connect to data input/);
  assert.match(refusal(doc(), specs, "b.out", "b.in") ?? "", /itself/);
  const d = doc();
  d.edges.push({ from: "c.out", to: "u.in" });
  assert.match(refusal(d, specs, "u.out", "a.start") ?? "", /data output 'out' cannot connect to signal/);
  assert.match(refusal(d, specs, "u.done", "a.start") ?? "", /cycle: a already leads to u/);
});

test("a switch node's outputs are the keys of its cases setting, then default", () => {
  const sw = { id: "switch", reference: "switch@1", category: "transform", title: "Switch", inputs: [{ name: "in", kind: "data" }],
               outputs: [{ name: "default", kind: "data" }, { name: "done", kind: "signal" }], fields: [], capabilities: [], outputsFromSetting: "cases" };
  const node = { id: "s", type: "switch", settings: { cases: { big: "amount > 1000", eu: "country = 'DE'" } } };
  assert.deepEqual(outputsOf(sw, node).map((p) => p.name), ["big", "eu", "default", "done"]);
  assert.deepEqual(outputsOf(sw, { id: "s", type: "switch" }).map((p) => p.name), ["default", "done"]);
  const d = { nodes: [{ id: "a", type: "csv.read" }, node, { id: "b", type: "filter" }], edges: [{ from: "a.out", to: "s.in" }] };
  assert.equal(refusal(d, [...specs, sw], "s.big", "b.in"), null);
  assert.match(refusal(d, [...specs, sw], "s.small", "b.in") ?? "", /has no output 'small'/);
});

test("keyboard connecting offers only the inputs an edge may reach", () => {
  assert.deepEqual(connectableTargets(doc(), specs, "c.out"), ["u.in"]);
  assert.deepEqual(connectableTargets(doc(), specs, "a.done"), ["b.start", "c.start", "u.start"]);
  assert.deepEqual(connectableTargets(doc(), specs, "c.done"), ["u.start"]);
});

test("run progress: own, inherited from upstream, done when succeeded", () => {
  const d = doc();
  d.edges.push({ from: "c.out", to: "u.in" });
  const running = runProgress(d, new Map([["a", "running"], ["b", "running"], ["c", "queued"], ["u", "queued"]]), { a: 0.25 });
  assert.deepEqual([...running], [["a", 0.25], ["b", 0.25], ["c", 0.25], ["u", 0.25]]);
  const sourceDone = runProgress(d, new Map([["a", "succeeded"], ["b", "running"]]), { a: 1 });
  assert.equal(sourceDone.get("a"), 1);
  assert.equal(sourceDone.get("b"), 0.99, "a node below a finished source is not done until it finishes");
  assert.equal(runProgress(d, new Map(), {}).get("b"), null, "no source knows its size: unknown");
});

test("ids and layout", () => {
  assert.equal(newNodeId(doc(), "csv.read"), "csv_read");
  assert.equal(newNodeId({ nodes: [{ id: "filter", type: "filter" }], edges: [] }, "filter@1"), "filter_2");
  assert.deepEqual(autoLayout(doc()), { a: [40, 40], b: [280, 40], c: [520, 40], u: [40, 160] });
});

test("documents are written as YAML the server reads", () => {
  const text = toYAML({ nodes: [{ id: "a", type: "csv.read", settings: { path: "in \"x\".csv", header: true } }], name: "p", apiVersion: "sluice/v1",
                        edges: [], layout: { a: [40, 80] } });
  assert.equal(text, 'apiVersion: "sluice/v1"\nname: "p"\nnodes:\n  - id: "a"\n    type: "csv.read"\n    settings:\n      path: "in \\"x\\".csv"\n      header: true\nedges: []\nlayout:\n  a:\n    - 40\n    - 80\n');
});

import { transition } from "../ui/js/events.js";

test("the live connection reconnects with a growing delay and re-subscribes when ready", () => {
  assert.deepEqual(transition("idle", "start", 0), { state: "connecting", action: "connect" });
  assert.deepEqual(transition("connecting", "opened", 0), { state: "authenticating", action: "authenticate" });
  assert.deepEqual(transition("authenticating", "authenticated", 0), { state: "ready", action: "resubscribe" });
  assert.deepEqual(transition("ready", "lost", 0), { state: "waiting", action: "wait", delayMs: 1000 });
  assert.deepEqual(transition("connecting", "lost", 3), { state: "waiting", action: "wait", delayMs: 8000 });
  assert.deepEqual(transition("waiting", "lost", 9), { state: "waiting", action: "wait", delayMs: 30000 });
  assert.deepEqual(transition("waiting", "retry", 1), { state: "connecting", action: "connect" });
  assert.deepEqual(transition("ready", "stop", 0), { state: "closed", action: "close" });
  assert.deepEqual(transition("closed", "lost", 0), { state: "closed", action: "none" });
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { EditorState } from "../ui/js/editor-state.js";

const specs = [
  { id: "csv.read", reference: "csv.read@1", category: "source", title: "CSV", inputs: [], outputs: [{ name: "out", kind: "data" }, { name: "done", kind: "signal" }], fields: [], capabilities: [] },
  { id: "filter", reference: "filter@1", category: "transform", title: "Filter", inputs: [{ name: "in", kind: "data" }], outputs: [{ name: "out", kind: "data" }, { name: "done", kind: "signal" }], fields: [], capabilities: [] },
];
const emptyDoc = () => ({ apiVersion: "sluice/v1", name: "p", nodes: [], edges: [], layout: {} });

test("adding and connecting nodes, with refusals that say why", () => {
  const state = new EditorState(emptyDoc(), specs);
  const source = state.addNode(specs[0], [0, 0]);
  const filter = state.addNode(specs[1]);
  assert.deepEqual([source, filter], ["csv_read", "filter"]);
  assert.deepEqual(state.doc.layout.filter, [40, 120], "a new node goes below the lowest one");
  assert.deepEqual(state.selection, { kind: "node", id: "filter" });
  assert.equal(state.connect("csv_read.out", "filter.in"), null);
  assert.match(state.connect("csv_read.out", "filter.in") ?? "", /already connected/);
  assert.equal(state.connect("csv_read.done", "filter.start"), null);
  assert.deepEqual(state.doc.edges, [{ from: "csv_read.out", to: "filter.in" }, { from: "csv_read.done", to: "filter.start", kind: "signal" }]);
});

test("every change undoes and redoes; a drag is one change", () => {
  const state = new EditorState(emptyDoc(), specs);
  state.addNode(specs[0], [0, 0]);
  state.addNode(specs[1], [200, 0]);
  state.connect("csv_read.out", "filter.in");
  const move = state.beginMove("filter");
  move([210, 5]);
  move([220, 10]);
  move.end();
  assert.deepEqual(state.doc.layout.filter, [220, 10]);
  assert.ok(state.undo());
  assert.deepEqual(state.doc.layout.filter, [200, 0], "the whole drag is undone at once");
  assert.ok(state.undo());
  assert.equal(state.doc.edges.length, 0);
  assert.ok(state.redo());
  assert.equal(state.doc.edges.length, 1);
  state.applySettings("filter", { where: "amount > 0" });
  assert.equal(state.redo(), false, "a new change drops what could be redone");
  assert.deepEqual(state.doc.nodes[1].settings, { where: "amount > 0" });
  while (state.undo()) { /* back to the start */ }
  assert.deepEqual(state.doc, emptyDoc());
});

test("deleting nodes removes their edges; deleting an edge leaves the nodes", () => {
  const state = new EditorState(emptyDoc(), specs);
  state.addNode(specs[0], [0, 0]);
  state.addNode(specs[1], [200, 0]);
  state.addNode(specs[1], [400, 0]);
  state.connect("csv_read.out", "filter.in");
  state.connect("filter.out", "filter_2.in");
  state.selectEdge(1);
  assert.deepEqual(state.deleteSelection(), { edge: { from: "filter.out", to: "filter_2.in" } });
  state.selectNode("csv_read");
  state.selectNode("filter", { extend: true });
  assert.deepEqual([...state.selectedNodes()].sort(), ["csv_read", "filter"]);
  assert.deepEqual(state.deleteSelection(), { nodes: ["csv_read", "filter"] });
  assert.deepEqual(state.doc.nodes.map((n) => n.id), ["filter_2"]);
  assert.deepEqual(state.doc.edges, []);
  assert.deepEqual(Object.keys(state.doc.layout), ["filter_2"]);
  assert.equal(state.deleteSelection(), null, "nothing selected: nothing deleted");
});

test("nudging moves the selection; shift-click toggles nodes in and out", () => {
  const state = new EditorState(emptyDoc(), specs);
  state.addNode(specs[0], [0, 0]);
  state.addNode(specs[1], [200, 0]);
  state.selectNode("csv_read");
  state.selectNode("filter", { extend: true });
  assert.deepEqual(state.nudge(20, 0).sort(), ["csv_read", "filter"]);
  assert.deepEqual(state.doc.layout, { csv_read: [20, 0], filter: [220, 0] });
  state.selectNode("filter", { extend: true });
  assert.deepEqual([...state.selectedNodes()], ["csv_read", "filter"], "the clicked node stays the panel's selection");
  state.clearSelection();
  assert.deepEqual(state.nudge(0, 20), []);
});

test("copy and paste keep settings and inner edges under new ids", () => {
  const state = new EditorState(emptyDoc(), specs);
  state.addNode(specs[0], [0, 0]);
  state.addNode(specs[1], [200, 0]);
  state.applySettings("filter", { where: "x > 1" });
  state.connect("csv_read.out", "filter.in");
  state.selectNode("csv_read");
  state.selectNode("filter", { extend: true });
  const clip = state.copySelection();
  assert.ok(clip);
  const pasted = state.paste(clip);
  assert.deepEqual(pasted, ["csv_read_2", "filter_2"]);
  assert.deepEqual(state.doc.layout.filter_2, [240, 40]);
  assert.deepEqual(state.node("filter_2")?.settings, { where: "x > 1" });
  assert.deepEqual(state.doc.edges.at(-1), { from: "csv_read_2.out", to: "filter_2.in" });
  assert.deepEqual([...state.selectedNodes()].sort(), ["csv_read_2", "filter_2"]);
  state.applySettings("filter_2", { where: "x > 2" });
  assert.deepEqual(state.node("filter")?.settings, { where: "x > 1" }, "the copy does not share settings with the original");
});

test("a draft replaces one node's settings without changing the document", () => {
  const state = new EditorState(emptyDoc(), specs);
  state.addNode(specs[1], [0, 0]);
  const draft = state.draftWith("filter", { where: "y" });
  assert.deepEqual(draft.nodes[0].settings, { where: "y" });
  assert.deepEqual(state.node("filter")?.settings, {});
  state.layoutAll();
  assert.ok(state.undo());
  state.replace({ ...emptyDoc(), name: "restored" });
  assert.equal(state.undo(), false, "a restored revision starts a new history");
});

test("an edge's filter is set, cleared and undone, never on a signal edge", async () => {
  const { toYAML } = await import("../ui/js/yaml.js");
  const state = new EditorState(emptyDoc(), specs);
  state.addNode(specs[0], [0, 0]);
  state.addNode(specs[1], [200, 0]);
  state.connect("csv_read.out", "filter.in");
  state.connect("csv_read.done", "filter.start");
  assert.equal(state.setEdgeFilter(0, " amount > 100 ", ["id", "amount"]), true);
  assert.deepEqual(state.doc.edges[0], { from: "csv_read.out", to: "filter.in", where: "amount > 100", select: ["id", "amount"] });
  assert.match(toYAML(state.doc), /where: "?amount > 100"?/);
  assert.equal(state.setEdgeFilter(1, "x > 1", []), false, "a signal edge carries no rows");
  state.setEdgeFilter(0, "", []);
  assert.deepEqual(state.doc.edges[0], { from: "csv_read.out", to: "filter.in" });
  state.undo();
  assert.equal(state.doc.edges[0].where, "amount > 100");
});

test("every change is one operation for the other editors; undo takes back only one's own", () => {
  const state = new EditorState(emptyDoc(), specs);
  const sent = [];
  state.onOp = (op) => sent.push(op);
  state.addNode(specs[0], [0, 0]);
  state.addNode(specs[1], [200, 0]);
  state.applySettings("filter", { where: "a > 1", limit: 5 }, {});
  assert.deepEqual(sent.map((op) => op.kind), ["add", "add", "batch"]);
  // Someone else changes another field of the same node: applying from the form's base keeps their change.
  const theirs = JSON.parse(JSON.stringify(state.doc));
  theirs.nodes[1].settings.note = "theirs";
  state.rebase(theirs);
  state.applySettings("filter", { where: "a > 2", limit: 5 }, { where: "a > 1", limit: 5 });
  assert.deepEqual(state.doc.nodes[1].settings, { where: "a > 2", limit: 5, note: "theirs" });
  assert.deepEqual(sent.at(-1), { kind: "set", node: "filter", field: "where", value: JSON.stringify("a > 2") });
  // Undo reverts my where, not their note.
  assert.ok(state.undo());
  assert.deepEqual(state.doc.nodes[1].settings, { where: "a > 1", limit: 5, note: "theirs" });
  assert.equal(sent.at(-1).kind, "set");
  // A node the server renamed (its id was taken) is followed by the history.
  state.renamed({ filter: "filter_2" });
  const renamed = JSON.parse(JSON.stringify(state.doc).replaceAll('"filter"', '"filter_2"'));
  state.rebase(renamed);
  assert.ok(state.redo());
  assert.equal(state.doc.nodes[1].settings.where, "a > 2");
  assert.equal(sent.at(-1).node, "filter_2");
});

test("renaming a node moves its edges and position with it, refuses a taken or malformed id, and undoes", () => {
  const state = new EditorState(emptyDoc(), specs);
  state.addNode(specs[0], [0, 0]);
  state.addNode(specs[1], [200, 0]);
  state.connect("csv_read.out", "filter.in");
  state.selectNode("filter");
  assert.equal(state.renameNode("filter", "big_orders"), null);
  assert.deepEqual(state.doc.edges, [{ from: "csv_read.out", to: "big_orders.in" }]);
  assert.deepEqual(state.doc.layout.big_orders, [200, 0]);
  assert.deepEqual(state.selection, { kind: "node", id: "big_orders" });
  assert.match(state.renameNode("big_orders", "csv_read") ?? "", /already called csv_read/);
  assert.match(state.renameNode("big_orders", "1st") ?? "", /starts with a letter/);
  assert.ok(state.undo());
  assert.deepEqual(state.doc.edges, [{ from: "csv_read.out", to: "filter.in" }]);
});

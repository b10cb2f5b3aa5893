import { test } from "node:test";
import assert from "node:assert/strict";
import { LiveDoc } from "../ui/js/live-doc.js";
import { addOp, applyOp, encode, inverseOf, renameIn } from "../ui/js/live-ops.js";

const base = () => ({
  apiVersion: "sluice/v1", name: "p",
  nodes: [{ id: "src", type: "csv.read", settings: { path: "in.csv" } }, { id: "out", type: "csv.write", settings: { path: "out.csv" } }],
  edges: [{ from: "src.out", to: "out.in" }],
  layout: { src: [0, 0], out: [200, 0] },
});

/** A deterministic random source (mulberry32). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The server's side of the protocol as docs/server.md states it (the Swift server is tested over a real socket in
 * LiveEditingTests): ordering, a clash of added ids renamed to a free id, ids a client has not yet heard were renamed
 * mapped in its operations, an operation sent again after a reconnect applied once.
 */
class ModelServer {
  constructor(doc) {
    this.base = doc;
    this.log = [];
    this.seq = 0;
    this.ids = new Set(doc.nodes.map((n) => n.id));
    this.renames = [];
    this.lastOp = {};
  }

  receive(client, message) {
    if ((this.lastOp[client] ?? 0) >= message.client_op) return null;
    const next = this.seq + 1;
    const map = {};
    for (const r of this.renames) if (r.seq > message.base && (r.client === null || r.client === client)) {
      for (const [k, v] of Object.entries(map)) if (v === r.from) map[k] = r.to;
      map[r.from] = r.to;
    }
    const references = (op) => op.kind === "add" ? { ...renameIn({ ...op, nodes: [] }, map), nodes: op.nodes } : renameIn(op, map);
    const follow = (op, clashes) => {
      op = Object.keys(clashes).length ? renameIn(op, clashes) : op;
      if (op.kind === "add") {
        const mine = {};
        for (const n of op.nodes) {
          if (this.ids.has(n.id)) {
            let i = 2;
            const stem = n.id.replace(/_\d+$/, "");
            let free = this.ids.has(stem) ? `${stem}_${i}` : stem;
            while (this.ids.has(free)) free = `${stem}_${++i}`;
            mine[n.id] = free;
            clashes[n.id] = free;
            this.renames.push({ seq: next, client, from: n.id, to: free });
            this.ids.add(free);
          } else this.ids.add(n.id);
        }
        if (Object.keys(mine).length) op = renameIn(op, mine);
      } else if (op.kind === "remove") for (const id of op.nodes) this.ids.delete(id);
      else if (op.kind === "rename") {
        if (!this.ids.has(op.node) || this.ids.has(op.to)) throw new Error("refused");
        this.ids.delete(op.node);
        this.ids.add(op.to);
        this.renames.push({ seq: next, client: null, from: op.node, to: op.to });
      }
      return op;
    };
    const savedIds = new Set(this.ids), savedRenames = this.renames.length;
    let op;
    try {
      const clashes = {};
      op = message.op.kind === "batch"
        ? { kind: "batch", ops: message.op.ops.map((inner) => follow(references(inner), clashes)) }
        : follow(references(message.op), clashes);
    } catch {
      this.ids = savedIds;
      this.renames.length = savedRenames;
      return { refused: message.client_op };
    }
    this.seq = next;
    this.lastOp[client] = message.client_op;
    const ordered = { seq: next, client, client_op: message.client_op, user: client, op };
    this.log.push(ordered);
    return ordered;
  }

  workingCopy(client) {
    return { document: JSON.stringify(this.base), seq: this.seq, revision: 1, last_op: this.lastOp[client] ?? 0, ops: [...this.log] };
  }

  document() {
    const doc = JSON.parse(JSON.stringify(this.base));
    for (const ordered of this.log) applyOp(doc, ordered.op);
    return doc;
  }
}

/** An operation an editor could make on the document it shows. */
function randomOp(doc, next, client, counter) {
  const pick = (list) => list[Math.floor(next() * list.length)];
  const ids = doc.nodes.map((n) => n.id);
  const choice = next();
  if (choice < 0.2 || ids.length < 2) {
    const taken = new Set(ids);
    let id = "filter";
    for (let i = 2; taken.has(id); i++) id = `filter_${i}`;
    return addOp({ id, type: "filter", settings: { where: `x > ${counter}` } }, [Math.round(next() * 500), Math.round(next() * 500)]);
  }
  if (choice < 0.3) return { kind: "remove", nodes: [pick(ids)] };
  if (choice < 0.45) return { kind: "move", at: { [pick(ids)]: [Math.round(next() * 800), Math.round(next() * 800)] } };
  if (choice < 0.55) {
    const a = pick(ids), b = pick(ids);
    return { kind: "connect", edge: { from: `${a}.out`, to: `${b}.in` } };
  }
  if (choice < 0.6 && doc.edges.length) { const e = pick(doc.edges); return { kind: "disconnect", from: e.from, to: e.to }; }
  if (choice < 0.8) return { kind: "set", node: pick(ids), field: pick(["where", "path", "limit"]), value: next() < 0.1 ? undefined : encode(`${client}-${counter}`) };
  if (choice < 0.87) return { kind: "rename", node: pick(ids), to: `${client}_${String(counter).replace(".", "_")}` };
  if (choice < 0.92) return { kind: "meta", field: "description", value: encode(`${client} ${counter}`) };
  return { kind: "batch", ops: [randomOp(doc, next, client, counter + 0.5), randomOp(doc, next, client, counter + 0.25)].filter((op) => op.kind !== "batch") };
}

/**
 * Three editors make random changes while messages arrive late and in bursts and connections drop (in-flight
 * messages either way may be lost) and come back. At the end, once everything is delivered, every editor shows
 * the server's document, and each editor's every operation is in the server's list exactly once.
 */
function simulate(seed) {
  const next = random(seed);
  const server = new ModelServer(base());
  const names = ["a", "b", "c"];
  const editors = Object.fromEntries(names.map((name) => [name, { doc: new LiveDoc(name), online: true, up: [], down: [], made: 0, refused: new Set() }]));
  const connect = (name) => {
    const e = editors[name];
    e.online = true;
    e.down = [{ joined: server.workingCopy(name) }];
  };
  for (const name of names) { connect(name); deliverDown(name); }

  function deliverDown(name) {
    const e = editors[name];
    const message = e.down.shift();
    if (!message) return;
    if (message.joined) { for (const resend of e.doc.reset(message.joined)) e.up.push(resend); return; }
    if (message.refused) { e.doc.refused(message.refused); return; }
    e.doc.receive(message);
  }
  function deliverUp(name) {
    const e = editors[name];
    const message = e.up.shift();
    if (!message) return;
    const result = server.receive(name, message);
    if (!result) return;
    if (result.refused) { e.refused.add(result.refused); e.down.push({ refused: result.refused }); return; }
    for (const other of names) if (editors[other].online) editors[other].down.push(result);
  }

  for (let step = 0; step < 400; step++) {
    const name = names[Math.floor(next() * names.length)];
    const e = editors[name];
    const action = next();
    if (action < 0.3) {
      const op = randomOp(e.doc.display(), next, name, step);
      const message = e.doc.local(op);
      e.made++;
      if (message) e.up.push(message);
    } else if (action < 0.55) {
      if (e.online) deliverUp(name);
    } else if (action < 0.85) {
      if (e.online) for (let i = Math.floor(next() * 3); i >= 0; i--) deliverDown(name);
    } else if (action < 0.92 && e.online) {
      // The connection drops: of what was in flight, some first part arrived (a socket keeps order), the rest not.
      e.online = false;
      e.doc.lost();
      for (let arrived = Math.floor(next() * (e.up.length + 1)); arrived > 0; arrived--) deliverUp(name);
      e.up = [];
      e.down = [];
    } else if (!e.online) {
      connect(name);
    }
  }
  // Everyone comes back and everything is delivered.
  for (const name of names) if (!editors[name].online) connect(name);
  for (let quiet = false; !quiet;) {
    quiet = true;
    for (const name of names) {
      const e = editors[name];
      if (e.up.length || e.down.length) { quiet = false; deliverDown(name); deliverUp(name); }
    }
  }
  const truth = JSON.stringify(server.document());
  for (const name of names) {
    const e = editors[name];
    assert.equal(e.doc.pending.length, 0, `seed ${seed}: ${name} still has pending operations`);
    assert.equal(JSON.stringify(e.doc.display()), truth, `seed ${seed}: ${name} shows another document`);
    const applied = server.log.filter((o) => o.client === name).map((o) => o.client_op);
    assert.equal(new Set(applied).size, applied.length, `seed ${seed}: an operation of ${name} was applied twice`);
    // Refused operations are not applied, unless sent again after a lost refusal and then accepted.
    const expected = [];
    for (let op = 1; op <= e.made; op++) if (!e.refused.has(op) || applied.includes(op)) expected.push(op);
    assert.deepEqual(applied, expected, `seed ${seed}: operations of ${name} were lost`);
  }
  return server.log.length;
}

test("three editors converge to one document under random interleavings, delays and reconnects, losing no operation", () => {
  let total = 0;
  for (let seed = 1; seed <= 300; seed++) total += simulate(seed);
  assert.ok(total > 300 * 50, `the runs ordered ${total} operations`);
});

test("every operation's inverse restores the document it was computed on", () => {
  const next = random(7);
  for (let i = 0; i < 2000; i++) {
    const before = base();
    for (let j = 0; j < 3; j++) applyOp(before, randomOp(before, next, "z", j));
    const op = randomOp(before, next, "a", i);
    const inverse = inverseOf(before, op);
    const after = applyOp(JSON.parse(JSON.stringify(before)), op);
    if (inverse) applyOp(after, inverse);
    const canonical = (doc) => JSON.stringify({ ...doc, nodes: [...doc.nodes].sort((x, y) => x.id.localeCompare(y.id)).map((n) => ({ ...n, settings: Object.fromEntries(Object.entries(n.settings ?? {}).sort()) })),
      edges: [...doc.edges].map((e) => `${e.from}>${e.to}`).sort(), layout: Object.fromEntries(Object.entries(doc.layout).sort()) });
    assert.equal(canonical(after), canonical(before), `op ${JSON.stringify(op)}`);
  }
});

test("an added node whose id another editor took first keeps the server's id in later operations", () => {
  const doc = new LiveDoc("a");
  doc.reset({ document: JSON.stringify(base()), seq: 0, revision: 1, last_op: 0, ops: [] });
  const added = doc.local(addOp({ id: "filter", type: "filter", settings: {} }, [0, 0]));
  doc.local({ kind: "set", node: "filter", field: "where", value: encode("x > 1") });
  doc.receive({ seq: 1, client: "b", client_op: 1, user: "bob", op: addOp({ id: "filter", type: "filter", settings: {} }, [9, 9]) });
  const renamed = doc.receive({ seq: 2, client: "a", client_op: added.client_op, user: "amy", op: renameIn(added.op, { filter: "filter_2" }) });
  assert.deepEqual(renamed, { filter: "filter_2" });
  assert.equal(doc.pending[0].op.node, "filter_2");
  assert.deepEqual(doc.display().nodes.map((n) => [n.id, n.settings.where]), [["src", undefined], ["out", undefined], ["filter", undefined], ["filter_2", "x > 1"]]);
  assert.ok(doc.unsaved);
  doc.receive({ seq: 3, client: "a", client_op: 2, user: "amy", op: { kind: "set", node: "filter_2", field: "where", value: encode("x > 1") } });
  doc.saved({ revision: 2, seq: 3 });
  assert.equal(doc.unsaved, false);
});

test("a mapping's keys keep their order through an operation", () => {
  const doc = base();
  applyOp(doc, { kind: "set", node: "src", field: "cases", value: encode({ zeta: "a > 1", alpha: "b > 2" }) });
  assert.deepEqual(Object.keys(doc.nodes[0].settings.cases), ["zeta", "alpha"]);
});

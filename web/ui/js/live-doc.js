// @ts-check
// One editor's copy of a live working copy (pure; unit-tested with node --test, including a convergence property
// test). The approach is server-ordered operations with local rebase: the server puts every editor's operations
// in one order; each editor keeps the document as of the last operation it received in that order (`confirmed`)
// and its own operations the server has not acknowledged yet (`pending`), and shows the confirmed document with
// the pending operations applied on top. An operation from someone else is applied to the confirmed document and
// the pending ones are applied again on top of it (the rebase); an acknowledgement moves the head of `pending`
// into the confirmed document, as the server ordered it. When nothing is pending, every editor shows the same
// document: the revision plus the server's list.
import { addedIds, applyOp, renameIn, renamesIn } from "./live-ops.js";

/**
 * @typedef {import("./live-ops.js").Op} Op
 * @typedef {import("./live-ops.js").LiveDocument} LiveDocument
 * @typedef {{type: "op", client_op: number, base: number, op: Op}} OpMessage
 * @typedef {{seq: number, client: string, client_op: number, user: string, op: Op, overrode?: {node: string|null, field: string, client: string, user: string}[]}} OrderedOp
 */

/** @param {any} value */
const clone = (value) => JSON.parse(JSON.stringify(value));

export class LiveDoc {
  /** @param {string} client this editor tab's id */
  constructor(client) {
    this.client = client;
    /** @type {LiveDocument|null} the document as of `seq` */
    this.confirmed = null;
    /** the last operation received, in the server's order */
    this.seq = 0;
    /** the last operation a saved revision holds */
    this.savedSeq = 0;
    /** the revision the working copy starts from */
    this.revision = 0;
    /** @type {OpMessage[]} own operations sent (or waiting to be) and not acknowledged yet */
    this.pending = [];
    this.nextOp = 1;
    /** whether the working copy was received on the current connection: until then nothing is sent */
    this.synced = false;
  }

  /** The connection was lost: own operations wait (in `pending`) until the working copy is received again. */
  lost() { this.synced = false; }

  /**
   * Takes the whole working copy (`joined`, or `rebased` when a revision was saved outside the editor): the
   * revision's document and the operations on top. Own operations the server already applied are dropped from
   * `pending`; the rest are returned, to send again.
   * @param {{document: string, seq: number, revision: number, last_op: number, ops: OrderedOp[]}} message
   * @param {(doc: any) => LiveDocument} [prepare] completes a stored document for the canvas (layout)
   * @returns {OpMessage[]}
   */
  reset(message, prepare = (doc) => doc) {
    const doc = prepare(JSON.parse(message.document) ?? { nodes: [], edges: [], layout: {} });
    doc.nodes ??= [];
    doc.edges ??= [];
    doc.layout ??= {};
    for (const ordered of message.ops) applyOp(doc, ordered.op);
    this.confirmed = doc;
    this.seq = message.seq;
    this.revision = message.revision;
    this.savedSeq = message.ops.length ? message.ops[0].seq - 1 : message.seq;
    this.pending = this.pending.filter((p) => p.client_op > message.last_op).map((p) => ({ ...p, base: this.seq }));
    this.nextOp = Math.max(this.nextOp, message.last_op + 1);
    this.synced = true;
    return this.pending;
  }

  /**
   * Records an own operation (already applied to what the editor shows) and returns the message to send, or
   * null while the working copy is not received on this connection (then `reset` returns it, in order).
   * @param {Op} op
   * @returns {OpMessage|null}
   */
  local(op) {
    const message = /** @type {OpMessage} */ ({ type: "op", client_op: this.nextOp++, base: this.seq, op });
    this.pending.push(message);
    return this.synced ? message : null;
  }

  /**
   * Applies an operation in the server's order. For an own one (its acknowledgement), returns the ids the server
   * gave its added nodes instead of the ones asked for (another editor took them first), old → new.
   * @param {OrderedOp} ordered
   * @returns {Record<string, string>}
   */
  receive(ordered) {
    if (!this.confirmed || ordered.seq <= this.seq) return {};
    /** @type {Record<string, string>} */
    let renamed = {};
    if (ordered.client === this.client) {
      const index = this.pending.findIndex((p) => p.client_op === ordered.client_op);
      if (index >= 0) {
        const sent = this.pending[index];
        const asked = addedIds(sent.op), given = addedIds(ordered.op);
        renamed = Object.fromEntries(asked.map((id, i) => [id, given[i]]).filter(([a, b]) => b !== undefined && a !== b));
        this.pending.splice(0, index + 1);
      }
    } else {
      renamed = renamesIn(ordered.op);
    }
    if (Object.keys(renamed).length) this.pending = this.pending.map((p) => ({ ...p, op: renameIn(p.op, renamed) }));
    applyOp(this.confirmed, ordered.op);
    this.seq = ordered.seq;
    return ordered.client === this.client ? renamed : {};
  }

  /**
   * The server refused an own operation (a viewer's, one that no longer applies): it is dropped.
   * @param {number} clientOp
   */
  refused(clientOp) { this.pending = this.pending.filter((p) => p.client_op !== clientOp); }

  /**
   * A revision was saved that holds the working copy up to `seq`.
   * @param {{revision: number, seq: number}} message
   */
  saved(message) {
    this.revision = message.revision;
    this.savedSeq = Math.max(this.savedSeq, message.seq);
  }

  /** What the editor shows: the confirmed document with the pending operations on top. */
  display() {
    const doc = clone(this.confirmed ?? { nodes: [], edges: [], layout: {} });
    for (const p of this.pending) applyOp(doc, p.op);
    return doc;
  }

  /** Changes not in a saved revision yet (someone's, or own not acknowledged). */
  get unsaved() { return this.seq > this.savedSeq || this.pending.length > 0; }
}

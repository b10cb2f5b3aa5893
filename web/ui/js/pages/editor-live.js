// @ts-check
// Live editing in the editor: joins the pipeline's room on the live connection, sends every own change (an
// operation of live-ops.js) and applies everyone else's in the server's order (live-doc.js), and shows who is
// here: the presence list in the toolbar, each collaborator's pointer, selection and open settings on the canvas,
// in their colour. The protocol is in docs/server.md ("Live editing").
import { h } from "../dom.js";
import { LiveDoc } from "../live-doc.js";
import { live } from "../live.js";

/** How often presence is sent at most (20 per second), and the heartbeat that says this tab is still here. */
const PRESENCE_INTERVAL = 50, HEARTBEAT = 3000;

/** A random id for this editor tab (crypto.randomUUID needs a secure context; this does not). */
function tabId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Sets inline styles through the CSSOM (the page's content security policy refuses style attributes).
 * @template {HTMLElement} T
 * @param {T} element
 * @param {Record<string, string>} styles
 * @returns {T}
 */
function styled(element, styles) {
  for (const [name, value] of Object.entries(styles)) element.style.setProperty(name, value);
  return element;
}

/** @param {string} name */
const initials = (name) => name.split(/[^A-Za-z0-9]+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("") || name.slice(0, 2).toUpperCase();

/**
 * @typedef {{client: string, user: string, role?: string, color: string, cursor?: number[], selection?: string[], editing?: string}} Collaborator
 */

/**
 * @param {object} options
 * @param {string} options.pipelineId
 * @param {string} options.me the signed-in user's name
 * @param {boolean} options.canEdit
 * @param {import("../editor-state.js").EditorState} options.state
 * @param {any} options.canvas
 * @param {(doc: any) => any} options.prepare completes a stored document for the canvas (layout)
 * @param {(why: "remote"|"resync"|"own") => void} options.changed the document changed under the editor
 * @param {(message: any) => void} options.saved a revision was saved (by anyone)
 * @param {(text: string, bad?: boolean) => void} options.say
 */
export function startLiveEditing({ pipelineId, me, canEdit, state, canvas, prepare, changed, saved, say }) {
  const client = tabId();
  const doc = new LiveDoc(client);
  /** @type {Map<string, Collaborator>} others' tabs by client id */
  const others = new Map();
  /** @type {Collaborator[]} */
  let members = [];
  const list = h("ul", { class: "presence", "data-testid": "presence", "aria-label": "Who has this pipeline open" });
  /** For tests and the latency figures: when the last change of someone else was shown, and when an own one was sent. */
  const timings = { lastRemote: { seq: 0, at: 0 }, lastSent: { at: 0 }, shown: 0 };
  /** @type {() => void} */
  let gotWorkingCopy = () => {};
  const firstWorkingCopy = new Promise((resolve) => { gotWorkingCopy = () => resolve(true); });

  /** @param {Record<string, unknown>} message */
  const send = (message) => live.message({ ...message, pipeline: pipelineId });

  state.onOp = canEdit ? (op) => {
    const message = doc.local(op);
    if (message) { send(message); timings.lastSent = { at: Date.now() }; }
    changed("own");
  } : null;

  /** @param {any} message */
  function handle(message) {
    if (message.type === "disconnected") { doc.lost(); return; }
    if (message.pipeline !== pipelineId) return;
    switch (message.type) {
      case "joined": case "rebased": {
        const resend = doc.reset(message, prepare);
        for (const m of resend) send(m);
        const shown = doc.display();
        members = message.members ?? [];
        others.clear();
        for (const m of members) if (m.client !== client) others.set(m.client, m);
        renderPresence();
        // Usually the working copy is what the page loaded: then nothing is drawn again.
        if (JSON.stringify(shown) !== JSON.stringify(state.doc)) {
          state.rebase(shown);
          changed("resync");
        } else {
          drawOthers();
        }
        gotWorkingCopy();
        if (message.type === "rebased") say("A revision was saved outside this editor: the canvas shows it with the unsaved changes on top.");
        break;
      }
      case "op": {
        const mine = message.client === client;
        const renamed = doc.receive(message);
        if (Object.keys(renamed).length) state.renamed(renamed);
        for (const o of message.overrode ?? []) {
          if (o.client !== client) continue;
          const where = o.node ? `${o.node} · ${o.field}` : o.field;
          say(`${message.user} changed ${where} after you: their value is kept.`, true);
          document.getElementById("live-notice")?.remove();
          canvas.element.closest(".editor")?.querySelector(".editor-notice")?.append(h("p", { id: "live-notice", class: "warning", role: "alert" },
            `${message.user} changed ${where} at the same time as you; theirs came last and is kept.`));
        }
        if (mine && !Object.keys(renamed).length) break; // already shown
        state.rebase(doc.display());
        if (!mine) timings.lastRemote = { seq: message.seq, at: Date.now() };
        changed(mine ? "own" : "remote");
        if (!mine) timings.shown = Date.now();
        break;
      }
      case "refused":
        doc.refused(message.client_op);
        state.rebase(doc.display());
        changed("resync");
        say(`The server refused a change: ${message.error?.message ?? "unknown reason"}`, true);
        break;
      case "saved":
        doc.saved(message);
        saved(message);
        break;
      case "members":
        members = message.members ?? [];
        for (const m of members) if (m.client !== client) others.set(m.client, { ...others.get(m.client), ...m });
        for (const id of [...others.keys()]) if (!members.some((m) => m.client === id)) others.delete(id);
        renderPresence();
        drawOthers();
        break;
      case "presence":
        if (message.gone) others.delete(message.client);
        else others.set(message.client, { ...others.get(message.client), ...message, cursor: message.cursor, selection: message.selection, editing: message.editing });
        drawOthers();
        break;
    }
  }
  const unsubscribe = live.subscribe({ edit: pipelineId, client }, handle);

  function renderPresence() {
    list.replaceChildren(...members.map((m) => {
      const you = m.client === client;
      const role = m.role && m.role !== "editor" && m.role !== "owner" ? m.role : "";
      return h("li", { "data-user": m.user, "data-role": m.role ?? "", class: role ? "presence-member watching" : "presence-member",
        title: `${m.user}${you ? " (you)" : ""}${m.role ? ` — ${m.role}` : ""}` },
        styled(h("span", { class: "avatar" }, initials(m.user)), { background: m.color }),
        h("span", { class: "presence-name" }, you ? `${m.user} (you)` : m.user), role ? h("span", { class: "hint" }, ` ${role}`) : "");
    }));
  }

  /** Others' pointers, selections and open settings, drawn in canvas coordinates in their colours. */
  function drawOthers() {
    const layer = canvas.presenceLayer;
    /** @type {Element[]} */
    const items = [];
    for (const other of others.values()) {
      if (!other.user) continue;
      const color = other.color ?? "#888";
      for (const id of other.selection ?? []) {
        const node = state.node(id);
        if (!node) continue;
        const r = canvas.sizeOf(node);
        items.push(styled(h("div", { class: "peer-selection", "data-peer": other.user }),
          { transform: `translate(${r.x - 4}px,${r.y - 4}px)`, width: `${r.w + 8}px`, height: `${r.h + 8}px`, "border-color": color }));
      }
      if (other.editing && state.node(other.editing)) {
        const r = canvas.sizeOf(state.node(other.editing));
        items.push(styled(h("div", { class: "peer-editing", "data-peer": other.user, "data-node": other.editing }, `✎ ${other.user}`),
          { transform: `translate(${r.x}px,${r.y - 22}px)`, background: color }));
      }
      if (other.cursor) {
        items.push(styled(h("div", { class: "peer-cursor", "data-peer": other.user },
          h("span", { class: "peer-arrow" }), styled(h("span", { class: "peer-name" }, other.user), { background: color })),
          { transform: `translate(${other.cursor[0]}px,${other.cursor[1]}px)`, color }));
      }
    }
    layer.replaceChildren(...items);
  }

  // ---- presence out: the pointer (throttled), the selection and the node whose settings are open
  /** @type {{cursor?: number[], selection?: string[], editing?: string}} */
  let presence = {};
  let lastSent = 0;
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let trailing;
  function sendPresence(force = false) {
    clearTimeout(trailing);
    const wait = lastSent + PRESENCE_INTERVAL - Date.now();
    if (wait > 0 && !force) { trailing = setTimeout(() => sendPresence(), wait); return; }
    lastSent = Date.now();
    send({ type: "presence", ...presence });
  }
  const onPointer = (/** @type {PointerEvent} */ event) => {
    const box = canvas.element.getBoundingClientRect();
    const view = canvas.view;
    presence.cursor = [Math.round((event.clientX - box.left - view.x) / view.zoom), Math.round((event.clientY - box.top - view.y) / view.zoom)];
    sendPresence();
  };
  const onLeave = () => { delete presence.cursor; sendPresence(); };
  canvas.element.addEventListener("pointermove", onPointer);
  canvas.element.addEventListener("pointerleave", onLeave);
  const heartbeat = setInterval(() => {
    if (!canvas.element.isConnected) { stop(); return; }
    sendPresence(true);
  }, HEARTBEAT);

  /** After every render: what this tab has selected and open, sent when it changed; others' marks redrawn. */
  function rendered() {
    const selection = [...state.selectedNodes()];
    const editing = state.selection?.kind === "node" && canEdit ? state.selection.id : undefined;
    if (JSON.stringify(selection) !== JSON.stringify(presence.selection ?? []) || editing !== presence.editing) {
      presence = { ...presence, selection };
      if (editing) presence.editing = editing; else delete presence.editing;
      sendPresence();
    }
    drawOthers();
  }

  /** Who else has a node's settings open. */
  const editingNode = (/** @type {string} */ nodeId) => [...others.values()].filter((o) => o.editing === nodeId && o.user).map((o) => o.user);

  function stop() {
    clearInterval(heartbeat);
    clearTimeout(trailing);
    canvas.element.removeEventListener("pointermove", onPointer);
    canvas.element.removeEventListener("pointerleave", onLeave);
    unsubscribe();
  }

  return {
    element: list, doc, rendered, editingNode, stop, timings,
    /** Waits (up to `ms`) for the working copy, so the editor opens on it rather than on the last revision. */
    ready: (ms = 1500) => Promise.race([firstWorkingCopy, new Promise((resolve) => setTimeout(() => resolve(false), ms))]),
    /** For tests: the connection drops as if the network failed (it reconnects by itself). */
    dropConnection: () => live.socket?.close(),
    /** Own changes the server has not acknowledged yet (lost if the tab closes now). */
    pendingCount: () => doc.pending.length,
    /** Waits (up to `ms`) until every own change is acknowledged; false when some still are not. */
    settled: async (ms = 5000) => {
      const end = Date.now() + ms;
      while (doc.pending.length && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      return doc.pending.length === 0;
    },
  };
}

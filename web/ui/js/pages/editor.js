// @ts-check
// The pipeline editor: a palette of node types, the canvas and the settings panel (views of one EditorState,
// which holds the document, the selection and undo), validation shown on nodes and fields, revision history,
// save with conflict handling, and runs watched live on the canvas.
import { api, parseDocument } from "../api.js";
import { errorText, h, show, svg, time } from "../dom.js";
import { EditorState } from "../editor-state.js";
import { autoLayout } from "../graph.js";
import { clearSpot, newNodeSize } from "../canvas-geometry.js";
import { iconPath } from "../icons.js";
import { createCanvas } from "./editor-canvas.js";
import { createDataPane } from "./editor-data.js";
import { createDebugger } from "./editor-debug.js";
import { createPanel } from "./editor-panel.js";
import { createRunPanel, watchRun } from "./editor-run.js";
import { startLiveEditing } from "./editor-live.js";
import { runTests } from "./editor-tests.js";
import { renderSharing } from "./editor-sharing.js";
import { askParameters } from "../run-dialog.js";
import { toYAML } from "../yaml.js";
import { leaveGuard, replaceHash } from "../leave-guard.js";

/**
 * A document ready for the canvas: nodes without a saved position are laid out.
 * @param {any} doc
 */
function completeLayout(doc) {
  doc.nodes ??= [];
  doc.edges ??= [];
  if (!doc.layout || Object.keys(doc.layout).length < doc.nodes.length) doc.layout = { ...autoLayout(doc), ...(doc.layout ?? {}) };
  return doc;
}

/**
 * A stored document ready for the canvas.
 * @param {string} text
 */
async function loadDocument(text) {
  return completeLayout(await parseDocument(text));
}

/**
 * @param {HTMLElement} view
 * @param {any} me
 */
export async function editorPage(view, me) {
  const [path, query] = location.hash.split("?");
  const id = path.split("/")[2] ?? "";
  // `#/edit/ID?run=RUN` opens a past run on the canvas: its statuses, counters and the data on every edge.
  const pastRun = new URLSearchParams(query ?? "").get("run");
  const [specs, connections, uploads] = await Promise.all([api("GET", "/api/v1/node-types"), api("GET", "/api/v1/connections"),
    api("GET", "/api/v1/files").catch(() => ({ files: [] }))]);
  /** @type {any} */
  let pipeline = null;
  const state = new EditorState(id ? { apiVersion: "sluice/v1", name: "", nodes: [], edges: [], layout: {} } : { apiVersion: "sluice/v1", name: "new-pipeline", nodes: [], edges: [], layout: {} }, specs);
  if (id) {
    pipeline = await api("GET", `/api/v1/pipelines/${id}`);
    state.replace(await loadDocument(pipeline.document));
  }
  const canEdit = !pipeline || pipeline.role === "owner" || pipeline.role === "editor";
  /** @type {any[]} problems found by the last validation */
  let problems = [];
  /**
   * The output columns of every node the last check could plan: node → port → columns.
   * @type {Record<string, Record<string, {name: string, type: string}[]>>}
   */
  let schemas = {};
  /**
   * What the last check noticed per node (a column inferred as string because of one odd value).
   * @type {Record<string, string[]>}
   */
  let notes = {};
  /**
   * The columns arriving at a node's data inputs (after each edge's select), for the form's column pickers.
   * @param {string} nodeId
   */
  const columnsInto = (nodeId) => {
    /** @type {Set<string>} */
    const names = new Set();
    for (const edge of state.doc.edges) {
      if (edge.kind === "signal" || !edge.to.startsWith(`${nodeId}.`) || edge.to.slice(nodeId.length + 1).includes(".")) continue;
      const dot = edge.from.lastIndexOf(".");
      const columns = schemas[edge.from.slice(0, dot)]?.[edge.from.slice(dot + 1)] ?? [];
      for (const c of columns) if (!edge.select || edge.select.includes(c.name)) names.add(c.name);
    }
    return [...names];
  };

  const status = h("div", { id: "editor-status", role: "status", "aria-live": "polite", class: "editor-status" });
  const name = /** @type {HTMLInputElement} */ (h("input", { id: "pipeline-name", "aria-label": "Pipeline name", value: state.doc.name, disabled: !canEdit }));
  // ---- sharing (owners change it; everyone who sees the pipeline sees who else does)
  const sharing = h("section", { id: "sharing" });
  /** The run whose data the panel shows for a selected node or edge. */
  let runData = { runId: "", samples: /** @type {any[]} */ ([]) };
  const canvas = createCanvas({ state, canEdit, say, connect, changed: render });
  /** @type {ReturnType<typeof startLiveEditing>|null} live editing of a saved pipeline (others' changes, presence) */
  let liveEditing = null;
  const panel = createPanel({ state, connections: connections.map((/** @type {any} */ c) => c.name), files: uploads.files.map((/** @type {any} */ f) => f.path), canEdit, readOnlyRole: () => pipeline?.role, sharing,
    apply: applySettings, selectNode, connect, removeEdge, filterEdge, preview: (nodeId) => dataPane.preview(nodeId),
    breakpointSection: (point) => debug?.section(point) ?? "", columnsInto, notesOf: (nodeId) => notes[nodeId] ?? [],
    editingNode: (nodeId) => liveEditing?.editingNode(nodeId) ?? [], liveSeq: () => liveEditing?.doc.seq, rename: renameNode });
  const dataPane = createDataPane({ documentText });
  const mayRun = !pipeline || ["owner", "editor", "runner"].includes(pipeline.role);
  // Debug runs need a saved pipeline (they run a revision, like every run).
  const debug = pipeline ? createDebugger({ pipelineId: pipeline.id, canRun: mayRun, dataPane, say, changed: render, beforeRun: () => saveBeforeRun(),
    watch: (run) => watchRun(run.id, { overlay: canvas.liveOverlay, panel: runPanel, doc: () => state.doc, say, isShown: () => canvas.element.isConnected, finished: showRunData }) }) : null;
  const search = /** @type {HTMLInputElement} */ (h("input", { type: "search", id: "palette-search", placeholder: "Search node types", "aria-label": "Search node types" }));
  const paletteList = h("div");
  const palette = h("aside", { class: "palette", "aria-label": "Node types" }, search, paletteList);

  function render() {
    canvas.render(problems);
    debug?.mark(canvas.element);
    panel.render(problems);
    showSelectionData();
    liveEditing?.rendered();
    noteChange();
  }

  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let recheck;
  /**
   * Someone else changed the document (or the working copy was received again): the canvas shows it at once;
   * the panel too, unless its form is being typed in (its Apply then changes only the fields edited there).
   * @param {"remote"|"resync"|"own"} why
   */
  function changedLive(why) {
    if (why === "own") { noteChange(); return; }
    canvas.render(problems);
    debug?.mark(canvas.element);
    if (!panel.isTyping()) panel.render(problems);
    liveEditing?.rendered();
    if (document.activeElement !== name) name.value = state.doc.name ?? "";
    noteChange();
    clearTimeout(recheck);
    recheck = setTimeout(() => { if (canvas.element.isConnected) validate({ quiet: true }); }, 800);
  }

  /**
   * A revision was saved from the live working copy (by anyone).
   * @param {any} message
   */
  function savedLive(message) {
    if (!pipeline) return;
    pipeline.current_revision = message.revision;
    showRevision();
    if (message.by !== me?.name) say(`${message.by} saved revision ${message.revision} (changes by ${(message.contributors ?? []).join(", ")}).`);
  }

  /** Joins the pipeline's live room: from now on changes go to (and come from) everyone who has it open. */
  function goLive() {
    if (!pipeline || liveEditing) return liveEditing;
    liveEditing = startLiveEditing({ pipelineId: pipeline.id, me: me?.name ?? "", canEdit, state, canvas, prepare: completeLayout,
      changed: changedLive, saved: savedLive, say });
    presenceSlot.replaceChildren(liveEditing.element);
    return liveEditing;
  }

  // ---- drafts: the document as saved, and the unsaved one kept in this browser until it is saved or discarded
  let savedText = "";
  // Per user and pipeline: a draft is only ever offered to the one who made it.
  const draftPrefix = `sluice.draft.${me?.name ?? ""}.`;
  let draftKey = draftPrefix + (pipeline ? pipeline.id : "new");
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let draftTimer;
  // Live: the server keeps the working copy; what is unsaved is what no revision holds yet.
  const unsaved = () => canEdit && (liveEditing ? liveEditing.doc.unsaved : documentText() !== savedText);
  /** After every change (soon after, so a drag stays fast): keeps the draft, or drops it once it equals the saved document. */
  function noteChange() {
    if (!canEdit) return;
    if (liveEditing) { showRevision(); return; }
    clearTimeout(draftTimer);
    draftTimer = setTimeout(() => {
      if (!canvas.element.isConnected) return;
      const text = documentText();
      if (text === savedText) localStorage.removeItem(draftKey);
      else localStorage.setItem(draftKey, JSON.stringify({ text, base: pipeline?.current_revision ?? null, at: Date.now() }));
      showRevision();
    }, 300);
  }
  /** The saved document is what the canvas shows now. */
  function markSaved() {
    savedText = documentText();
    localStorage.removeItem(draftKey);
    showRevision();
  }
  /** A draft from an earlier visit (a reload, a closed tab): offered back, never applied silently. */
  function offerDraft() {
    /** @type {any} */
    let draft = null;
    try { draft = JSON.parse(localStorage.getItem(draftKey) ?? "null"); } catch { draft = null; }
    if (!canEdit || !draft || draft.text === savedText || liveEditing) return;
    const older = pipeline && draft.base !== null && draft.base !== pipeline.current_revision ? ` It was based on revision ${draft.base}; the pipeline is now at revision ${pipeline.current_revision}.` : "";
    show(conflict, h("div", { class: "card", role: "alertdialog", "aria-label": "Unsaved draft", id: "draft-offer" },
      h("p", {}, `You have unsaved changes to this pipeline from ${new Date(draft.at).toLocaleString()}.${older}`),
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary", id: "draft-restore", onclick: async () => {
          show(conflict);
          state.replace(await loadDocument(draft.text));
          name.value = state.doc.name;
          render();
          await validate();
          say("Restored your unsaved changes: save them to keep them.");
        } }, "Restore my changes"),
        h("button", { type: "button", id: "draft-discard", onclick: () => { localStorage.removeItem(draftKey); show(conflict); } }, "Discard them"))));
  }

  /** The data pane follows the selection: after a run, what the selected node or edge put out in it. */
  function showSelectionData() {
    const selection = state.selection;
    const nodeId = selection?.kind === "node" ? selection.id : null;
    dataPane.selected(nodeId);
    if (!runData.runId) return;
    const short = runData.runId.slice(0, 8);
    if (selection?.kind === "edge") {
      const edge = state.doc.edges[Number(selection.id)];
      dataPane.samples(runData.runId, `${edge?.from ?? ""} in run ${short}`, runData.samples.filter((s) => `${s.node}.${s.port}` === edge?.from));
    } else if (nodeId) {
      dataPane.samples(runData.runId, `${nodeId} in run ${short}`, runData.samples.filter((s) => s.node === nodeId), nodeId);
    } else {
      dataPane.samples(runData.runId, "", []);
    }
  }

  const undo = () => { if (state.undo()) { render(); say("Undid the last change."); } else say("Nothing to undo."); };
  const redo = () => { if (state.redo()) { render(); say("Redid the last change."); } else say("Nothing to redo."); };

  // ---- palette
  /**
   * A node type's icon, as drawn in its nodes' headers.
   * @param {any} spec
   */
  function paletteIcon(spec) {
    const path = svg("path", { d: iconPath(spec.icon), class: "node-icon" });
    if (spec.color) path.style.setProperty("--node-color", spec.color);
    const icon = svg("svg", { class: "palette-icon", width: 16, height: 16, viewBox: "0 0 16 16", "aria-hidden": "true" });
    icon.append(path);
    return icon;
  }

  function renderPalette() {
    const query = search.value.trim().toLowerCase();
    const byCategory = new Map();
    for (const spec of specs) {
      if (query && !`${spec.id} ${spec.title} ${spec.summary}`.toLowerCase().includes(query)) continue;
      if (!byCategory.has(spec.category)) byCategory.set(spec.category, []);
      byCategory.get(spec.category).push(spec);
    }
    show(paletteList, ...[...byCategory].map(([category, list]) => h("section", {}, h("h3", {}, category),
      ...list.map((/** @type {any} */ spec) => h("button", { type: "button", class: "palette-item", "data-type": spec.id, title: spec.summary, disabled: !canEdit,
        onpointerdown: (/** @type {PointerEvent} */ event) => startPaletteDrag(event, spec),
        onkeydown: (/** @type {KeyboardEvent} */ event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); addNode(spec); } } },
        paletteIcon(spec), spec.title || spec.id, h("span", { class: "hint" }, ` ${spec.id}`))))));
  }
  search.addEventListener("input", renderPalette);

  /**
   * @param {PointerEvent} event
   * @param {any} spec
   */
  function startPaletteDrag(event, spec) {
    if (!canEdit) return;
    event.preventDefault();
    const marker = h("div", { class: "drag-marker" }, spec.id);
    document.body.append(marker);
    const move = (/** @type {PointerEvent} */ e) => { marker.style.left = `${e.clientX + 8}px`; marker.style.top = `${e.clientY + 8}px`; };
    move(event);
    const up = (/** @type {PointerEvent} */ e) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      marker.remove();
      if (canvas.contains(e.clientX, e.clientY)) addNode(spec, canvas.toWorld(e.clientX, e.clientY));
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  /**
   * @param {any} spec
   * @param {number[]} [at]
   */
  function addNode(spec, at) {
    // Never on top of another node: the nearest free place to where it was dropped.
    const size = newNodeSize(spec);
    const nodeId = state.addNode(spec, clearSpot(state.doc.nodes.map((n) => canvas.sizeOf(n)), at ?? state.freeSpot(), size.w, size.h));
    render();
    say(`Added ${nodeId}.`);
  }

  /**
   * Adds an edge, or says why it cannot be added.
   * @param {string} from
   * @param {string} to
   */
  function connect(from, to) {
    const reason = state.connect(from, to);
    if (reason) { say(`Cannot connect ${from} → ${to}: ${reason}`, true); return false; }
    render();
    say(`Connected ${from} → ${to}.`);
    return true;
  }

  /** @param {number} index */
  function removeEdge(index) {
    const edge = state.removeEdge(index);
    if (!edge) return;
    render();
    say(`Removed the edge ${edge.from} → ${edge.to}.`);
  }

  /**
   * @param {number} index
   * @param {string} where
   * @param {string[]} select
   */
  function filterEdge(index, where, select) {
    if (!state.setEdgeFilter(index, where, select)) return;
    render();
    say("Applied the edge's filter.");
    validate();
  }

  /**
   * @param {string} nodeId
   * @param {Record<string, unknown>} settings
   * @param {Record<string, unknown>} [base] the settings the form showed
   * @param {number} [since] the live operation the form showed
   */
  function applySettings(nodeId, settings, base, since) {
    state.applySettings(nodeId, settings, base, since);
    say(`Applied the settings of ${nodeId}.`);
    validate();
  }

  /**
   * Gives a node another id, or says why not.
   * @param {string} nodeId
   * @param {string} to
   */
  function renameNode(nodeId, to) {
    const reason = state.renameNode(nodeId, to);
    if (reason) { say(`Cannot rename ${nodeId}: ${reason}`, true); return; }
    render();
    say(`Renamed ${nodeId} to ${to}.`);
    validate();
  }

  /**
   * Selects a node from the keyboard: centres the canvas on it and moves focus to its settings.
   * @param {string} nodeId
   */
  function selectNode(nodeId) {
    canvas.centreOn(nodeId);
    state.selectNode(nodeId);
    render();
    /** @type {HTMLElement|null} */ (panel.element.querySelector("input, select, textarea, button"))?.focus();
  }

  /** Copies the selected nodes (kept across pipelines in this browser). */
  function copy() {
    const clip = state.copySelection();
    if (!clip) return;
    localStorage.setItem("sluice.clipboard", JSON.stringify(clip));
    say(`Copied ${clip.nodes.length} node(s).`);
  }

  function paste() {
    const text = localStorage.getItem("sluice.clipboard");
    if (!text) { say("Nothing to paste: copy nodes first (Ctrl+C)."); return; }
    const ids = state.paste(JSON.parse(text));
    render();
    say(`Pasted ${ids.length} node(s): ${ids.join(", ")}.`);
  }

  canvas.element.addEventListener("keydown", (event) => {
    const command = event.ctrlKey || event.metaKey, key = event.key.toLowerCase();
    if (command && key === "c") { event.preventDefault(); copy(); return; }
    if (canEdit && command && key === "v") { event.preventDefault(); paste(); return; }
    if (canEdit && command && key === "z") { event.preventDefault(); if (event.shiftKey) redo(); else undo(); return; }
    if (canEdit && command && key === "y") { event.preventDefault(); redo(); return; }
    if (event.key === "Escape") { state.clearSelection(); render(); return; }
    const nudge = { ArrowLeft: [-20, 0], ArrowRight: [20, 0], ArrowUp: [0, -20], ArrowDown: [0, 20] }[event.key];
    if (nudge && canEdit && state.selectedNodes().size) {
      event.preventDefault();
      for (const nodeId of state.nudge(nudge[0], nudge[1])) canvas.moveNode(nodeId);
      canvas.settle();
      return;
    }
    if ((event.key === "Delete" || event.key === "Backspace") && canEdit) {
      const deleted = state.deleteSelection();
      if (!deleted) return;
      event.preventDefault();
      say("nodes" in deleted ? `Deleted ${deleted.nodes.join(", ")}.` : "Deleted the edge.");
      render();
    }
  });

  // ---- revision history: list, visual diff against the current revision (on the canvas too), restore
  async function showHistory() {
    if (!pipeline) { say("Save the pipeline to start its history.", true); return; }
    const revisions = await api("GET", `/api/v1/pipelines/${pipeline.id}/revisions`);
    state.clearSelection();
    render();
    const diffBox = h("div", { id: "diff" });
    /** @param {any} revision */
    async function compare(revision) {
      const diff = await api("GET", `/api/v1/pipelines/${pipeline.id}/diff?from=${revision.revision}&to=${pipeline.current_revision}`);
      for (const box of canvas.nodeLayer.querySelectorAll("g[data-node]")) box.classList.remove("diff-added", "diff-changed");
      for (const id of diff.nodes_added) canvas.nodeLayer.querySelector(`g[data-node="${CSS.escape(id)}"]`)?.classList.add("diff-added");
      for (const change of diff.nodes_changed) canvas.nodeLayer.querySelector(`g[data-node="${CSS.escape(change.id)}"]`)?.classList.add("diff-changed");
      /** @param {string} title @param {(Node|string)[]} items */
      const list = (title, items) => items.length ? h("div", {}, h("h3", {}, title), h("ul", {}, ...items.map((i) => h("li", {}, i)))) : "";
      const empty = !diff.nodes_added.length && !diff.nodes_removed.length && !diff.nodes_changed.length && !diff.edges_added.length && !diff.edges_removed.length && !diff.settings_changed.length;
      show(diffBox, h("h2", {}, `Revision ${revision.revision} → ${pipeline.current_revision}`),
        empty ? h("p", { class: "hint" }, "No differences in nodes, edges or settings.") : "",
        list("Nodes added (green on the canvas)", diff.nodes_added),
        list("Nodes removed", diff.nodes_removed),
        list("Nodes changed (amber on the canvas)", diff.nodes_changed.map((/** @type {any} */ c) => h("span", {}, h("strong", {}, c.id),
          c.type_before !== c.type_after && c.type_before ? ` type ${c.type_before} → ${c.type_after}` : "",
          ...c.settings.map((/** @type {any} */ x) => h("div", { class: "hint" }, `${x.path}: ${x.before ?? "—"} → ${x.after ?? "—"}`))))),
        list("Edges added", diff.edges_added), list("Edges removed", diff.edges_removed),
        list("Pipeline settings", diff.settings_changed.map((/** @type {any} */ x) => `${x.path}: ${x.before ?? "—"} → ${x.after ?? "—"}`)));
    }
    /** @param {any} revision */
    async function restore(revision) {
      if (!confirm(`Restore revision ${revision.revision}? It becomes a new revision; nothing is lost.`)) return;
      pipeline = await api("POST", `/api/v1/pipelines/${pipeline.id}/revisions/${revision.revision}/restore`);
      if (liveEditing) { say(`Restored revision ${revision.revision} as revision ${pipeline.current_revision}.`); return; } // the room sends it to every editor
      state.replace(await loadDocument(pipeline.document));
      name.value = state.doc.name;
      markSaved();
      render();
      say(`Restored revision ${revision.revision} as revision ${pipeline.current_revision}.`);
    }
    show(panel.element, h("h2", {}, "Revisions"), h("ul", { class: "revisions" }, ...revisions.map((/** @type {any} */ r) => h("li", { "data-revision": String(r.revision) },
      h("strong", {}, `#${r.revision}`), ` ${r.message} — ${(r.contributors ?? [r.author]).join(", ")}, ${time(r.created_at)} `,
      r.revision === pipeline.current_revision ? h("span", { class: "hint" }, "(current)") : h("span", { class: "row" },
        h("button", { type: "button", onclick: () => compare(r) }, "Compare with current"),
        canEdit ? h("button", { type: "button", onclick: () => restore(r) }, "Restore") : null)))), diffBox);
  }

  // ---- validate, save
  /**
   * @param {string} text
   * @param {boolean} [bad]
   */
  function say(text, bad = false) {
    status.textContent = text;
    status.classList.toggle("error", bad);
  }

  function documentText() {
    const typed = name.value.trim();
    if (typed && typed !== state.doc.name) state.setMeta("name", typed);
    return toYAML(state.doc);
  }

  /**
   * Checks the document on the server and shows its problems. `quiet` (after someone else's change): the canvas
   * is drawn again, the panel only when nobody is typing in it, and the status line is left alone.
   * @param {{quiet?: boolean}} [options]
   */
  async function validate(options = {}) {
    /** @type {any} */
    let result;
    try {
      result = await api("POST", "/api/v1/pipelines/validate", { document: documentText() });
    } catch (error) {
      // The server is out of reach (a restart, the network): say so; the next change checks again.
      if (!options.quiet && canvas.element.isConnected) say(`Could not check the pipeline: ${/** @type {Error} */ (error).message}`, true);
      return false;
    }
    problems = result.problems;
    schemas = result.schemas ?? {};
    notes = result.notes ?? {};
    if (options.quiet) {
      if (!canvas.element.isConnected) return result.valid;
      canvas.render(problems);
      debug?.mark(canvas.element);
      if (!panel.isTyping()) panel.render(problems);
      liveEditing?.rendered();
      return result.valid;
    }
    render();
    say(result.valid ? "Valid: the planner accepts this pipeline." : `${problems.length} problem(s): see the nodes marked in red.`, !result.valid);
    return result.valid;
  }

  /**
   * @param {boolean} [overwrite]
   */
  /**
   * Saves the canvas as a new revision; true when it was saved.
   * @param {boolean} [overwrite]
   */
  async function save(overwrite = false) {
    const text = documentText();
    const message = /** @type {HTMLInputElement} */ (document.getElementById("save-message")).value;
    try {
      if (!pipeline) {
        pipeline = await api("POST", "/api/v1/pipelines", { document: text, message: message || "created in the editor" });
        localStorage.removeItem(draftKey);
        draftKey = draftPrefix + pipeline.id;
        replaceHash(`#/edit/${pipeline.id}`);
      } else if (liveEditing) {
        pipeline = await saveLive(message || "saved in the editor");
      } else {
        const base = overwrite ? (await api("GET", `/api/v1/pipelines/${pipeline.id}`)).current_revision : pipeline.current_revision;
        pipeline = await api("PUT", `/api/v1/pipelines/${pipeline.id}`, { document: text, message: message || "saved in the editor", base_revision: base });
      }
      markSaved();
      goLive();
      await renderSharing(sharing, pipeline, me);
      await validate();
      say(`Saved revision ${pipeline.current_revision}. ${status.textContent}`);
      return true;
    } catch (error) {
      const e = /** @type {any} */ (error);
      if (e.status === 409) {
        say("Someone saved a newer revision while you were editing.", true);
        show(conflict, h("div", { class: "card", role: "alertdialog", "aria-label": "Save conflict" }, h("p", {}, e.message),
          h("div", { class: "row" }, h("button", { type: "button", onclick: () => { location.reload(); } }, "Reload theirs (drop my changes)"),
            h("button", { type: "button", class: "danger", onclick: () => { show(conflict); save(true); } }, "Overwrite with mine"))));
      } else {
        show(conflict, errorText(error));
      }
      return false;
    }
  }

  /**
   * Saves the live working copy: once every own change is acknowledged, the document as of the server's last
   * operation, which the server checks is still the last (else it tries again when the rest has arrived).
   * @param {string} message
   */
  async function saveLive(message) {
    const live = /** @type {NonNullable<typeof liveEditing>} */ (liveEditing);
    documentText(); // a name still being typed becomes its operation first, so the saved revision holds it
    for (let attempt = 0; ; attempt++) {
      if (!(await live.settled())) throw new Error("Your last changes have not reached the server yet (is the connection down?): save again in a moment.");
      try {
        return await api("PUT", `/api/v1/pipelines/${pipeline.id}`, { document: documentText(), message, base_revision: live.doc.revision, live_seq: live.doc.seq });
      } catch (error) {
        const e = /** @type {any} */ (error);
        if (e.status !== 409 || attempt >= 20 || !["live_behind", "working_copy_moved", "stale_revision"].includes(e.code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    }
  }

  /**
   * A run uses what the canvas shows: unsaved changes are saved first (a revision like any other).
   * @returns {Promise<boolean>} false when they could not be saved
   */
  async function saveBeforeRun() {
    if (!unsaved()) return true;
    say("Saving your changes first: a run uses a saved revision…");
    return save();
  }

  async function runNow() {
    if (!pipeline && canEdit && !(await save())) return;
    if (!pipeline) { say("Save the pipeline before running it.", true); return; }
    if (!(await saveBeforeRun())) return;
    const parameters = await askParameters(state.doc.parameters);
    if (parameters === null) return;
    /** @type {any} */
    let run;
    try { run = await api("POST", `/api/v1/pipelines/${pipeline.id}/runs`, { parameters }); } catch (error) { say(/** @type {Error} */ (error).message, true); return; }
    show(conflict, h("p", {}, `Run ${run.id.slice(0, 8)} queued. `, h("a", { href: `#/run/${run.id}`, id: "open-run" }, "Open the run")));
    watchRun(run.id, { overlay: canvas.liveOverlay, panel: runPanel, doc: () => state.doc, say, isShown: () => canvas.element.isConnected, finished: showRunData });
  }

  /**
   * Keeps a finished run's samples for the panel: selecting a node or an edge then shows the rows that crossed it.
   * @param {any} run
   */
  async function showRunData(run) {
    /** @type {any[]} */
    let samples = [];
    try { samples = (await api("GET", `/api/v1/runs/${run.id}/samples`)).samples; } catch { samples = []; }
    if (!canvas.element.isConnected) return;
    runData = { runId: run.id, samples };
    showSelectionData();
    if (samples.length) say(`Run ${run.id.slice(0, 8)}: ${run.status}. Select a node or an edge to see the rows it put out.`, run.status !== "succeeded");
  }

  async function testNow() {
    if (!pipeline) { say("Save the pipeline before testing it.", true); return; }
    await runTests(testResults, pipeline.id, documentText());
  }

  const conflict = h("div", { class: "editor-notice" });
  const testResults = h("div");
  const revisionHint = h("span", { class: "hint", id: "revision-hint" });
  /** Where the presence list goes (the people who have this pipeline open). */
  const presenceSlot = h("span", { class: "presence-slot" });
  function showRevision() {
    const changes = unsaved() ? (liveEditing ? " · unsaved changes (kept on the server for everyone editing)" : " · unsaved changes") : "";
    revisionHint.textContent = (pipeline ? `revision ${pipeline.current_revision}, your role: ${pipeline.role}` : "not saved yet") + changes;
  }
  const toolbar = h("div", { class: "toolbar" }, name,
    h("button", { type: "button", onclick: validate }, "Validate"),
    h("button", { type: "button", id: "auto-layout", onclick: () => { state.layoutAll(); render(); canvas.fit(); } }, "Auto-layout"),
    canEdit ? h("button", { type: "button", id: "undo", title: "Undo (Ctrl+Z)", onclick: undo }, "Undo") : null,
    canEdit ? h("button", { type: "button", id: "redo", title: "Redo (Ctrl+Shift+Z)", onclick: redo }, "Redo") : null,
    h("button", { type: "button", id: "show-history", onclick: () => showHistory() }, "History"),
    canEdit ? h("input", { id: "save-message", placeholder: "Revision message (optional)", "aria-label": "Revision message" }) : null,
    canEdit ? h("button", { type: "button", class: "primary", id: "save-pipeline", onclick: () => save() }, "Save") : null,
    !pipeline || ["owner", "editor", "runner"].includes(pipeline.role) ? h("button", { type: "button", id: "run-pipeline", onclick: runNow }, "Run") : null,
    !pipeline || ["owner", "editor", "runner"].includes(pipeline.role)
      ? h("button", { type: "button", id: "run-tests", title: "Run the tests in the document's tests: list (unsaved edits included; nothing is written)", onclick: testNow }, "Test")
      : null,
    revisionHint, presenceSlot);
  showRevision();
  // A new name is a change like any other (and reaches the others who have the pipeline open).
  name.addEventListener("change", () => { documentText(); noteChange(); });
  const runPanel = createRunPanel(selectNode);
  // The palette and the panel fold away (remembered in this browser); on a narrow window the palette starts folded.
  const panelWrap = h("div", { class: "panel-wrap" }, panel.element);
  const body = h("div", { class: "editor-body" }, palette, canvas.element, panelWrap);
  /**
   * @param {"palette"|"panel"} part
   * @param {string} label
   */
  const folder = (part, label) => {
    const key = `sluice.editor.fold.${part}`;
    const stored = localStorage.getItem(key);
    const button = h("button", { type: "button", class: "small fold", id: `fold-${part}`, "aria-expanded": "true", title: `Fold or unfold the ${label}` });
    const apply = (/** @type {boolean} */ folded) => {
      body.classList.toggle(`${part}-folded`, folded);
      button.setAttribute("aria-expanded", String(!folded));
      button.textContent = part === "palette" ? (folded ? "›" : "‹") : (folded ? "‹" : "›");
      button.setAttribute("aria-label", `${folded ? "Show" : "Hide"} the ${label}`);
      requestAnimationFrame(() => canvas.settle());
    };
    button.addEventListener("click", () => {
      const folded = !body.classList.contains(`${part}-folded`);
      localStorage.setItem(key, folded ? "1" : "0");
      apply(folded);
    });
    apply(stored === null ? part === "palette" && window.innerWidth < 900 : stored === "1");
    return button;
  };
  palette.prepend(folder("palette", "node types"));
  panelWrap.prepend(folder("panel", "settings panel"));
  // A saved pipeline opens on its working copy (the revision plus everyone's unsaved changes).
  await goLive()?.ready();
  show(view, h("div", { class: "editor" }, toolbar, debug?.element ?? "", status, conflict, testResults, body, dataPane.element, runPanel.element));
  view.classList.add("wide");
  renderPalette();
  savedText = documentText(); // a new pipeline: the empty one it starts as
  showRevision();
  render();
  canvas.fit(); // the whole pipeline in view on open
  debug?.describe();
  offerDraft();
  // A saved pipeline with changes, or a new one with nodes, asks before the page is left.
  // Live, the server keeps the working copy: only changes it has not acknowledged yet would be lost.
  leaveGuard.unsaved = () => canvas.element.isConnected && canEdit
    && (liveEditing ? liveEditing.pendingCount() > 0 : pipeline ? unsaved() : state.doc.nodes.length > 0);
  // Ctrl+S saves (while the editor is shown).
  const saveKey = (/** @type {KeyboardEvent} */ event) => {
    if (!canvas.element.isConnected) { document.removeEventListener("keydown", saveKey); return; }
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") { event.preventDefault(); if (canEdit) save(); }
  };
  document.addEventListener("keydown", saveKey);
  const afterDrag = () => { if (canvas.element.isConnected) noteChange(); else window.removeEventListener("pointerup", afterDrag); };
  window.addEventListener("pointerup", afterDrag);
  await renderSharing(sharing, pipeline, me);
  if (state.doc.nodes.length && pipeline) await validate();
  if (pastRun && pipeline) {
    const run = await api("GET", `/api/v1/runs/${pastRun}`);
    canvas.liveOverlay.reset(state.doc);
    canvas.liveOverlay.update(state.doc, { nodes: run.nodes ?? [] });
    runPanel.start(run.id);
    await runPanel.finish(run);
    await showRunData(run);
  }
  // For tests and tooling: the editor's state and actions.
  /** @type {any} */ (window).sluiceEditor = { doc: () => state.doc, connect, render, view: canvas.view, overlay: canvas.liveOverlay,
    live: () => liveEditing && { timings: liveEditing.timings, seq: liveEditing.doc.seq, pending: liveEditing.pendingCount(), unsaved: liveEditing.doc.unsaved },
    dropLive: () => liveEditing?.dropConnection() };
}

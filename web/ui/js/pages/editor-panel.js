// @ts-check
// The editor's settings panel, a view of the editor state: the pipeline overview (node picker, problems,
// sharing) when no node is selected, else the selected node's settings form rendered from its spec, checked
// while typing against the server's validation, with its edges; Preview data opens the data pane.
import { api } from "../api.js";
import { h, show } from "../dom.js";
import { renderFields } from "../form.js";
import { enhanceExpression } from "../expression-input.js";
import { outputsOf } from "../graph.js";
import { toYAML } from "../yaml.js";
import { connectionsSection, nodePicker } from "./editor-keyboard.js";

/**
 * @param {object} options
 * @param {import("../editor-state.js").EditorState} options.state
 * @param {string[]} options.connections names of the connections forms may pick
 * @param {string[]} [options.files] uploaded workspace files, suggested in path fields
 * @param {boolean} options.canEdit
 * @param {() => string} options.readOnlyRole the caller's role, for the read-only hint
 * @param {HTMLElement} options.sharing the sharing section shown in the overview
 * @param {(nodeId: string, settings: Record<string, unknown>, base: Record<string, unknown>, since?: number) => void} options.apply applies a node's
 *   settings as edited from `base` (what the form showed, as of live operation `since`)
 * @param {(nodeId: string) => void} options.selectNode selects a node from the keyboard
 * @param {(from: string, to: string) => boolean} options.connect
 * @param {(index: number) => void} options.removeEdge
 * @param {(index: number, where: string, select: string[]) => void} options.filterEdge sets an edge's where and select
 * @param {(nodeId: string) => void} options.preview shows a node's first rows in the data pane
 * @param {(point: string) => Node|string} options.breakpointSection the breakpoint toggle and condition of a node or an edge
 * @param {(nodeId: string) => string[]} options.columnsInto the columns arriving at a node's data inputs (as last checked)
 * @param {(nodeId: string) => string[]} options.notesOf what the last check noticed on a node
 * @param {(nodeId: string) => string[]} [options.editingNode] who else has the node's settings open (live editing)
 * @param {(nodeId: string, to: string) => void} [options.rename] gives a node another id
 * @param {() => number|undefined} [options.liveSeq] the last live operation shown (live editing)
 */
export function createPanel({ state, connections, files = [], canEdit, readOnlyRole, sharing, apply, selectNode, connect, removeEdge, filterEdge, preview, breakpointSection, columnsInto, notesOf,
  editingNode = () => [], liveSeq = () => undefined, rename = () => {} }) {
  const element = h("aside", { class: "panel", id: "panel", "aria-label": "Settings" });
  /** Whether something was typed in the panel since it was drawn (then others' changes do not redraw it). */
  let typing = false;
  element.addEventListener("input", () => { typing = true; });

  /**
   * Shows the overview or the selected node's settings, with the problems found by the last validation.
   * @param {any[]} problems
   */
  function render(problems) {
    typing = false;
    const doc = state.doc;
    const problemList = problems.length ? h("section", { class: "problems", "data-testid": "problems" }, h("h2", {}, `${problems.length} problem(s)`),
      h("ul", {}, ...problems.map((p) => h("li", {}, p.node ? h("strong", {}, p.node) : null, p.node ? ": " : "", p.message, p.field ? ` (${p.field})` : "", p.line ? ` — line ${p.line}` : "")))) : null;
    const selection = state.selection;
    if (selection?.kind === "edge") {
      const index = Number(selection.id);
      const edge = doc.edges[index];
      if (edge && edge.kind !== "signal") {
        const where = /** @type {HTMLInputElement} */ (h("input", { id: "edge-where", class: "code", value: edge.where ?? "", placeholder: "amount > 100 AND country = 'DE'", disabled: !canEdit }));
        const whereEditor = enhanceExpression(where, { columns: columnsInto(edge.to.slice(0, edge.to.lastIndexOf("."))) });
        const select = /** @type {HTMLInputElement} */ (h("input", { id: "edge-select", value: (edge.select ?? []).join(", "), placeholder: "id, amount (all columns when empty)", disabled: !canEdit }));
        show(element, h("h2", {}, "Edge"), h("p", {}, `${edge.from} → ${edge.to}`),
          h("p", { class: "hint" }, "Rows cross the edge only where the condition is true; select keeps the listed columns, in that order."),
          h("form", { "aria-label": "Edge filter", onsubmit: (/** @type {Event} */ event) => {
            event.preventDefault();
            filterEdge(index, where.value, select.value.split(",").map((c) => c.trim()).filter(Boolean));
          } }, h("label", { for: "edge-where" }, "where"), whereEditor.element, h("label", { for: "edge-select" }, "select"), select,
            canEdit ? h("p", { class: "row" }, h("button", { type: "submit", class: "primary", id: "edge-apply" }, "Apply"),
              h("button", { type: "button", class: "danger", onclick: () => removeEdge(index) }, "Remove edge")) : ""),
          breakpointSection(`${edge.from}->${edge.to}`), problemList ?? "");
        return;
      }
    }
    if (!selection || selection.kind !== "node") {
      show(element, h("h2", {}, "Pipeline"), h("p", { class: "hint" }, `${doc.nodes.length} node(s), ${doc.edges.length} edge(s). Drag node types from the palette (or press Enter on one); connect an output port (right) to an input port (left), or choose a node below and connect it from its Edges list. Arrow keys move the selection, Delete removes it.`),
        doc.nodes.length ? nodePicker(doc, selectNode) : "",
        canEdit ? "" : h("p", { class: "hint", id: "read-only" }, `Read only: your role on this pipeline is ${readOnlyRole()}.`),
        problemList ?? "", sharing);
      return;
    }
    const node = state.node(selection.id);
    if (!node) return;
    /** @type {any} */
    const spec = state.specOf(node.id);
    if (!spec) { show(element, h("p", { class: "error" }, `Unknown node type ${node.type}`)); return; }
    const fields = renderFields(spec.fields, { initial: node.settings ?? {}, idPrefix: `setting`, connections, files, columns: columnsInto(node.id),
      disabled: !canEdit, fold: true });
    for (const p of problems) if (p.node === node.id && p.field) fields.showError(p.field, p.message, { focus: false });
    const message = h("div");
    const base = JSON.parse(JSON.stringify(node.settings ?? {})), since = liveSeq();
    const alsoHere = editingNode(node.id);
    const newId = /** @type {HTMLInputElement} */ (h("input", { id: "node-id", value: node.id, "aria-label": "Node id", class: "code", size: 16 }));
    const renameForm = canEdit ? h("form", { class: "row rename", "aria-label": `Rename ${node.id}`, onsubmit: (/** @type {Event} */ event) => {
      event.preventDefault();
      rename(node.id, newId.value.trim());
    } }, newId, h("button", { type: "submit", id: "rename-node", class: "small" }, "Rename")) : "";
    show(element, h("h2", {}, node.id), renameForm, h("p", { class: "hint" }, `${spec.title} (${spec.reference}): ${spec.summary}`),
      alsoHere.length ? h("p", { class: "warning", "data-testid": "also-editing" },
        `${alsoHere.join(", ")} ${alsoHere.length > 1 ? "are" : "is"} editing this node too: changes to different settings merge; on the same setting the last applied wins.`) : "",
      ...notesOf(node.id).map((note) => h("p", { class: "warning", "data-testid": "node-note" }, `⚠ ${note}`)),
      h("form", { "aria-label": `Settings of ${node.id}`, onsubmit: (/** @type {Event} */ event) => {
        event.preventDefault();
        /** @type {Record<string, unknown>} */
        let settings;
        try { settings = fields.values().settings; } catch { show(message, h("p", { class: "error" }, "Some settings need attention.")); return; }
        apply(node.id, settings, base, since);
      } }, fields.element, message, h("p", { class: "row" },
        canEdit ? h("button", { type: "submit", class: "primary", id: "apply-settings" }, "Apply") : null,
        spec.outputs.some((/** @type {any} */ p) => p.kind === "data") ? h("button", { type: "button", id: "preview-node", onclick: () => preview(node.id) }, "Preview data") : null)),
      connectionsSection({ doc, specs: state.specs, nodeId: node.id, outputs: outputsOf(spec, node), canEdit, connect, removeEdge }),
      breakpointSection(node.id), problemList ?? "");
    if (canEdit) checkWhileTyping(fields, node.id);
  }

  /**
   * Checks the settings being typed, 400 ms after the last keystroke: values that do not parse are marked at
   * once; the rest go to the server's validation as a draft of the pipeline, and its errors on this node's
   * fields (expression syntax, unknown columns, wrong types) show under them. Nothing is applied until Apply.
   * @param {{element: HTMLElement, values: () => {settings: Record<string, unknown>}, showError: (name: string, message: string, options?: {focus?: boolean}) => boolean}} fields
   * @param {string} nodeId
   */
  function checkWhileTyping(fields, nodeId) {
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    let timer;
    let sequence = 0;
    fields.element.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const mine = ++sequence;
        /** @type {Record<string, unknown>} */
        let settings;
        try { settings = fields.values().settings; } catch { return; }
        /** @type {any} */
        let result;
        try { result = await api("POST", "/api/v1/pipelines/validate", { document: toYAML(state.draftWith(nodeId, settings)) }); } catch { return; }
        if (mine !== sequence || !fields.element.isConnected) return;
        for (const p of result.problems) if (p.node === nodeId && p.field) fields.showError(p.field, p.message, { focus: false });
      }, 400);
    });
  }

  // Typing, or about to: a field of the panel has the focus (a button does not count).
  const fieldFocused = () => { const active = document.activeElement; return !!active && element.contains(active) && active.matches("input, select, textarea"); };
  return { element, render, isTyping: () => typing || fieldFocused() };
}

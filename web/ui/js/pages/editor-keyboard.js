// @ts-check
// The editor without a pointer: pick a node from a list, see and remove the edges at a node, and connect each
// output port to an input chosen from those it may reach (the same rules as dragging an edge on the canvas).
import { h } from "../dom.js";
import { connectableTargets, splitRef } from "../graph.js";

/**
 * A labelled list of the pipeline's nodes; choosing one selects it (and shows its settings).
 * @param {{nodes: {id: string, type: string}[]}} doc
 * @param {(nodeId: string) => void} select
 */
export function nodePicker(doc, select) {
  const picker = /** @type {HTMLSelectElement} */ (h("select", { id: "go-to-node" }, h("option", { value: "" }, `— ${doc.nodes.length} node(s) —`),
    ...doc.nodes.map((n) => h("option", { value: n.id }, `${n.id} (${n.type})`))));
  picker.addEventListener("change", () => { if (picker.value) select(picker.value); });
  return h("p", { class: "row" }, h("label", { for: "go-to-node" }, "Go to node"), picker);
}

/**
 * The edges at a node (each removable) and, per output port, a chooser of the inputs it may connect to.
 * @param {{doc: any, specs: any[], nodeId: string, outputs: {name: string, kind: string}[], canEdit: boolean,
 *   connect: (from: string, to: string) => boolean, removeEdge: (index: number) => void}} options
 */
export function connectionsSection({ doc, specs, nodeId, outputs, canEdit, connect, removeEdge }) {
  const touching = doc.edges.map((/** @type {any} */ edge, /** @type {number} */ index) => ({ edge, index }))
    .filter((/** @type {any} */ { edge }) => splitRef(edge.from).node === nodeId || splitRef(edge.to).node === nodeId);
  const list = touching.length
    ? h("ul", { class: "edge-list" }, ...touching.map((/** @type {any} */ { edge, index }) => h("li", {}, `${edge.from} → ${edge.to} `,
      canEdit ? h("button", { type: "button", class: "small", "aria-label": `Remove the edge ${edge.from} → ${edge.to}`, onclick: () => removeEdge(index) }, "Remove") : null)))
    : h("p", { class: "hint" }, "No edges yet.");
  const choosers = canEdit ? outputs.map((port) => {
    const from = `${nodeId}.${port.name}`;
    const targets = connectableTargets(doc, specs, from);
    const id = `connect-${port.name}`;
    const chooser = /** @type {HTMLSelectElement} */ (h("select", { id, "data-port": from },
      h("option", { value: "" }, targets.length ? "— choose an input —" : "— no input can take it —"),
      ...targets.map((to) => h("option", { value: to }, to))));
    return h("p", { class: "row" }, h("label", { for: id }, `Connect ${port.name} (${port.kind}) to`), chooser,
      h("button", { type: "button", id: `${id}-button`, onclick: () => { if (chooser.value) connect(from, chooser.value); } }, "Connect"));
  }) : [];
  return h("section", { class: "connections", "aria-label": `Edges of ${nodeId}` }, h("h3", {}, "Edges"), list, ...choosers);
}

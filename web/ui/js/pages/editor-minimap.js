// @ts-check
// The canvas's minimap: every node as a small box, the part in view as a frame; pressing or dragging on it
// moves the view there. Redrawn with the canvas; the frame alone follows pans and zooms.
import { h, svg } from "../dom.js";

export const MINIMAP_WIDTH = 150, MINIMAP_HEIGHT = 96;

/**
 * @param {{centreAt: (x: number, y: number) => void}} options moves the view so canvas point (x, y) is in the middle
 */
export function createMinimap({ centreAt }) {
  const nodes = svg("g", { class: "minimap-nodes" });
  const frame = svg("rect", { class: "minimap-frame", x: 0, y: 0, width: 0, height: 0 });
  const picture = svg("svg", { width: MINIMAP_WIDTH, height: MINIMAP_HEIGHT, viewBox: `0 0 ${MINIMAP_WIDTH} ${MINIMAP_HEIGHT}` });
  picture.append(nodes, frame);
  const element = h("div", { class: "minimap", id: "minimap", "aria-hidden": "true", title: "Overview: press or drag to move the view" }, picture);
  /** The world area drawn: its top left and the scale from world to minimap pixels. */
  let world = { x: 0, y: 0, scale: 1 };

  /**
   * Moves the view to the canvas point under the pointer.
   * @param {PointerEvent} event
   */
  const follow = (event) => {
    const box = picture.getBoundingClientRect();
    centreAt(world.x + (event.clientX - box.left) / world.scale, world.y + (event.clientY - box.top) / world.scale);
  };
  element.addEventListener("pointerdown", (event) => {
    event.stopPropagation();
    event.preventDefault();
    follow(event);
    const move = (/** @type {PointerEvent} */ e) => follow(e);
    const up = () => { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  });

  return {
    element,
    /**
     * Draws the nodes (their rects in canvas coordinates), fitted into the minimap with the view's area.
     * @param {{x: number, y: number, w: number, h: number}[]} rects
     * @param {{x: number, y: number, w: number, h: number}} visible the canvas area in view
     */
    draw(rects, visible) {
      element.hidden = rects.length === 0;
      if (!rects.length) return;
      let left = Math.min(visible.x, ...rects.map((r) => r.x)), top = Math.min(visible.y, ...rects.map((r) => r.y));
      let right = Math.max(visible.x + visible.w, ...rects.map((r) => r.x + r.w)), bottom = Math.max(visible.y + visible.h, ...rects.map((r) => r.y + r.h));
      const pad = 20;
      left -= pad; top -= pad; right += pad; bottom += pad;
      const scale = Math.min(MINIMAP_WIDTH / (right - left), MINIMAP_HEIGHT / (bottom - top));
      world = { x: left, y: top, scale };
      nodes.replaceChildren(...rects.map((r) => svg("rect", { x: ((r.x - left) * scale).toFixed(1), y: ((r.y - top) * scale).toFixed(1),
        width: Math.max(1.5, r.w * scale).toFixed(1), height: Math.max(1.5, r.h * scale).toFixed(1) })));
      this.frame(visible);
    },
    /**
     * Moves the frame to the area in view.
     * @param {{x: number, y: number, w: number, h: number}} visible
     */
    frame(visible) {
      frame.setAttribute("x", ((visible.x - world.x) * world.scale).toFixed(1));
      frame.setAttribute("y", ((visible.y - world.y) * world.scale).toFixed(1));
      frame.setAttribute("width", (visible.w * world.scale).toFixed(1));
      frame.setAttribute("height", (visible.h * world.scale).toFixed(1));
    },
  };
}

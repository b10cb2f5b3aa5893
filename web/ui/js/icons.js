// @ts-check
// The node icons every node spec names (`icon`), as stroked paths in a 16×16 box, drawn in each node's header.
// Drawn for Sluice; an unknown name draws a plain square so a new node type never breaks the canvas.

/** @type {Record<string, string>} */
const PATHS = {
  "file-csv": "M4 1.5h5l3 3v10H4z M9 1.5v3h3 M6 8h4 M6 10.5h4",
  "file-code": "M4 1.5h5l3 3v10H4z M9 1.5v3h3 M7 8 5.5 9.5 7 11 M9 8l1.5 1.5L9 11",
  "file-export": "M3 1.5h5l3 3v3 M3 1.5v13h8v-3 M8 1.5v3h3 M9 10h6 M13 8l2 2-2 2",
  copy: "M5.5 4.5h8v10h-8z M2.5 11.5v-10h8",
  database: "M2.5 3.5c0-1.1 2.5-2 5.5-2s5.5.9 5.5 2-2.5 2-5.5 2-5.5-.9-5.5-2z M2.5 3.5v9c0 1.1 2.5 2 5.5 2s5.5-.9 5.5-2v-9 M2.5 8c0 1.1 2.5 2 5.5 2s5.5-.9 5.5-2",
  globe: "M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13z M1.5 8h13 M8 1.5c2 2 2 11 0 13 M8 1.5c-2 2-2 11 0 13",
  funnel: "M1.5 2.5h13l-5 6v5l-3 1.5v-6.5z",
  function: "M11.5 2.5c-2 0-3 1-3 3v5c0 2-1 3-3 3 M5.5 7h5",
  columns: "M2 2h12v12H2z M6 2v12 M10 2v12",
  "rows-3": "M2 2h12v12H2z M2 6h12 M2 10h12",
  "table-2": "M2 2h12v12H2z M2 6h12 M2 10h12 M7 2v12",
  sigma: "M12 4V2.5H4l4.5 5.5L4 13.5h8V12",
  "bar-chart": "M3.5 14V8 M8 14V3 M12.5 14V6 M1.5 14.5h13",
  merge: "M4 2v3c0 3 4 4 4 7v2.5 M12 2v3c0 3-4 4-4 7",
  split: "M8 14.5V9 M8 9C8 6 4 5 4 2 M8 9c0-3 4-4 4-7",
  layers: "M8 1.5l6.5 3.5L8 8.5 1.5 5z M1.5 8.5 8 12l6.5-3.5 M1.5 11.5 8 15l6.5-3.5",
  "copy-minus": "M5 5h9v9H5z M2 11V2h9 M7.5 9.5h4",
  scissors: "M2 4a2 2 0 1 0 4 0a2 2 0 1 0-4 0z M2 12a2 2 0 1 0 4 0a2 2 0 1 0-4 0z M5.6 5.4 14 13 M5.6 10.6 14 3",
  "arrow-down-wide-narrow": "M4 2v12 M1.5 11.5 4 14l2.5-2.5 M8 3h7 M8 6.5h5 M8 10h3",
  mail: "M1.5 3.5h13v9h-13z M1.5 3.5 8 9l6.5-5.5",
  "message-square": "M2 2.5h12V11H6l-4 3z",
  package: "M8 1.5l6 3v7l-6 3-6-3v-7z M2 4.5l6 3 6-3 M8 7.5v7",
  "panels-top-left": "M2 2h12v12H2z M2 6h12 M6 6v8",
  scroll: "M4 2.5h8.5V12a2 2 0 0 1-2 2H3.5a1.5 1.5 0 0 1 0-3H4z M6.5 5.5h3.5 M6.5 8h3.5",
  send: "M14.5 1.5 7 9 M14.5 1.5 10 14.5 7 9 1.5 6z",
  "shield-check": "M8 1.5l5.5 2v4c0 3.5-2.5 6-5.5 7-3-1-5.5-3.5-5.5-7v-4z M5.5 8l2 2 3-3.5",
  terminal: "M2.5 4 6 7.5 2.5 11 M8 12h5.5",
  upload: "M8 11V2 M4.5 5.5 8 2l3.5 3.5 M2 11v3h12v-3",
};

/**
 * The path data of icon `name` (a plain square for an unknown name).
 * @param {string|undefined} name
 */
export const iconPath = (name) => PATHS[name ?? ""] ?? "M3 3h10v10H3z";

/** The icon names drawn here (for the unit test that every node spec's icon is one of them). */
export const iconNames = () => Object.keys(PATHS);

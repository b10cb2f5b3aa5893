// @ts-check
// Writes a pipeline document as YAML (block style, strings double-quoted): what the editor saves, so a document
// exported from the UI reads well in git. Pure; the server parses it back (YAML is read only on the server).

const KEY_ORDER = ["apiVersion", "name", "description", "parameters", "settings", "notify", "nodes", "edges", "layout", "triggers"];
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * @param {string} key
 */
function key(key) { return PLAIN_KEY.test(key) ? key : JSON.stringify(key); }

/**
 * @param {unknown} value
 * @returns {boolean}
 */
function isScalar(value) { return value === null || typeof value !== "object" || (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0); }

/**
 * @param {unknown} value
 * @returns {string}
 */
function scalar(value) {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "[]";
  if (typeof value === "object") return "{}";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/**
 * @param {unknown} value
 * @param {number} indent
 * @returns {string[]}
 */
function lines(value, indent) {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (isScalar(item)) return [`${pad}- ${scalar(item)}`];
      if (Array.isArray(item)) return [`${pad}-`, ...lines(item, indent + 2)];
      const inner = lines(item, indent + 2);
      return [`${pad}- ${inner[0].slice(indent + 2)}`, ...inner.slice(1)];
    });
  }
  const object = /** @type {Record<string, unknown>} */ (value);
  return Object.entries(object).filter(([, v]) => v !== undefined).flatMap(([k, v]) =>
    isScalar(v) ? [`${pad}${key(k)}: ${scalar(v)}`] : [`${pad}${key(k)}:`, ...lines(v, indent + 2)]);
}

/**
 * The document as YAML text, top-level keys in the usual order.
 * @param {Record<string, unknown>} document
 * @returns {string}
 */
export function toYAML(document) {
  /**
   * @type {Record<string, unknown>}
   */
  const ordered = {};
  for (const k of KEY_ORDER) if (document[k] !== undefined) ordered[k] = document[k];
  for (const [k, v] of Object.entries(document)) if (!(k in ordered) && v !== undefined) ordered[k] = v;
  return lines(ordered, 0).join("\n") + "\n";
}

// @ts-check
// A tiny element builder: text is always text (never parsed as HTML).

/**
 * @param {string} tag
 * @param {Record<string, any>} [attributes]  on* handlers, `class`, booleans and strings
 * @param {...(Node|string|number|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * An SVG element with attributes (set as text).
 * @param {string} tag
 * @param {Record<string, string|number>} [attributes]
 * @returns {SVGElement}
 */
export function svg(tag, attributes = {}) {
  const element = /** @type {SVGElement} */ (document.createElementNS("http://www.w3.org/2000/svg", tag));
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/**
 * Replaces an element's content.
 * @param {Element} element
 * @param {...(Node|string)} children
 */
export function show(element, ...children) {
  element.replaceChildren(...children);
}

/**
 * A readable local time for Unix milliseconds.
 * @param {number|null|undefined} millis
 */
export function time(millis) {
  return millis ? new Date(millis).toLocaleString() : "—";
}

/**
 * A message element for an error (the API's message, with its field).
 * @param {any} error
 */
export function errorText(error) {
  const field = error && error.field ? ` (${error.field})` : "";
  return h("p", { class: "error", role: "alert" }, (error && error.message ? error.message : String(error)) + field);
}

/**
 * Saves text as a file through the browser (for content fetched with the access token, which a plain link cannot send).
 * @param {string} name
 * @param {string} text
 * @param {string} [type]
 */
export function download(name, text, type = "application/octet-stream") {
  h("a", { href: URL.createObjectURL(new Blob([text], { type })), download: name }).click();
}

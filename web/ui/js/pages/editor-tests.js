// @ts-check
// Running the pipeline's own tests (`tests:` in its document) from the editor: the document as the canvas shows
// it is sent, so unsaved edits are tested; each test's outcome is listed with what differed.
import { api } from "../api.js";
import { h, show } from "../dom.js";

/**
 * Runs the tests and shows their outcomes in `box`.
 * @param {HTMLElement} box
 * @param {string} pipelineID
 * @param {string} documentText the draft as YAML
 */
export async function runTests(box, pipelineID, documentText) {
  show(box, h("p", { class: "hint", role: "status" }, "Running the pipeline's tests…"));
  /** @type {any} */
  let outcome;
  try {
    outcome = await api("POST", `/api/v1/pipelines/${pipelineID}/tests`, { document: documentText });
  } catch (error) {
    show(box, h("p", { class: "error", "data-testid": "test-results" }, /** @type {Error} */ (error).message));
    return;
  }
  show(box, h("section", { class: "card test-results", "data-testid": "test-results", "aria-label": "Test results" },
    h("div", { class: "row" },
      h("strong", { class: outcome.failed ? "bad" : "ok" }, `Tests: ${outcome.passed} passed, ${outcome.failed} failed`),
      h("button", { type: "button", onclick: () => show(box) }, "Close")),
    h("ul", { class: "test-list" }, ...outcome.tests.map((/** @type {any} */ test) =>
      h("li", { class: test.passed ? "passed" : "failed", "data-test": test.name },
        h("span", { class: test.passed ? "ok" : "bad" }, test.passed ? "✔ " : "✘ "), `${test.name} `, h("span", { class: "hint" }, `(${test.duration_ms} ms)`),
        test.failures.length ? h("pre", { class: "test-failure" }, test.failures.join("\n")) : null)))));
}

// @ts-check
// Unsaved work and leaving the page: a page with unsaved changes (the editor) registers a check; moving to
// another page of the app, reloading or closing the tab then asks first.

/** @type {{unsaved: (() => boolean)|null, current: string}} */
export const leaveGuard = { unsaved: null, current: location.hash };

export const leaveQuestion = "You have unsaved changes in this pipeline. Leave without saving them? (A draft stays in this browser: opening the pipeline again offers it back.)";

/**
 * Changes the address without a page change (a new pipeline got its id), so a refused leave comes back here.
 * @param {string} hash
 */
export function replaceHash(hash) {
  history.replaceState(null, "", hash);
  leaveGuard.current = hash;
}

window.addEventListener("beforeunload", (event) => {
  if (leaveGuard.unsaved?.()) { event.preventDefault(); event.returnValue = ""; }
});

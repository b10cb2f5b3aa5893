// @ts-check
// Files uploaded into the workspace (uploads/<user>/…), for pipelines to read: drop or choose files, watch
// each upload's progress, copy a file's path for a node's `path` setting, delete your own.
import { api, uploadFile } from "../api.js";
import { errorText, h, show, time } from "../dom.js";

/**
 * A byte count for people: 1.2 MB.
 * @param {number} bytes
 */
export function sizeText(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * @param {HTMLElement} view
 * @param {any} me
 */
export async function filesPage(view, me) {
  const listing = await api("GET", "/api/v1/files");
  const folder = /** @type {HTMLInputElement} */ (h("input", { id: "upload-folder", value: listing.home, "aria-describedby": "upload-folder-hint" }));
  const chooser = /** @type {HTMLInputElement} */ (h("input", { type: "file", id: "upload-input", multiple: true, class: "visually-hidden" }));
  const uploads = h("ul", { class: "uploads", "aria-label": "Uploads in progress", "aria-live": "polite" });
  const message = h("div");

  /**
   * Uploads the files one after another, each with its own progress bar; reloads the list when done.
   * @param {FileList|File[]} files
   */
  async function send(files) {
    let prefix = folder.value.trim();
    if (prefix && !prefix.endsWith("/")) prefix += "/";
    let failed = false;
    for (const file of Array.from(files)) {
      const bar = /** @type {HTMLProgressElement} */ (h("progress", { max: "1", value: "0", "aria-label": `Uploading ${file.name}` }));
      const state = h("span", { class: "hint" }, sizeText(file.size));
      const row = h("li", { "data-testid": "upload" }, h("span", { class: "name" }, file.name), bar, state);
      uploads.append(row);
      try {
        const stored = await uploadFile(prefix + file.name, file, (fraction) => { bar.value = fraction; });
        show(state, `stored as ${stored.path}`);
      } catch (error) {
        failed = true;
        row.append(errorText(error));
      }
    }
    if (!failed) await filesPage(view, me);
  }

  const zone = h("div", { class: "drop-zone", "data-testid": "drop-zone", tabindex: "0", role: "button", "aria-label": "Upload files: drop them here or press Enter to choose",
    onclick: () => chooser.click(),
    onkeydown: (/** @type {KeyboardEvent} */ event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); chooser.click(); } },
    ondragover: (/** @type {DragEvent} */ event) => { event.preventDefault(); zone.classList.add("over"); },
    ondragleave: () => zone.classList.remove("over"),
    ondrop: (/** @type {DragEvent} */ event) => {
      event.preventDefault();
      zone.classList.remove("over");
      if (event.dataTransfer?.files.length) send(event.dataTransfer.files).catch((error) => show(message, errorText(error)));
    } }, h("strong", {}, "Drop files here"), " or click to choose them");
  chooser.onchange = () => { if (chooser.files?.length) send(chooser.files).catch((error) => show(message, errorText(error))); };

  const mine = (/** @type {string} */ path) => me.role === "admin" || path.startsWith(listing.home);
  const rows = listing.files.map((/** @type {any} */ file) => h("tr", {},
    h("td", { class: "name" }, h("code", {}, file.path)),
    h("td", { class: "number" }, sizeText(file.size)),
    h("td", {}, time(file.modified)),
    h("td", { class: "actions" },
      h("button", { type: "button", title: "Copy the path for a file node's path setting", onclick: async () => {
        await navigator.clipboard?.writeText(file.path).catch(() => {});
      } }, "Copy path"),
      mine(file.path) ? h("button", { type: "button", class: "danger", onclick: async () => {
        if (!confirm(`Delete ${file.path}? Pipelines reading it will fail.`)) return;
        try { await api("DELETE", "/api/v1/files?path=" + encodeURIComponent(file.path)); await filesPage(view, me); } catch (error) { show(message, errorText(error)); }
      } }, "Delete") : null)));

  show(view, h("h1", {}, "Files"),
    h("p", { class: "hint" }, "Files uploaded here live in the server's workspace; file nodes read them by the path shown (e.g. ", h("code", {}, `${listing.home}orders.csv`),
      "). You upload into your own folder; an existing file of the same name is replaced once the upload completes."),
    h("section", { class: "card" }, h("h2", {}, "Upload"),
      h("label", { for: "upload-folder" }, "Folder"), folder, h("div", { class: "hint", id: "upload-folder-hint" }, "Where the files go; members upload inside ", h("code", {}, listing.home), "."),
      zone, chooser, uploads, message),
    listing.files.length === 0
      ? h("p", { class: "empty" }, "No files uploaded yet.")
      : h("table", { "aria-label": "Uploaded files" }, h("thead", {}, h("tr", {}, h("th", {}, "Path"), h("th", {}, "Size"), h("th", {}, "Modified"), h("th", {}, ""))),
        h("tbody", {}, ...rows)));
}

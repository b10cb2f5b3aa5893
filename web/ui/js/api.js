// @ts-check
// Every request the UI makes goes through here: tokens, refresh on 401, and the error envelope.

/** An API error decoded from `{"error":{"code","message","node","field"}}`. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string|null} [field]
   * @param {string|null} [node]
   */
  constructor(status, code, message, field = null, node = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.node = node;
  }
}

const ACCESS = "sluice.access";
const REFRESH = "sluice.refresh";

/** @returns {string|null} */
export function accessToken() { return sessionStorage.getItem(ACCESS); }

/**
 * @returns {boolean}
 */
export function signedIn() { return sessionStorage.getItem(ACCESS) !== null; }

/**
 * @param {{access_token: string, refresh_token: string}} pair
 */
export function keepTokens(pair) {
  sessionStorage.setItem(ACCESS, pair.access_token);
  sessionStorage.setItem(REFRESH, pair.refresh_token);
}

export function forgetTokens() {
  sessionStorage.removeItem(ACCESS);
  sessionStorage.removeItem(REFRESH);
}

/**
 * Decodes an error response into an ApiError.
 * @param {number} status
 * @param {string} text
 * @returns {ApiError}
 */
export function decodeError(status, text) {
  try {
    const body = JSON.parse(text);
    if (body && body.error) return new ApiError(status, body.error.code ?? "error", body.error.message ?? text, body.error.field ?? null, body.error.node ?? null);
  } catch { /* not JSON */ }
  return new ApiError(status, "http_" + status, text || `HTTP ${status}`);
}

/**
 * @returns {Promise<boolean>}
 */
async function refresh() {
  const token = sessionStorage.getItem(REFRESH);
  if (!token) return false;
  const response = await fetch("/api/v1/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: token }) });
  if (!response.ok) { forgetTokens(); return false; }
  keepTokens(await response.json());
  return true;
}

/**
 * Calls the API. JSON in, JSON out (text for non-JSON answers, null for 204).
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  for (let attempt = 0; attempt < 2; attempt++) {
    /**
     * @type {Record<string, string>}
     */
    const headers = {};
    const access = sessionStorage.getItem(ACCESS);
    if (access) headers["Authorization"] = "Bearer " + access;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401 && attempt === 0 && access && !path.startsWith("/api/v1/auth/") && await refresh()) continue;
    const text = await response.text();
    if (!response.ok) {
      const error = decodeError(response.status, text);
      if (response.status === 401) { forgetTokens(); window.dispatchEvent(new CustomEvent("sluice:signed-out")); }
      throw error;
    }
    if (response.status === 204 || text === "") return null;
    return (response.headers.get("Content-Type") ?? "").startsWith("application/json") ? JSON.parse(text) : text;
  }
}

/**
 * A pipeline document's JSON form (the server reads the YAML), with `nodes` and `edges` always present.
 * @param {string} text
 * @returns {Promise<any>}
 */
export async function parseDocument(text) {
  const document = (await api("POST", "/api/v1/pipelines/parse", { document: text })).document;
  document.nodes ??= [];
  document.edges ??= [];
  return document;
}

/**
 * Uploads a file's bytes to `path` in the workspace (`POST /api/v1/files`), reporting progress (0 to 1). Uses
 * XMLHttpRequest: fetch reports no upload progress. Refreshes the access token once on 401, like `api`.
 * @param {string} path workspace path, e.g. uploads/ann/orders.csv
 * @param {Blob} file
 * @param {(fraction: number) => void} onProgress
 * @returns {Promise<any>} the stored file
 */
export async function uploadFile(path, file, onProgress) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const access = sessionStorage.getItem(ACCESS);
    const { status, text } = await new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("POST", "/api/v1/files?path=" + encodeURIComponent(path));
      if (access) request.setRequestHeader("Authorization", "Bearer " + access);
      request.setRequestHeader("Content-Type", "application/octet-stream");
      request.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
      request.onload = () => resolve({ status: request.status, text: request.responseText });
      request.onerror = () => reject(new ApiError(0, "network_error", "the upload was interrupted (network error)"));
      request.send(file);
    });
    if (status === 401 && attempt === 0 && access && await refresh()) continue;
    if (status < 200 || status >= 300) throw decodeError(status, text);
    onProgress(1);
    return JSON.parse(text);
  }
}

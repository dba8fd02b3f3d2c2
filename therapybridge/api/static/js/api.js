// The gateway's HTTP API: tokens (kept per browser tab in sessionStorage), JSON requests with one
// silent refresh on 401, uploads with progress, authenticated downloads, and what this server offers
// (read once from its OpenAPI description, so optional endpoints light up when they exist).

const TOKENS_KEY = "tb.tokens";
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail || `HTTP ${status}`;
  }
}

function readTokens() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "null");
  } catch {
    return null;
  }
}

function writeTokens(tokens) {
  if (tokens) sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  else sessionStorage.removeItem(TOKENS_KEY);
  listeners.forEach((fn) => fn(tokens));
}

function jwtExpiry(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part)).exp * 1000;
  } catch {
    return 0;
  }
}

async function detailOf(resp) {
  try {
    const body = await resp.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
  } catch {
    /* not JSON */
  }
  return resp.statusText || `HTTP ${resp.status}`;
}

export const auth = {
  get signedIn() {
    return Boolean(readTokens());
  },
  onChange(fn) {
    listeners.add(fn);
  },
  async login(email, password) {
    const body = new URLSearchParams({ username: email, password });
    const resp = await fetch("/api/auth/token", { method: "POST", body });
    if (!resp.ok) throw new ApiError(resp.status, resp.status === 401 ? "Wrong email or password." : await detailOf(resp));
    writeTokens(await resp.json());
  },
  logout() {
    // The server removes an administrator's codec cookie (the Temporal UI's access to the codec).
    const tokens = readTokens();
    if (tokens) fetch("/api/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${tokens.access_token}` } }).catch(() => {});
    writeTokens(null);
  },
  _refreshing: null,
  async refresh() {
    const tokens = readTokens();
    if (!tokens) throw new ApiError(401, "not signed in");
    if (!this._refreshing) {
      this._refreshing = (async () => {
        const resp = await fetch("/api/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: tokens.refresh_token }),
        });
        if (!resp.ok) {
          writeTokens(null);
          throw new ApiError(401, "Your session has expired. Please sign in again.");
        }
        writeTokens(await resp.json());
      })().finally(() => {
        this._refreshing = null;
      });
    }
    await this._refreshing;
  },
  /** A valid access token, refreshed first when it expires within a minute. */
  async accessToken() {
    const tokens = readTokens();
    if (!tokens) throw new ApiError(401, "not signed in");
    if (jwtExpiry(tokens.access_token) - Date.now() < 60_000) await this.refresh();
    return readTokens().access_token;
  },
  /** A ticket for one session's progress stream (single use) or audio: what a URL carries instead of
   * the access token, which would end up in proxy access logs. */
  async ticket(sessionId, purpose = "stream") {
    const out = await request("POST", "/api/auth/ticket", { json: { session_id: sessionId, purpose } });
    return out.ticket;
  },
};

async function send(method, path, { json, form, query, headers = {} } = {}, retried = false) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  const init = { method, headers: { ...headers } };
  if (auth.signedIn) init.headers.Authorization = `Bearer ${await auth.accessToken()}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  const resp = await fetch(url, init);
  if (resp.status === 401 && auth.signedIn && !retried) {
    await auth.refresh();
    return send(method, path, { json, form, query, headers }, true);
  }
  if (resp.status === 401) auth.logout();
  return resp;
}

/** JSON request; throws ApiError with the server's `detail` on failure. */
export async function request(method, path, options = {}) {
  const resp = await send(method, path, options);
  if (!resp.ok) throw new ApiError(resp.status, await detailOf(resp));
  if (resp.status === 204) return null;
  const type = resp.headers.get("content-type") || "";
  return type.includes("json") ? resp.json() : resp.text();
}

/** GET that returns the raw Response (the caller looks at the content type). */
export async function fetchRaw(path, options = {}) {
  const resp = await send("GET", path, options);
  if (!resp.ok) throw new ApiError(resp.status, await detailOf(resp));
  return resp;
}

function filenameFrom(resp, fallback) {
  const cd = resp.headers.get("content-disposition") || "";
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  return m ? decodeURIComponent(m[1]) : fallback;
}

/** Fetch with the bearer token and hand the browser the file to save. */
export async function download(path, fallbackName) {
  const resp = await fetchRaw(path);
  const blob = await resp.blob();
  saveBlob(blob, filenameFrom(resp, fallbackName));
}

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Upload a recording (multipart, streamed by the browser) with progress events.
 * Returns {promise, abort}; the promise resolves to the session document (202).
 */
export function uploadSession(file, fields, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = (async () => {
    const token = await auth.accessToken();
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null && v !== "") form.append(k, v);
    form.append("file", file, file.name);
    return new Promise((resolve, reject) => {
      xhr.open("POST", "/api/sessions/upload");
      xhr.setRequestHeader("Authorization", `Bearer ${token}`);
      xhr.setRequestHeader("Idempotency-Key", crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);
      xhr.responseType = "json";
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
        else {
          const d = xhr.response && xhr.response.detail;
          reject(new ApiError(xhr.status, typeof d === "string" ? d : Array.isArray(d) ? d.map((x) => x.msg).join("; ") : null));
        }
      };
      xhr.onerror = () => reject(new ApiError(0, "The upload was interrupted. Check the connection and try again."));
      xhr.onabort = () => reject(new ApiError(0, "Upload cancelled."));
      xhr.send(form);
    });
  })();
  return { promise, abort: () => xhr.abort() };
}

let capsPromise = null;

/** What this server offers beyond the core API (optional endpoints), from /openapi.json. */
export function capabilities() {
  if (!capsPromise) {
    capsPromise = (async () => {
      const caps = { audio: false, speakers: false, notes: false, config: false, signoff: false, corrections: false, noteFiles: false };
      try {
        const resp = await fetch("/openapi.json");
        const paths = Object.entries((await resp.json()).paths || {}).map(([p, ops]) => [p.replace(/\{[^}]+\}/g, "{}"), ops]);
        const has = (path, method) => paths.some(([p, ops]) => p === path && ops[method]);
        caps.audio = has("/api/sessions/{}/audio", "get");
        caps.speakers = has("/api/sessions/{}/speakers", "patch");
        caps.notes = has("/api/sessions/{}/notes", "get");
        caps.config = has("/api/config", "get");
        caps.signoff = has("/api/sessions/{}/signoff", "get");
        caps.corrections = has("/api/sessions/{}/transcript/versions", "get");
        caps.noteFiles = has("/api/sessions/{}/note.pdf", "get");
      } catch {
        /* an older server: the core only */
      }
      return caps;
    })();
  }
  return capsPromise;
}

const DEFAULT_CONFIG = {
  max_upload_size_mb: 500,
  allowed_extensions: [".wav", ".mp3", ".m4a", ".mp4", ".flac", ".ogg", ".oga", ".opus", ".webm", ".aac"],
  retain_audio: false,
};

/** Upload limits: the server's own (GET /api/config) where it offers them. */
export async function uploadConfig() {
  const caps = await capabilities();
  if (caps.config) {
    try {
      return { ...DEFAULT_CONFIG, ...(await request("GET", "/api/config")) };
    } catch {
      /* fall back */
    }
  }
  return DEFAULT_CONFIG;
}

// The service's HTTP API, every call with the officer's bearer token.
// Errors come back as problem+json (RFC 9457); `ApiError` carries its detail and field.

const TOKEN_KEY = "deconfliction.token";

export class ApiError extends Error {
  constructor(status, problem) {
    const where = problem.field ? ` (${problem.field})` : "";
    super(`${problem.detail || problem.title || `HTTP ${status}`}${where}`);
    this.status = status;
    this.field = problem.field || null;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${token.get()}`, ...extra };
}

async function call(method, path, body) {
  const headers = authHeaders(body === undefined ? {} : { "Content-Type": "application/json" });
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = { title: response.statusText };
    }
    throw new ApiError(response.status, problem);
  }
  return response.json();
}

export const api = {
  me: () => call("GET", "/v1/me"),
  notices: () => call("GET", "/v1/notices"),
  conflicts: () => call("GET", "/v1/conflicts"),
  events: (after, limit = 1000) => call("GET", `/v1/events?after=${after}&limit=${limit}`),
  file: (collection) => call("POST", "/v1/notices", collection),
  amend: (id, collection) => call("POST", `/v1/notices/${id}/amend`, collection),
  cancel: (id) => call("POST", `/v1/notices/${id}/cancel`),
  acknowledge: (id) => call("POST", `/v1/conflicts/${id}/ack`),
  readback: (collection) => call("POST", "/v1/readback", collection),
  messages: () => call("GET", "/v1/messages"),
  send: (message) => call("POST", "/v1/messages", message),
  receipts: (ids) => call("POST", "/v1/receipts", { ids }),
  answer: (id, reply, comment) => call("POST", `/v1/messages/${id}/ack`,
    comment ? { reply, comment } : { reply }),
  channels: () => call("GET", "/v1/channels"),
  setChannel: (party, channel, action) => call("POST",
    `/v1/channels/${encodeURIComponent(party)}/${encodeURIComponent(channel)}/${action}`),
  encounters: () => call("GET", "/v1/encounters"),
};

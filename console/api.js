// The console calls bluegate's own API, authenticated by the session cookie; every change
// carries the session's CSRF token.
let csrf = '';

export function setCsrf(token) { csrf = token; }
export function csrfToken() { return csrf; }

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? body?.error_message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  let json = null;
  try { json = await res.json(); } catch { json = null; }
  if (res.status === 401) location.reload();  // the session ended: back to the sign-in form
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

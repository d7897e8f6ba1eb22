// The daemon's API from the page: same origin, the login cookie authenticates every call.
// Errors become ApiError; show() puts one in the page's error banner ([data-testid=error]).
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorOf(res) {
  let code = 'http_' + res.status;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch {
    // Not a JSON error body: keep the status line.
  }
  if (res.status === 401) {
    // The cookie expired or was cleared: back to the login page.
    location.href = '/login';
  }
  return new ApiError(res.status, code, message);
}

export async function send(url, init) {
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin', ...init });
  } catch (e) {
    throw new ApiError(0, 'network', `cannot reach the daemon: ${e.message}`);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function getJSON(url) {
  return (await send(url)).json();
}

// Runs a statement of the query language. Returns an array of rows, or {text} for the verbs
// that answer text (diff, blame in text form).
// With maxRows, at most that many rows come back, and the array's `truncated` is true when the
// answer had more (the daemon stops reading there: X-Tinkerbell-Truncated).
export async function query(q, { maxRows = 0 } = {}) {
  const res = await send('/v1/query', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(maxRows ? { query: q, format: 'json', max_rows: maxRows } : { query: q, format: 'json' }),
  });
  const text = await res.text();
  try {
    const v = JSON.parse(text);
    if (Array.isArray(v)) {
      v.truncated = res.headers.has('X-Tinkerbell-Truncated');
      return v;
    }
  } catch {
    // A text verb.
  }
  return { text };
}

// One event as JSON (the event view of docs/events.md).
export async function eventAt(lsn) {
  const rows = await query(`events | where lsn == ${Number(lsn)}`);
  return Array.isArray(rows) ? rows[0] : undefined;
}

const banner = () => document.querySelector('[data-testid=error]');

export function show(err) {
  const el = banner();
  if (!el) return;
  el.textContent = err instanceof ApiError ? err.message : String(err && err.message ? err.message : err);
  el.hidden = false;
}

export function clearError() {
  const el = banner();
  if (el) {
    el.textContent = '';
    el.hidden = true;
  }
}

// Runs fn, showing any error in the banner; returns fn's value or undefined on error.
export async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    show(e);
    return undefined;
  }
}

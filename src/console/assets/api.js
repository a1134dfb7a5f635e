// The console's calls: same-origin fetch with the session cookie; every change carries the
// session's CSRF token. An answer that is not 2xx becomes an ApiError holding status and body.
//   const { virtualProxies } = await api.get('/api/v1/virtual-proxies');
//   await api.post('/api/v1/allocations', { userDirectory: 'ACME', userId: 'alice' });

let csrfToken = '';

export function setCsrfToken(token) { csrfToken = token ?? ''; }

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body ?? {};
  }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = { message: text }; }
  if (!response.ok) {
    if (response.status === 401 && path.startsWith('/api/')) window.dispatchEvent(new Event('console-signed-out'));
    throw new ApiError(response.status, parsed);
  }
  return parsed;
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body) => call('POST', path, body ?? {}),
  put: (path, body) => call('PUT', path, body),
  delete: (path) => call('DELETE', path),
};

// A prefix as a path segment of the admin API: "~" names the root virtual proxy.
export function prefixSegment(prefix) {
  const bare = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return bare === '' ? '~' : encodeURIComponent(bare);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== '' && value != null) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

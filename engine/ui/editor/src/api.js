// The editor's calls to the UI server's JSON API (same origin; errors come back as {"error": "one line"}).

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function call(method, url, body) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const api = {
  nodes: () => call('GET', '/api/nodes'),
  files: () => call('GET', '/api/editor/files'),
  file: (path) => call('GET', `/api/editor/file?path=${encodeURIComponent(path)}`),
  validate: (workflow, baseText) => call('POST', '/api/editor/validate', { workflow, base_text: baseText ?? null }),
  save: (path, workflow, etag) => call('PUT', '/api/editor/file', { path, workflow, etag: etag ?? null }),
  run: (path) => call('POST', '/api/editor/runs', { path }),
  cancel: (runId) => call('POST', `/api/editor/runs/${encodeURIComponent(runId)}/cancel`),
  preview: (url) => call('GET', url),
  eventsUrl: (runId) => `/api/editor/runs/${encodeURIComponent(runId)}/events`,
};

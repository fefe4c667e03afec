// The few HTTP calls the pages make (sign-in, who am I, roster upload); everything else is live.
// URLs are relative to this server, so a page works behind any host name or path-less proxy.

import { errorMessage } from './i18n.js';

/** A refused request: `message` in the page's language (i18n.js errorMessage), `serverMessage` as sent. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error || {};
    super(error.code ? errorMessage(error.code, error.params, error.message) : (error.message || `HTTP ${status}`));
    this.name = 'ApiError';
    this.status = status;
    this.code = error.code || 'http_error';
    this.params = error.params || {};
    this.serverMessage = error.message;
    this.body = body;
  }
}

async function request(path, { method = 'GET', json, body, csrf, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  if (csrf) init.headers['X-CSRF-Token'] = csrf;
  const response = await fetch(new URL(path, location.origin), init);
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function me() {
  return request('/api/me');
}

export function signIn(body) {
  return request('/api/sign-in', { method: 'POST', json: body });
}

export function signOut(csrf) {
  return request('/api/sign-out', { method: 'POST', json: {}, csrf });
}

export async function congresses() {
  return (await request('/api/congresses')).congresses;
}

/** Check (dryRun) or import a roster file; a rejected file throws an ApiError whose body lists every row. */
export function uploadRoster(congressId, file, { dryRun, createGroups, csrf }) {
  const params = new URLSearchParams();
  if (dryRun) params.set('dry_run', '1');
  if (createGroups) params.set('create_groups', '1');
  const form = new FormData();
  form.append('file', file, file.name);
  return request(`/api/congresses/${encodeURIComponent(congressId)}/roster?${params}`,
    { method: 'POST', body: form, csrf });
}

/** The page's own query parameter, e.g. param('congress'). */
export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

export function go(path) {
  location.assign(new URL(path, location.origin));
}

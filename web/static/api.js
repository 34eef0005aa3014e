// api.js: the node's REST API and its event stream, as the console uses them. The token lives
// in sessionStorage only (gone with the tab); every request carries it as a bearer token. The
// event stream is read with fetch (EventSource cannot send an Authorization header) and parsed
// as text/event-stream here; when the stream cannot be opened the console polls instead.

const TOKEN_KEY = 'slaledger.token';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.field = field || '';
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  },
  set token(t) {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

async function request(method, path, {body, type, signal, token} = {}) {
  const headers = {Accept: 'application/json'};
  const tok = token ?? session.token;
  if (tok) headers.Authorization = `Bearer ${tok}`;
  if (body !== undefined) headers['Content-Type'] = type || 'application/json';
  let r;
  try {
    r = await fetch(path, {method, headers, body, signal, cache: 'no-store', credentials: 'omit'});
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'ENET', 'The node did not answer. Is it running?');
  }
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!r.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(r.status, e.code, e.message || `${r.status} ${r.statusText}`, e.field);
    if (r.status === 401 && token === undefined) onUnauthorized(err);
    throw err;
  }
  return data;
}

const enc = encodeURIComponent;

function query(params) {
  const q = Object.entries(params || {})
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .join('&');
  return q ? `?${q}` : '';
}

export const api = {
  get: (path, opts) => request('GET', path, opts),
  post: (path, body, opts = {}) => request('POST', path, {...opts, body}),

  health: () => request('GET', '/v1/health'),
  whoami: (token) => request('GET', '/v1/whoami', {token}),
  agreements: (token) => request('GET', '/v1/agreements', {token}).then((d) => d.agreements || []),
  agreement: (name) => request('GET', `/v1/agreements/${enc(name)}`),
  services: (name) => request('GET', `/v1/agreements/${enc(name)}/services`).then((d) => d.services || []),
  events: (name, params) =>
    request('GET', `/v1/agreements/${enc(name)}/events${query(params)}`).then((d) => d.events || []),
  history: (name, params) =>
    request('GET', `/v1/agreements/${enc(name)}/history${query(params)}`).then((d) => d.events || []),
  propose: (doc) => request('POST', '/v1/agreements', {body: doc, type: 'application/yaml'}),
  accept: (name) => request('POST', `/v1/agreements/${enc(name)}/accept`, {body: ''}),
  reject: (name) => request('POST', `/v1/agreements/${enc(name)}/reject`, {body: ''}),
  deposit: (name, amount) =>
    request('POST', `/v1/agreements/${enc(name)}/deposit`, {body: JSON.stringify({amount})}),
  wallet: (org, token) => request('GET', `/v1/wallets/${enc(org)}`, {token}),
  blocks: (channel, params) => request('GET', `/v1/channels/${enc(channel)}/blocks${query(params)}`),
  block: (channel, height) => request('GET', `/v1/channels/${enc(channel)}/blocks/${enc(height)}`),
  transaction: (id) => request('GET', `/v1/transactions/${enc(id)}`),
};

/** Block times by channel and height, fetched once each (they never change). */
const blockTimes = new Map();
export async function blockTime(channel, height) {
  const key = `${channel}/${height}`;
  if (!blockTimes.has(key)) {
    blockTimes.set(
      key,
      api
        .blocks(channel, {from: height, limit: 1})
        .then((d) => (d.blocks && d.blocks[0] ? d.blocks[0].time : null))
        .catch(() => {
          blockTimes.delete(key);
          return null;
        }),
    );
  }
  return blockTimes.get(key);
}

/** Every page of a paged list (limit <= 1000), at most maxPages. */
export async function allPages(fetchPage, {limit = 1000, maxPages = 20} = {}) {
  const out = [];
  for (let p = 0; p < maxPages; p++) {
    const rows = await fetchPage({limit, offset: p * limit});
    out.push(...rows);
    if (rows.length < limit) break;
  }
  return out;
}

/**
 * Reads GET /v1/events as server-sent events until stop() is called. onEvent(name, data) for
 * each event; onState('live' | 'connecting' | 'polling') as the connection changes. After
 * repeated failures it reports 'polling' and keeps retrying slowly.
 */
export function openEvents(onEvent, onState) {
  const ctl = new AbortController();
  let stopped = false;
  let failures = 0;

  async function readStream() {
    const r = await fetch('/v1/events', {
      headers: {Accept: 'text/event-stream', Authorization: `Bearer ${session.token}`},
      cache: 'no-store',
      credentials: 'omit',
      signal: ctl.signal,
    });
    if (!r.ok || !r.body) throw new Error(`event stream: HTTP ${r.status}`);
    failures = 0;
    onState('live');
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      buf += value;
      let cut;
      while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
        const raw = buf.slice(0, cut);
        buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
        dispatch(raw);
      }
    }
  }

  function dispatch(raw) {
    let name = 'message';
    const data = [];
    for (const line of raw.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') name = val;
      else if (field === 'data') data.push(val);
    }
    if (!data.length) return;
    let parsed = null;
    try {
      parsed = JSON.parse(data.join('\n'));
    } catch {
      return;
    }
    onEvent(name, parsed);
  }

  (async () => {
    while (!stopped) {
      onState(failures >= 2 ? 'polling' : 'connecting');
      try {
        await readStream();
      } catch (e) {
        if (stopped) return;
      }
      failures++;
      if (stopped) return;
      onState(failures >= 2 ? 'polling' : 'connecting');
      await new Promise((res) => setTimeout(res, Math.min(15000, 500 * 2 ** Math.min(failures, 5))));
    }
  })();

  return {
    stop() {
      stopped = true;
      ctl.abort();
    },
  };
}

// app.js: the console's shell. Signs in with an API token, finds out who the token speaks for,
// draws the top bar and navigation, routes #/... addresses to views, and keeps the open view
// current from the node's event stream (or by polling when the stream is unavailable).
//
// A view is a module function mount(main, params, app) that draws into main and may return
// {refresh(), dispose()}; refresh() redraws in place and is called, at most about once a
// second, when a block or an agreement event arrives.

import {h, icon, swap, $} from './dom.js';
import {api, session, openEvents, setUnauthorizedHandler, ApiError} from './api.js';
import {toast, errorBox, loading} from './ui.js';
import {moneyMinor} from './fmt.js';
import {renderSignIn} from './view-signin.js';
import {agreementList, agreementDetail} from './view-agreements.js';
import {registerView} from './view-register.js';
import {serviceList, serviceDetail} from './view-services.js';
import {walletsView} from './view-wallets.js';
import {ledgerView, blockView, transactionView} from './view-ledger.js';

const ROUTES = [
  [/^agreements$/, agreementList, 'agreements'],
  [/^agreements\/([^/]+)$/, agreementDetail, 'agreements'],
  [/^register$/, registerView, 'register'],
  [/^services$/, serviceList, 'services'],
  [/^services\/([^/]+)\/([^/]+)$/, serviceDetail, 'services'],
  [/^wallets$/, walletsView, 'wallets'],
  [/^ledger$/, ledgerView, 'ledger'],
  [/^ledger\/([^/]+)$/, ledgerView, 'ledger'],
  [/^ledger\/([^/]+)\/(\d+)$/, blockView, 'ledger'],
  [/^tx\/([0-9a-fA-F]{64})$/, transactionView, 'ledger'],
];

const NAV = [
  ['agreements', 'Agreements', 'agreements'],
  ['register', 'Register', 'register'],
  ['services', 'Services', 'services'],
  ['wallets', 'Wallets', 'wallets'],
  ['ledger', 'Ledger', 'ledger'],
];

const ROLE_LABEL = {consumer: 'Consumer', provider: 'Provider', auditor: 'Auditor', issuer: 'Issuer', oracle: 'Oracle', member: 'Member'};

export const app = {
  me: null, // {user, org, role, exact}
  health: null,
  view: null,
  liveState: 'connecting',
  navigate(path) {
    if (location.hash === `#/${path}`) route();
    else location.hash = `#/${path}`;
  },
  refreshNow() {
    scheduleRefresh(true);
  },
  canPropose() {
    return !this.me || ['consumer', 'provider', 'member'].includes(this.me.role);
  },
};

let events = null;
let pollTimer = null;

// ---- who the token speaks for ----

/**
 * GET /v1/whoami when the node has it; otherwise worked out from what the token may see: an
 * auditor reads any wallet, a party reads only its own organization's.
 */
async function identify(token) {
  try {
    const me = await api.whoami(token);
    if (me && me.org) return {user: me.user || '', org: me.org, role: me.role || 'member', exact: true};
  } catch (e) {
    if (e.status === 401) throw e;
  }
  const agreements = await api.agreements(token); // throws 401 for a bad token
  const health = await api.health();
  try {
    await api.wallet(`zz-no-such-org-${Date.now() % 100000}`, token);
    return {user: '', org: health.organization, role: 'auditor', exact: false};
  } catch {
    // not an auditor
  }
  const candidates = new Set([health.organization]);
  for (const a of agreements) {
    candidates.add(a.consumer);
    candidates.add(a.provider);
  }
  for (const org of candidates) {
    try {
      await api.wallet(org, token);
      const role = agreements.some((a) => a.consumer === org) ? 'consumer' : agreements.some((a) => a.provider === org) ? 'provider' : 'member';
      return {user: '', org, role, exact: false};
    } catch {
      // not this one
    }
  }
  return {user: '', org: '', role: 'member', exact: false};
}

export async function signIn(token) {
  const me = await identify(token);
  session.token = token;
  app.me = me;
  sessionStorage.setItem('slaledger.me', JSON.stringify(me));
  return me;
}

app.signIn = signIn;

function signOut() {
  if (events) events.stop();
  events = null;
  clearInterval(pollTimer);
  session.token = '';
  sessionStorage.removeItem('slaledger.me');
  app.me = null;
  location.hash = '#/signin';
  start();
}

// ---- the shell ----

function initials(me) {
  const s = me.user || me.org || '?';
  return s.slice(0, 2).toUpperCase();
}

function shell() {
  const me = app.me;
  const nodeOrg = app.health ? app.health.organization : '';
  const toggle = h('button', {class: 'icon-btn menu-btn', type: 'button', 'aria-label': 'Open navigation', 'aria-expanded': 'false', 'aria-controls': 'nav', onclick: () => setNav(!document.body.classList.contains('nav-open'))}, icon('menu'));
  const topbar = h(
    'header',
    {class: 'topbar', role: 'banner'},
    toggle,
    h('a', {class: 'brand', href: '#/agreements', 'aria-label': 'slaledger console home'}, h('span', {class: 'brand-mark', 'aria-hidden': 'true'}, 'SL'), h('span', {class: 'brand-name'}, 'slaledger'), nodeOrg ? h('span', {class: 'brand-node', 'data-testid': 'node-name'}, `${nodeOrg} node`) : null),
    h('div', {class: 'topbar-spacer'}),
    h('div', {class: 'live', id: 'live', role: 'status', 'aria-live': 'polite'}, h('span', {class: 'live-dot', 'aria-hidden': 'true'}), h('span', {class: 'live-text'}, 'Connecting')),
    h(
      'div',
      {class: 'user', 'data-testid': 'user'},
      h('span', {class: 'avatar', 'aria-hidden': 'true'}, initials(me)),
      h('span', {class: 'user-text'}, h('span', {class: 'user-name'}, me.user || me.org || 'signed in'), h('span', {class: 'user-org'}, [me.org, ROLE_LABEL[me.role] || me.role].filter(Boolean).join(' · '))),
      h('button', {class: 'icon-btn', type: 'button', 'aria-label': 'Sign out', title: 'Sign out', onclick: signOut}, icon('logout')),
    ),
  );
  const nav = h(
    'nav',
    {class: 'sidebar', id: 'nav', 'aria-label': 'Main'},
    h(
      'ul',
      null,
      NAV.filter(([key]) => key !== 'register' || app.canPropose()).map(([key, label, ic]) => h('li', null, h('a', {href: `#/${key}`, 'data-nav': key, onclick: () => setNav(false)}, icon(ic), h('span', null, label)))),
    ),
    h('div', {class: 'sidebar-foot', id: 'chain-status'}),
  );
  const main = h('main', {id: 'main', class: 'main', tabindex: '-1'});
  const scrim = h('div', {class: 'scrim', 'aria-hidden': 'true', onclick: () => setNav(false)});
  swap(document.getElementById('app'), topbar, nav, scrim, main);
  document.body.classList.add('signed-in');
  renderChainStatus();
}

function setNav(open) {
  document.body.classList.toggle('nav-open', open);
  const b = $('.menu-btn');
  if (b) {
    b.setAttribute('aria-expanded', String(open));
    b.setAttribute('aria-label', open ? 'Close navigation' : 'Open navigation');
  }
}

function renderChainStatus() {
  const el = document.getElementById('chain-status');
  if (!el || !app.health) return;
  swap(
    el,
    h('div', {class: 'foot-title'}, 'Channels'),
    (app.health.channels || []).map((c) => h('div', {class: 'foot-row'}, h('span', null, c.name), h('span', {class: 'mono'}, `#${c.height}`))),
    h('div', {class: 'foot-version'}, `slaledger ${app.health.version || ''}`),
  );
}

function setLive(state) {
  app.liveState = state;
  const el = document.getElementById('live');
  if (!el) return;
  el.dataset.state = state;
  el.querySelector('.live-text').textContent = {live: 'Live', connecting: 'Connecting', polling: 'Polling'}[state] || state;
  el.title = {live: 'Updates arrive from the node as they happen', connecting: 'Connecting to the node’s event stream', polling: 'The event stream is unavailable: refreshing every 2 s'}[state];
  clearInterval(pollTimer);
  if (state === 'polling') pollTimer = setInterval(() => scheduleRefresh(), 2000);
}

// ---- live updates ----

let lastRefresh = 0;
let refreshing = false;
let pending = null;

function scheduleRefresh(now = false) {
  if (!app.view || !app.view.refresh) return;
  if (refreshing) {
    pending = pending || setTimeout(() => ((pending = null), scheduleRefresh()), 300);
    return;
  }
  const wait = now ? 0 : Math.max(0, 1000 - (Date.now() - lastRefresh));
  if (wait > 0) {
    pending = pending || setTimeout(() => ((pending = null), scheduleRefresh()), wait);
    return;
  }
  const view = app.view;
  refreshing = true;
  lastRefresh = Date.now();
  Promise.resolve(view.refresh())
    .catch(() => {})
    .finally(() => {
      refreshing = false;
    });
}

const EVENT_TEXT = {
  penalty: (d) => [`Penalty paid on ${d.agreement}`, `${moneyMinor(d.amount, d.currency)} to the consumer${d.objective ? ` (${d.objective})` : ''}`, 'bad'],
  settlement: (d) => [`Window settled on ${d.agreement}`, `${moneyMinor(d.amount, d.currency)} to the provider`, 'info'],
  refund: (d) => [`Refund on ${d.agreement}`, `${moneyMinor(d.amount, d.currency)} back to the consumer`, 'info'],
  activated: (d) => [`${d.agreement} is active`, 'Both parties have signed', 'good'],
  closed: (d) => [`${d.agreement} closed`, 'The final statement is ready', 'info'],
};

function onEvent(name, data) {
  if (name === 'block') {
    if (app.health) {
      const c = (app.health.channels || []).find((x) => x.name === data.channel);
      if (c) c.height = data.height;
      throttledChain();
    }
    scheduleRefresh();
    return;
  }
  const t = EVENT_TEXT[name];
  if (t) {
    const [title, text, tone] = t(data);
    toast(title, text, tone);
  }
  scheduleRefresh();
}

let chainTimer = null;
function throttledChain() {
  if (chainTimer) return;
  chainTimer = setTimeout(() => {
    chainTimer = null;
    renderChainStatus();
  }, 1000);
}

// ---- routing ----

async function route() {
  if (!session.token || !app.me) return start();
  const path = location.hash.replace(/^#\/?/, '').split('?')[0];
  if (!path || path === 'signin') {
    location.replace('#/agreements');
    return;
  }
  if (app.view && app.view.dispose) app.view.dispose();
  app.view = null;
  setNav(false);
  const main = document.getElementById('main');
  let found = null;
  for (const [re, fn, nav] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      found = [fn, m.slice(1).map(decodeURIComponent), nav];
      break;
    }
  }
  document.querySelectorAll('[data-nav]').forEach((a) => {
    const cur = found && a.dataset.nav === found[2];
    a.classList.toggle('active', Boolean(cur));
    if (cur) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  if (!found) {
    swap(main, errorBox(new Error(`There is no page at #/${path}.`), {title: 'Page not found'}));
    return;
  }
  // Each page draws into its own element: a page left before it finished loading draws into
  // a detached element, never over the page that replaced it.
  const host = h('div', {class: 'view'}, loading());
  swap(main, host);
  const token = {};
  app.routeToken = token;
  try {
    const view = await found[0](host, found[1], app);
    if (app.routeToken !== token) {
      if (view && view.dispose) view.dispose();
      return;
    }
    app.view = view || null;
    const title = document.getElementById('page-title');
    document.title = title ? `${title.textContent} · slaledger` : 'slaledger console';
    if (title && app.focusTitle) title.focus({preventScroll: true});
    app.focusTitle = true;
  } catch (e) {
    if (app.routeToken === token) swap(host, errorBox(e, {retry: route}));
  }
}

async function start() {
  const root = document.getElementById('app');
  document.body.classList.remove('signed-in');
  app.health = await api.health().catch(() => null);
  if (!session.token) {
    renderSignIn(root, app, async () => {
      await enter();
    });
    return;
  }
  try {
    const saved = sessionStorage.getItem('slaledger.me');
    app.me = saved ? JSON.parse(saved) : await identify(session.token);
    await enter();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      session.token = '';
      return start();
    }
    swap(root, errorBox(e, {title: 'Cannot reach the node', retry: start}));
  }
}

async function enter() {
  if (!app.health) app.health = await api.health().catch(() => null);
  shell();
  app.focusTitle = false;
  if (events) events.stop();
  events = openEvents(onEvent, setLive);
  if (!location.hash || location.hash === '#/signin' || location.hash === '#/') location.replace('#/agreements');
  await route();
}

setUnauthorizedHandler(() => {
  toast('Signed out', 'The node no longer accepts this token.', 'warn');
  signOut();
});

window.addEventListener('hashchange', () => {
  if (app.me) route();
});
window.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') setNav(false);
});

start();

// view-services.js: the monitored services of the agreements a token may see, and one service's
// measurement history: charts per objective (availability per interval and per window,
// response time against its threshold, violations marked) and a paginated table of every
// decided interval. New intervals are fetched incrementally (the history only grows).

import {h, swap} from './dom.js';
import {api, ApiError} from './api.js';
import * as f from './fmt.js';
import {pageHeader, card, pill, table, emptyState, linkButton, pager} from './ui.js';
import {nodeNow, objectiveHealth} from './data.js';
import {availabilityChart, windowBars, thresholdChart} from './charts.js';

const enc = encodeURIComponent;
const PAGE = 20;
const MAX_ROWS = 20000;

export async function serviceList(main, params, app) {
  let d = null;

  async function load() {
    const list = (await api.agreements()).filter((a) => a.status !== 'proposed');
    const per = await Promise.all(list.map(async (a) => [a, await api.services(a.name).catch(() => []), await api.agreement(a.name).catch(() => null)]));
    d = per;
  }

  function draw() {
    const rows = [];
    for (const [a, services, st] of d) {
      for (const s of services) rows.push({a, s, st});
    }
    swap(
      main,
      pageHeader('Services', {subtitle: 'Every monitored resource under an agreement, with its objectives’ health in the current window.'}),
      card(
        null,
        table(
          [
            {label: 'Service', class: 'col-main', render: (r) => h('div', null, h('a', {class: 'row-link', href: `#/services/${enc(r.a.name)}/${enc(r.s.name)}`}, r.s.name), h('div', {class: 'muted small'}, f.SERVICE_KIND[r.s.kind] || r.s.kind))},
            {label: 'Agreement', render: (r) => h('a', {href: `#/agreements/${enc(r.a.name)}`}, r.a.name)},
            {label: 'Provider', render: (r) => r.a.provider},
            {label: 'Objectives', class: 'col-health', render: (r) => h('div', {class: 'badges'}, r.s.objectives.map((o) => {
              const so = r.st && r.st.objectives.find((x) => x.name === o.name);
              const x = so ? objectiveHealth(so, {closed: r.st.status === 'closed'}) : {tone: 'muted', value: '', label: o.name};
              return h('span', {class: ['badge', `tone-${x.tone}`], 'aria-label': x.label, title: x.label}, h('span', {class: 'dot', 'aria-hidden': 'true'}), h('span', {class: 'badge-name'}, o.name), x.value ? h('span', {class: 'badge-value'}, x.value) : null);
            }))},
            {label: 'Status', render: (r) => pill(r.a.status)},
          ],
          rows,
          {caption: 'Services', empty: emptyState('No services yet', 'Services appear here once an agreement naming them is active.', linkButton('Register agreement', '#/register', {kind: 'primary'}))},
        ),
      ),
    );
  }

  await load();
  draw();
  return {
    async refresh() {
      await load();
      draw();
    },
  };
}

export async function serviceDetail(main, [agreement, service], app) {
  const state = {rows: new Map(), page: 0, filter: '', charts: new Map(), truncated: false};
  let st;
  let services;
  let svc;
  let now = null;

  async function fetchNew(obj) {
    const have = state.rows.get(obj.name) || [];
    while (have.length < MAX_ROWS) {
      const batch = await api.history(agreement, {objective: obj.name, limit: 1000, offset: have.length});
      have.push(...batch);
      if (batch.length < 1000) break;
    }
    state.truncated = state.truncated || have.length >= MAX_ROWS;
    state.rows.set(obj.name, have);
  }

  async function load() {
    st = await api.agreement(agreement);
    services = await api.services(agreement);
    svc = services.find((s) => s.name === service) || null;
    if (!svc) return;
    const names = new Set(svc.objectives.map((o) => o.name));
    const objs = (st.objectives || []).filter((o) => names.has(o.name));
    await Promise.all([...objs.map(fetchNew), nodeNow(app, st.channel).then((t) => (now = t))]);
  }

  function objectivesOf() {
    const names = new Set(svc.objectives.map((o) => o.name));
    return (st.objectives || []).filter((o) => names.has(o.name));
  }

  function chartCard(obj) {
    const rows = state.rows.get(obj.name) || [];
    const hx = objectiveHealth(obj, {now, closed: st.status === 'closed'});
    const head = h('div', {class: 'chart-head'}, h('span', {class: ['badge', `tone-${hx.tone}`], 'aria-label': hx.label}, h('span', {class: 'dot', 'aria-hidden': 'true'}), hx.value), h('span', {class: 'muted small'}, `${f.int(rows.length)} intervals measured · target ${f.target(obj)}`));
    const plotEl = h('div', {class: 'chart', role: 'img', 'aria-label': `${obj.name}: ${f.METRIC_LABEL[obj.metric] || obj.metric} per interval against its target ${f.target(obj)}; ${rows.filter((r) => r.outcome === 'bad').length} bad intervals`});
    const parts = [head, plotEl];
    let barsEl = null;
    if (obj.metric === 'availability') {
      barsEl = h('div', {class: 'chart small-chart', role: 'img', 'aria-label': `${obj.name}: compliance per window against the target`});
      parts.push(h('h3', {class: 'subhead'}, 'Availability per window'), barsEl);
    }
    const el = card(`${obj.name} · ${f.METRIC_LABEL[obj.metric] || obj.metric}`, parts, {id: `chart-${obj.name}`, description: obj.metric === 'availability' ? 'Each interval’s decided availability, the window’s compliance so far and the target; bad intervals in red.' : `Each interval’s measured value against the threshold; violations in red.`});
    el.dataset.testid = `chart-${obj.name}`;
    return {el, plotEl, barsEl, obj};
  }

  function drawCharts(cards) {
    for (const c of state.charts.values()) c.forEach((x) => x.destroy());
    state.charts.clear();
    for (const {plotEl, barsEl, obj} of cards) {
      const rows = state.rows.get(obj.name) || [];
      const list = [];
      if (obj.metric === 'availability') {
        list.push(availabilityChart(plotEl, rows, obj, {period: st.period}));
        list.push(windowBars(barsEl, obj, {period: st.period}));
      } else {
        const unit = obj.unit === 'ms' ? 'ms' : obj.unit === 'mreq/s' ? 'mreq/s' : obj.unit;
        list.push(thresholdChart(plotEl, rows, obj, {unit, period: st.period}));
      }
      state.charts.set(obj.name, list);
    }
  }

  function historyRows() {
    const objs = objectivesOf().filter((o) => !state.filter || o.name === state.filter);
    const all = [];
    for (const o of objs) for (const r of state.rows.get(o.name) || []) all.push({...r, metric: o.metric});
    all.sort((a, b) => Date.parse(b.start) - Date.parse(a.start) || b.height - a.height);
    return all;
  }

  const historyBox = h('div', {'data-testid': 'history'});

  function drawHistory() {
    const all = historyRows();
    const pages = Math.max(1, Math.ceil(all.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const slice = all.slice(state.page * PAGE, state.page * PAGE + PAGE);
    const filter = h(
      'div',
      {class: 'toolbar'},
      h('label', {class: 'label inline-label', for: 'history-objective'}, 'Objective'),
      h('select', {id: 'history-objective', class: 'input input-sm', 'data-key': 'history-objective', onchange: (e) => {
        state.filter = e.target.value;
        state.page = 0;
        drawHistory();
      }}, h('option', {value: ''}, 'All objectives'), objectivesOf().map((o) => h('option', {value: o.name, selected: o.name === state.filter}, o.name))),
      h('span', {class: 'muted small', 'data-testid': 'history-count'}, `${f.int(all.length)} intervals${state.truncated ? ' (the first 20,000 per objective)' : ''}`),
    );
    swap(
      historyBox,
      filter,
      table(
        [
          {label: 'Interval (UTC)', render: (r) => h('span', {class: 'nowrap'}, f.span(r.start, r.end))},
          {label: 'Objective', render: (r) => r.objective},
          {label: 'Value', class: 'num', render: (r) => f.measured(r.metric, r.value)},
          {label: 'Outcome', render: (r) => pill(r.outcome || 'unknown', r.outcome === 'good' ? 'good' : r.outcome === 'bad' ? 'bad' : 'muted')},
          {label: 'Block', class: 'num', render: (r) => h('a', {class: 'mono', href: `#/ledger/${enc(st.channel)}/${r.height}`}, `#${r.height}`)},
        ],
        slice,
        {caption: 'Measurement history', testid: 'history-table', empty: emptyState('No measurements yet', st.status === 'proposed' ? 'Measuring starts once both parties have signed.' : 'The first interval is decided once the oracles’ reports reach the quorum.'), rowAttrs: (r) => ({class: r.outcome === 'bad' ? 'row-bad' : null})},
      ),
      all.length > PAGE ? pager({page: state.page, total: pages, hasMore: state.page < pages - 1, label: 'Measurement pages', onPage: (p) => {
        state.page = p;
        drawHistory();
      }}) : null,
    );
  }

  let cards = [];
  function draw() {
    if (!svc) {
      swap(main, pageHeader(service, {back: {href: '#/services', label: 'Services'}}), emptyState('Service not found', `Agreement ${agreement} has no service called “${service}” that you may see.`, linkButton('All services', '#/services')));
      return;
    }
    cards = objectivesOf().map(chartCard);
    const tabs = services.length > 1 ? h('nav', {class: 'tabs', 'aria-label': 'Services of this agreement'}, services.map((s) => h('a', {href: `#/services/${enc(agreement)}/${enc(s.name)}`, class: s.name === service ? 'active' : null, 'aria-current': s.name === service ? 'page' : null}, s.name, h('span', {class: 'muted small'}, ` ${f.SERVICE_KIND[s.kind] || s.kind}`)))) : null;
    swap(
      main,
      pageHeader(service, {back: {href: `#/agreements/${enc(agreement)}`, label: agreement}, eyebrow: `${f.SERVICE_KIND[svc.kind] || svc.kind} · ${agreement} · ${st.provider}`, subtitle: h('span', {class: 'inline'}, pill(st.status), h('span', {class: 'muted'}, f.period(st.period)))}),
      tabs,
      cards.length ? h('div', {class: 'charts'}, cards.map((c) => c.el)) : emptyState('No objectives', 'This service has no objectives in the agreement.'),
      card('Measurement history', historyBox, {id: 'history-card', description: 'Every decided interval: the value the oracles’ quorum agreed on and whether it met the target.'}),
    );
    drawCharts(cards);
    drawHistory();
  }

  function update() {
    for (const c of cards) {
      const list = state.charts.get(c.obj.name) || [];
      const obj = (st.objectives || []).find((o) => o.name === c.obj.name) || c.obj;
      list.forEach((x) => x.update(state.rows.get(obj.name) || [], obj));
      const rows = state.rows.get(obj.name) || [];
      const hx = objectiveHealth(obj, {now, closed: st.status === 'closed'});
      const head = c.el.querySelector('.chart-head');
      if (head) swap(head, h('span', {class: ['badge', `tone-${hx.tone}`], 'aria-label': hx.label}, h('span', {class: 'dot', 'aria-hidden': 'true'}), hx.value), h('span', {class: 'muted small'}, `${f.int(rows.length)} intervals measured · target ${f.target(obj)}`));
    }
    drawHistory();
  }

  try {
    await load();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      swap(main, pageHeader(service, {back: {href: '#/services', label: 'Services'}}), emptyState('Agreement not found', `There is no agreement called “${agreement}” that you may see.`, linkButton('All services', '#/services')));
      return null;
    }
    throw e;
  }
  draw();
  return {
    async refresh() {
      const before = svc;
      await load();
      if (!before || !svc) draw();
      else update();
    },
    dispose() {
      for (const c of state.charts.values()) c.forEach((x) => x.destroy());
    },
  };
}

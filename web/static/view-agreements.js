// view-agreements.js: the agreements a token may see, and one agreement in full: live
// compliance per objective and window against its target, the penalties paid (when, why, how
// much, in which transaction), escrow and settlements, the proposal to sign, and the final
// statement once the period has closed.

import {h, icon, swap, download} from './dom.js';
import {api, ApiError, blockTime} from './api.js';
import * as f from './fmt.js';
import {pageHeader, card, stat, pill, statusPill, table, emptyState, alert, button, linkButton, meter, facts, toast} from './ui.js';
import {nodeNow, objectiveHealth, total} from './data.js';
import {proposedHere} from './view-register.js';

const enc = encodeURIComponent;

// ---- the list ----

function healthBadges(st, now) {
  if (!st || !st.objectives || !st.objectives.length) return [h('span', {class: 'muted small'}, st && st.status === 'proposed' ? 'starts once signed' : '—')];
  return st.objectives.map((o) => {
    const x = objectiveHealth(o, {now, closed: st.status === 'closed'});
    return h('span', {class: ['badge', `tone-${x.tone}`], 'aria-label': x.label, title: x.label, 'data-objective': o.name, 'data-tone': x.tone}, h('span', {class: 'dot', 'aria-hidden': 'true'}), h('span', {class: 'badge-name'}, o.name), h('span', {class: 'badge-value'}, x.value));
  });
}

function periodProgress(st, now) {
  if (!st || !st.period) return null;
  const a = f.parseTime(st.period.start);
  const b = f.parseTime(st.period.end);
  if (st.status === 'closed') return 1;
  if (!now || a === null || b === null || b <= a) return null;
  return Math.max(0, Math.min(1, (now - a) / (b - a)));
}

function sumBy(list, key, currencyKey = 'currency') {
  const out = new Map();
  for (const x of list) out.set(x[currencyKey], (out.get(x[currencyKey]) || 0) + (x[key] || 0));
  return Array.from(out.entries())
    .map(([c, v]) => f.moneyMinor(v, c))
    .join(' + ') || f.moneyMinor(0, 'EUR');
}

export async function agreementList(main, params, app) {
  let data = null;

  async function load() {
    const list = await api.agreements();
    const statements = await Promise.all(list.map((a) => api.agreement(a.name).catch(() => null)));
    const channels = [...new Set(list.map((a) => a.channel))];
    const nows = new Map(await Promise.all(channels.map(async (c) => [c, await nodeNow(app, c)])));
    data = {list, statements, nows};
  }

  function draw() {
    const {list, statements, nows} = data;
    const me = app.me || {};
    const proposals = list.filter((a) => a.status === 'proposed');
    const active = list.filter((a) => a.status === 'active');
    const mine = (a) => a.consumer === me.org || a.provider === me.org;
    const toSign = proposals.filter((a) => mine(a) && me.role !== 'auditor');
    const rows = list.map((a, i) => ({a, st: statements[i], now: nows.get(a.channel)}));

    const columns = [
      {label: 'Agreement', class: 'col-main', render: ({a, st}) => h('div', null, h('a', {class: 'row-link', href: `#/agreements/${enc(a.name)}`, 'data-testid': `agreement-${a.name}`}, a.name), h('div', {class: 'muted small'}, a.channel, st && st.period ? ` · ${f.span(st.period.start, st.period.end)}` : ''))},
      {label: 'Parties', render: ({a}) => h('div', {class: 'parties'}, h('span', {class: a.consumer === me.org ? 'me' : null}, a.consumer), h('span', {class: 'arrow', 'aria-label': 'buys from'}, '→'), h('span', {class: a.provider === me.org ? 'me' : null}, a.provider))},
      {label: 'Status', render: ({a}) => statusPill(a.status)},
      {label: 'Health', class: 'col-health', render: ({st, now}) => h('div', {class: 'badges'}, healthBadges(st, now))},
      {label: 'Fee', class: 'num', render: ({st, a}) => (st ? f.money(st.fee, st.currency) : f.moneyMinor(a.deposited, a.currency))},
      {label: 'Escrow', class: 'num', render: ({a}) => f.moneyMinor(a.escrow, a.currency)},
      {label: 'Penalties', class: 'num', render: ({a}) => h('span', {class: a.penalties > 0 ? 'neg' : null}, f.moneyMinor(a.penalties, a.currency))},
      {label: 'Period', class: 'col-progress', render: ({st, now}) => {
        const p = periodProgress(st, now);
        return p === null ? h('span', {class: 'muted small'}, 'not started') : h('div', {class: 'progress-cell'}, meter(p, {label: 'period elapsed'}), h('span', {class: 'small muted'}, `${Math.round(p * 100)}%`));
      }},
    ];

    const penalties = list.filter((a) => a.consumer === me.org || me.role === 'auditor' || a.provider === me.org);
    swap(
      main,
      pageHeader('Agreements', {
        subtitle: me.role === 'auditor' ? 'Every agreement on this node’s channels' : `Agreements ${me.org || 'your organization'} is a party to`,
        actions: app.canPropose() ? linkButton('Register agreement', '#/register', {kind: 'primary', iconName: 'register'}) : null,
      }),
      toSign.length
        ? h(
            'div',
            {class: 'callout', role: 'status', 'data-testid': 'proposals'},
            icon('shield'),
            h('div', null, h('strong', null, `${toSign.length} proposal${toSign.length === 1 ? '' : 's'} awaiting a signature`), h('p', null, 'An agreement is binding only once both consumer and provider have signed it.')),
            h('div', {class: 'callout-actions'}, toSign.map((a) => linkButton(`Review ${a.name}`, `#/agreements/${enc(a.name)}`, {kind: 'secondary'}))),
          )
        : null,
      h(
        'div',
        {class: 'stats'},
        stat('Active', String(active.length), {note: `${list.length} in total`}),
        stat('Awaiting signature', String(proposals.length), {tone: proposals.length ? 'warn' : null}),
        stat(me.role === 'provider' ? 'Penalties paid' : 'Penalties received', sumBy(penalties, 'penalties'), {tone: penalties.some((a) => a.penalties > 0) ? 'warn' : null, note: 'credits for missed objectives'}),
        stat('Held in escrow', sumBy(list, 'escrow')),
      ),
      card(
        'All agreements',
        table(columns, rows, {
          caption: 'Agreements',
          testid: 'agreements-table',
          empty: emptyState('No agreements yet', me.role === 'auditor' ? 'Nothing has been proposed on this node’s channels.' : 'Register a service with its SLA to propose your first agreement.', app.canPropose() ? linkButton('Register agreement', '#/register', {kind: 'primary'}) : null),
        }),
        {id: 'agreements-card'},
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

// ---- one agreement ----

const REASON = {
  deposited: 'Escrow funded by the consumer',
  penalty: 'Penalty paid to the consumer',
  settlement: 'Window settled to the provider',
  refund: 'Refund to the consumer',
};

const ACTIVITY_KINDS = ['proposed', 'rejected', 'activated', 'deposited', 'violation', 'penalty', 'dispute', 'settlement', 'refund', 'window_closed', 'closed'];

function activityText(e, st) {
  const obj = (st.objectives || []).find((o) => o.name === e.objective);
  const cur = st.currency;
  switch (e.kind) {
    case 'proposed':
      return 'Proposed';
    case 'rejected':
      return 'Rejected: the proposal can no longer be signed';
    case 'activated':
      return 'Signed by both parties: active';
    case 'deposited':
      return `Escrow funded with ${f.moneyMinor(e.amount, e.currency || cur)}`;
    case 'violation':
      return obj && obj.metric === 'availability'
        ? `${e.objective}: availability can no longer exceed ${f.ppm(e.value)} this window${e.tier !== undefined ? ` (credit tier ${e.tier + 1})` : ''}`
        : `${e.objective}: ${f.measured(obj ? obj.metric : '', e.value)} at ${f.clock(e.start)} (target ${obj ? f.target(obj) : ''})`;
    case 'penalty':
      return `Penalty ${f.moneyMinor(e.amount, e.currency || cur)} to ${e.to}`;
    case 'dispute':
      return `${e.objective}: oracles disagree on ${f.span(e.start, e.end)}; the policy decided`;
    case 'settlement':
      return `${f.moneyMinor(e.amount, e.currency || cur)} settled to ${e.to} for ${f.span(e.start, e.end)}`;
    case 'refund':
      return `${f.moneyMinor(e.amount, e.currency || cur)} refunded to ${e.to}`;
    case 'window_closed':
      return `${e.objective}: window ${f.span(e.start, e.end)} closed at ${f.ppm(e.value)} compliance`;
    case 'closed':
      return 'Period ended: agreement closed';
    default:
      return e.kind;
  }
}

/** "Why" of a penalty: the violation that caused it (same block and objective). */
function penaltyWhy(p, violations, st) {
  const obj = (st.objectives || []).find((o) => o.name === p.objective);
  const v = violations.find((x) => x.height === p.height && x.objective === p.objective);
  if (!obj) return p.objective || '—';
  if (obj.metric === 'availability') {
    const best = v ? f.ppm(v.value) : null;
    return h('div', null, h('div', null, `${p.objective} below ${f.target(obj).replace('≥ ', '')}${p.tier !== undefined ? ` · tier ${p.tier + 1} credit` : ''}`), h('div', {class: 'muted small'}, best ? `At most ${best} still reachable in the window ${f.span(p.start, p.end)}` : `Window ${f.span(p.start, p.end)}`));
  }
  return h('div', null, h('div', null, `${p.objective}: ${v ? f.measured(obj.metric, v.value) : 'over target'} against ${f.target(obj)}`), h('div', {class: 'muted small'}, v ? `Interval ${f.span(v.start, v.end)}` : `Window ${f.span(p.start, p.end)}`));
}

/** Where the fee went, as one bar split by share, with a legend. */
function split(parts, cur) {
  const sum = parts.reduce((a, [, v]) => a + Number(v), 0) || 1;
  const shown = parts.filter(([, v]) => Number(v) > 0);
  return h(
    'div',
    {class: 'split'},
    h('div', {class: 'split-bar', role: 'img', 'aria-label': shown.map(([l, v]) => `${l}: ${f.money(v, cur)}`).join(', ')}, shown.map(([l, v, tone]) => h('span', {class: `split-part tone-${tone}`, style: `width:${((100 * Number(v)) / sum).toFixed(2)}%`, title: `${l}: ${f.money(v, cur)}`}))),
    h('div', {class: 'split-legend'}, shown.map(([l, v, tone]) => h('span', {class: 'split-key'}, h('span', {class: `split-swatch tone-${tone}`, 'aria-hidden': 'true'}), `${l} `, h('strong', null, f.money(v, cur)), ` · ${Math.round((100 * Number(v)) / sum)}%`))),
  );
}

function txLink(e, channel) {
  if (e.transaction) return h('a', {class: 'mono', href: `#/tx/${e.transaction}`, 'data-testid': 'penalty-tx'}, f.shortHash(e.transaction, 8));
  return h('a', {class: 'mono', href: `#/ledger/${enc(channel)}/${e.height}`, 'data-testid': 'penalty-block'}, `block #${e.height}`);
}

function windowRow(obj, w, now) {
  const n = w.good + w.bad + w.unknown;
  const c = f.pctToPpm(w.compliance);
  const isNow = now && f.parseTime(w.start) <= now && now < f.parseTime(w.end);
  let tone = 'muted';
  if (w.good + w.bad > 0) tone = obj.metric === 'availability' ? (c >= obj.target ? 'good' : 'bad') : w.violations ? 'warn' : 'good';
  return {w, n, c, isNow, tone};
}

function objectiveCard(obj, st, now) {
  const closed = st.status === 'closed';
  const hx = objectiveHealth(obj, {now, closed});
  // Open: the window holding now. Closed: the whole period, as the health badge judges it.
  const cur = closed ? total(obj.windows) : f.currentWindow(obj.windows, now);
  const curC = cur ? f.pctToPpm(cur.compliance) : null;
  const where = closed ? 'over the period' : 'this window';
  const big = h(
    'div',
    {class: 'obj-now'},
    h('div', {class: ['obj-value', `tone-${hx.tone}`], 'data-testid': `compliance-${obj.name}`}, obj.metric === 'availability' ? (cur && cur.compliance ? f.pct(cur.compliance) : '—') : cur ? `${cur.violations}` : '—'),
    h('div', {class: 'obj-caption'}, obj.metric === 'availability' ? `availability ${where} · target ${f.target(obj)}` : `violation${cur && cur.violations === 1 ? '' : 's'} ${where} · target ${f.target(obj)}`),
    obj.metric === 'availability' ? meter(curC === null ? 0 : curC / 1e6, {target: obj.target / 1e6, tone: hx.tone, label: `${obj.name} compliance`}) : meter(cur && cur.good + cur.bad ? cur.good / (cur.good + cur.bad) : 0, {tone: hx.tone, label: `${obj.name} share of intervals in target`}),
  );
  const rows = obj.windows.map((w) => windowRow(obj, w, now));
  const tbl = table(
    [
      {label: 'Window', render: (r) => h('span', {class: 'nowrap'}, f.span(r.w.start, r.w.end), r.isNow ? h('span', {class: 'tag'}, 'now') : null)},
      {label: 'Measured', class: 'num', render: (r) => h('span', {title: `${r.w.good} good, ${r.w.bad} bad, ${r.w.unknown} unknown of ${r.w.intervals}`}, `${r.n} / ${r.w.intervals}`)},
      obj.metric === 'availability' ? {label: 'Bad', class: 'num', render: (r) => h('span', {class: r.w.bad ? 'neg' : null}, String(r.w.bad))} : null,
      {label: 'Compliance', class: 'num', render: (r) => h('span', {class: `tone-text-${r.tone}`}, f.pct(r.w.compliance))},
      obj.metric === 'availability' ? null : {label: 'Violations', class: 'num', render: (r) => h('span', {class: r.w.violations ? 'neg' : null}, String(r.w.violations))},
      {label: 'Penalty paid', class: 'num', render: (r) => h('span', {class: r.w.paid !== '0.00' && r.w.paid !== '0' ? 'neg' : null}, f.money(r.w.paid, st.currency))},
      {label: 'State', render: (r) => (r.w.closed ? pill('closed', 'muted') : r.n ? pill('open', 'info') : pill('upcoming', 'muted'))},
    ].filter(Boolean),
    rows,
    {caption: `${obj.name} windows`, maxHeight: '320px'},
  );
  return h(
    'section',
    {class: 'card objective', 'aria-labelledby': `obj-${obj.name}`, 'data-testid': `objective-${obj.name}`},
    h('div', {class: 'card-header'}, h('div', null, h('h3', {id: `obj-${obj.name}`}, obj.name), h('p', {class: 'card-desc'}, `${f.METRIC_LABEL[obj.metric] || obj.metric} · target ${f.target(obj)}`)), h('span', {class: ['badge', `tone-${hx.tone}`], 'aria-label': hx.label}, h('span', {class: 'dot', 'aria-hidden': 'true'}), hx.tone === 'good' ? 'Healthy' : hx.tone === 'muted' ? 'No data' : hx.tone === 'warn' ? 'Violations' : 'Breached')),
    h('div', {class: 'card-body obj-body'}, big, tbl),
  );
}

async function confirmDialog({title, body, confirm, tone = 'primary', field}) {
  return new Promise((resolve) => {
    const err = h('p', {class: 'field-error', role: 'alert'});
    const dlg = h(
      'dialog',
      {class: 'dialog', 'aria-labelledby': 'dlg-title'},
      h(
        'form',
        {method: 'dialog', onsubmit: async (e) => {
          e.preventDefault();
          const ok = dlg.querySelector('[data-confirm]');
          ok.disabled = true;
          try {
            await confirm(field ? field.value : undefined);
            dlg.close();
            dlg.remove();
            resolve(true);
          } catch (x) {
            err.textContent = x.message;
            if (field) {
              field.setAttribute('aria-invalid', 'true');
              field.focus();
            }
            ok.disabled = false;
          }
        }},
        h('h2', {id: 'dlg-title'}, title),
        h('div', {class: 'dialog-body'}, body, err),
        h('div', {class: 'dialog-actions'}, button('Cancel', {onclick: () => (dlg.close(), dlg.remove(), resolve(false))}), h('button', {class: ['btn', `btn-${tone}`], type: 'submit', 'data-confirm': ''}, title)),
      ),
    );
    document.body.appendChild(dlg);
    dlg.showModal();
    if (field) field.focus();
  });
}

export async function agreementDetail(main, [name], app) {
  let d = null;

  async function load() {
    // Events first, then the agreement: a block committed in between then shows in the
    // figures at least as soon as in the lists, never a penalty listed that the tiles lack
    // (blocks come only with transactions or due work, so the next refresh may be a while).
    const lists = await Promise.all(ACTIVITY_KINDS.map((kind) => api.events(name, {kind, limit: 1000}).catch(() => [])));
    const st = await api.agreement(name);
    const [services, now] = await Promise.all([api.services(name).catch(() => []), nodeNow(app, st.channel)]);
    const byKind = Object.fromEntries(ACTIVITY_KINDS.map((k, i) => [k, lists[i]]));
    const activity = lists.flat().sort((a, b) => b.height - a.height || ACTIVITY_KINDS.indexOf(b.kind) - ACTIVITY_KINDS.indexOf(a.kind));
    const times = new Map();
    await Promise.all([...new Set(activity.slice(0, 60).map((e) => e.height))].map(async (hgt) => times.set(hgt, await blockTime(st.channel, hgt))));
    // The proposal's transaction (when the node names it) holds the signed document and who
    // proposed it, i.e. who has signed already.
    let proposal = null;
    const pe = byKind.proposed[0];
    if (st.status === 'proposed' && pe && pe.transaction) {
      const tx = await api.transaction(pe.transaction).catch(() => null);
      if (tx && tx.transaction) proposal = {doc: tx.transaction.doc, signer: tx.transaction.signer || {}, id: pe.transaction};
    }
    d = {st, services, now, byKind, activity, times, proposal};
  }

  function actions() {
    const {st} = d;
    const me = app.me || {};
    const party = me.org === st.consumer || me.org === st.provider;
    const out = [];
    if (st.status === 'proposed' && party && me.role !== 'auditor' && !signedByMe(st)) {
      out.push(button('Review and sign', {kind: 'primary', iconName: 'shield', onclick: accept, attrs: {'data-testid': 'accept'}}));
    }
    // Either party may decline a proposal: the counter-party rejects it, the proposer withdraws it.
    if (st.status === 'proposed' && party && me.role !== 'auditor') {
      out.push(button(signedByMe(st) ? 'Withdraw proposal' : 'Reject', {onclick: reject, attrs: {'data-testid': 'reject'}}));
    }
    const owed = Number(st.fee) - Number(st.deposited);
    if (st.status !== 'closed' && me.org === st.consumer && me.role === 'consumer' && owed > 0) {
      out.push(button('Fund escrow', {kind: st.status === 'active' ? 'primary' : 'secondary', onclick: deposit, attrs: {'data-testid': 'deposit'}}));
    }
    if (d.services.length && st.status !== 'proposed' && st.status !== 'rejected') out.push(linkButton('Services & charts', `#/services/${enc(name)}/${enc(d.services[0].name)}`, {iconName: 'services', attrs: {'data-testid': 'open-services'}}));
    out.push(button('Statement', {iconName: 'download', onclick: () => download(`${name}.statement.json`, JSON.stringify(st, null, 2)), attrs: {'aria-label': 'Download the statement as JSON'}}));
    return out;
  }

  /** Whether the caller's organization has signed: from the statement when the node says so,
   * else known when this tab proposed it. */
  function signedByMe(st) {
    const me = app.me || {};
    const sig = st.signed || st.signatures;
    if (sig && typeof sig === 'object') return Boolean(me.org === st.consumer ? sig.consumer : sig.provider);
    if (d.proposal && d.proposal.signer.org) return d.proposal.signer.org === me.org;
    return proposedHere(me.org, name);
  }

  async function accept() {
    const {st} = d;
    await confirmDialog({
      title: 'Sign agreement',
      body: h('div', null, h('p', null, `You sign ${name} ${app.me.user ? `as ${app.me.user} of ${app.me.org}` : `for ${app.me.org}`}. Once both parties have signed, the agreement is binding: oracles start measuring and penalties are paid from the escrow automatically.`), facts([['Fee', f.money(st.fee, st.currency)], ['Period', f.period(st.period)], ['Consumer', st.consumer], ['Provider', st.provider]])),
      confirm: async () => {
        const r = await api.accept(name);
        toast('Agreement signed', `${name} · transaction ${f.shortHash(r.transaction, 8)}`, 'good');
      },
    });
    await refresh();
  }

  async function reject() {
    const mine = signedByMe(d.st);
    await confirmDialog({
      title: mine ? 'Withdraw proposal' : 'Reject agreement',
      tone: 'danger',
      body: h('p', null, `You ${mine ? 'withdraw' : 'reject'} ${name} ${app.me.user ? `as ${app.me.user} of ${app.me.org}` : `for ${app.me.org}`}. The ledger records it, and the proposal can never be signed afterwards: nothing is measured and no money moves. A new proposal needs another name.`),
      confirm: async () => {
        const r = await api.reject(name);
        toast(mine ? 'Proposal withdrawn' : 'Agreement rejected', `${name} · transaction ${f.shortHash(r.transaction, 8)}`, 'warn');
      },
    });
    await refresh();
  }

  async function deposit() {
    const {st} = d;
    const owed = f.minorToDecimal(Math.round((Number(st.fee) - Number(st.deposited)) * 10 ** f.minorUnits(st.currency)), f.minorUnits(st.currency));
    const field = h('input', {class: 'input', id: 'deposit-amount', name: 'amount', inputmode: 'decimal', value: owed, 'aria-describedby': 'deposit-hint'});
    await confirmDialog({
      title: 'Fund escrow',
      field,
      body: h('div', {class: 'field'}, h('label', {class: 'label', for: 'deposit-amount'}, `Amount (${st.currency})`), field, h('p', {class: 'hint', id: 'deposit-hint'}, `Moves money from ${st.consumer}’s wallet on ${st.channel} into the agreement’s escrow.`)),
      confirm: async (amount) => {
        const r = await api.deposit(name, amount.trim());
        toast('Escrow funded', `${f.money(amount.trim(), st.currency)} · transaction ${f.shortHash(r.transaction, 8)}`, 'good');
      },
    });
    await refresh();
  }

  function draw() {
    const {st, services, now, byKind, activity, times, proposal: prop} = d;
    const penalties = byKind.penalty.slice().sort((a, b) => b.height - a.height);
    const violations = byKind.violation;
    const closed = st.status === 'closed';
    const cur = st.currency;
    const zero = (s) => !s || /^0(\.0+)?$/.test(s);

    const header = pageHeader(name, {
      back: {href: '#/agreements', label: 'Agreements'},
      eyebrow: `${st.channel} · ${st.consumer} → ${st.provider}`,
      subtitle: h('span', {class: 'inline'}, statusPill(st.status), h('span', {class: 'muted'}, f.period(st.period))),
      actions: actions(),
    });

    const proposal =
      st.status === 'proposed'
        ? h(
            'div',
            null,
            alert('warn', 'Awaiting signature', signedByMe(st) ? `You have signed. ${app.me.org === st.consumer ? st.provider : st.consumer} sees the proposal in their console; the agreement is binding once they sign it too. Until then nothing is measured and no money moves.` : `This agreement becomes binding once both ${st.consumer} (consumer) and ${st.provider} (provider) have signed it. Until then nothing is measured and no money moves.`),
            card(
              'Proposal',
              h(
                'div',
                {class: 'proposal'},
                facts([
                  ['Consumer', st.consumer],
                  ['Provider', st.provider],
                  ['Channel', st.channel],
                  ['Period', f.period(st.period)],
                  ['Fee', f.money(st.fee, cur)],
                ]),
                h('h3', {class: 'subhead'}, 'Services and objectives'),
                services.length
                  ? h('ul', {class: 'svc-list'}, services.map((s) => h('li', null, h('strong', null, s.name), ` · ${f.SERVICE_KIND[s.kind] || s.kind}`, s.objectives.length ? h('div', {class: 'muted small'}, s.objectives.map((o) => `${o.name} (${f.METRIC_LABEL[o.metric] || o.metric})`).join(', ')) : null)))
                  : h('p', {class: 'muted'}, 'No services listed.'),
                prop && prop.doc ? h('details', {class: 'doc'}, h('summary', null, `The document ${prop.signer.subject ? `${prop.signer.subject} of ${prop.signer.org}` : prop.signer.org || 'the proposer'} signed`), h('pre', {class: 'code'}, prop.doc), h('a', {href: `#/tx/${prop.id}`}, 'The proposal’s transaction and proof')) : null,
              ),
              {id: 'proposal'},
            ),
          )
        : null;

    const stats = h(
      'div',
      {class: 'stats'},
      stat('Fee', f.money(st.fee, cur), {note: `${f.money(st.deposited, cur)} deposited`}),
      stat('In escrow', f.money(st.escrow, cur), {note: closed ? 'released' : 'held by the contract', testid: 'stat-escrow'}),
      stat('Penalties paid', f.money(st.penalties, cur), {note: `to ${st.consumer}`, tone: zero(st.penalties) ? null : 'bad', testid: 'stat-penalties'}),
      stat('Settled', f.money(st.settled, cur), {note: `to ${st.provider}`, testid: 'stat-settled'}),
    );

    const objectives = (st.objectives || []).length && st.status !== 'rejected' ? h('div', {class: 'objectives'}, st.objectives.map((o) => objectiveCard(o, st, now))) : null;

    const penaltyTable = table(
      [
        {label: 'When (UTC)', render: (p) => h('span', {class: 'nowrap'}, f.time(times.get(p.height) || null, {seconds: true, utc: false}))},
        {label: 'Why', render: (p) => penaltyWhy(p, violations, st)},
        {label: 'Amount', class: 'num', render: (p) => h('strong', {class: 'neg'}, f.moneyMinor(p.amount, p.currency || cur))},
        {label: 'To', render: (p) => p.to || st.consumer},
        {label: 'Transaction', render: (p) => txLink(p, st.channel)},
      ],
      penalties,
      {caption: 'Penalties paid', testid: 'penalties-table', empty: emptyState('No penalties', closed ? 'Every objective met its target over the period.' : 'Every objective is within its target so far. A penalty is paid here the moment a breach becomes certain.')},
    );

    const billing = table(
      [
        {label: 'Billing window', render: (b) => f.span(b.start, b.end)},
        {label: 'Share of fee', class: 'num', render: (b) => f.money(b.share, cur)},
        {label: 'Penalties', class: 'num', render: (b) => h('span', {class: zero(b.penalties) ? null : 'neg'}, f.money(b.penalties, cur))},
        {label: `Settled to ${st.provider}`, class: 'num', render: (b) => f.money(b.settled, cur)},
        {label: 'State', render: (b) => (b.closed ? pill('settled', 'good') : pill('open', 'info'))},
      ],
      st.billing || [],
      {caption: 'Billing windows', testid: 'billing-table', empty: emptyState('No billing windows yet', 'They appear once the agreement is active.')},
    );

    const finalStatement = closed
      ? card(
          'Final statement',
          h(
            'div',
            {class: 'final'},
            h('p', {class: 'lead'}, `The period ended and the escrow is settled. Of the fee of ${f.money(st.fee, cur)}, ${f.money(st.penalties, cur)} went to ${st.consumer} as penalties, ${f.money(st.settled, cur)} to ${st.provider}${zero(st.refunded) ? '' : `, and ${f.money(st.refunded, cur)} was refunded`}.`),
            split([
              [`Penalties to ${st.consumer}`, st.penalties, 'bad'],
              [`Settled to ${st.provider}`, st.settled, 'good'],
              [`Refunded to ${st.consumer}`, st.refunded, 'info'],
            ], cur),
            zero(st.shortfall) ? null : alert('error', 'Shortfall', `${f.money(st.shortfall, cur)} of penalties could not be paid from the escrow.`),
            button('Download statement (JSON)', {iconName: 'download', onclick: () => download(`${name}.statement.json`, JSON.stringify(st, null, 2))}),
          ),
          {id: 'final', class: 'card-accent'},
        )
      : null;

    const activityList = activity.length
      ? h(
          'ol',
          {class: 'timeline', 'aria-label': 'Activity'},
          activity.slice(0, 60).map((e) => h('li', {class: `ev ev-${e.kind}`}, h('span', {class: 'ev-dot', 'aria-hidden': 'true'}), h('div', {class: 'ev-body'}, h('div', null, activityText(e, st)), h('div', {class: 'muted small'}, f.time(times.get(e.height) || null, {seconds: true}), ' · ', h('a', {href: `#/ledger/${enc(st.channel)}/${e.height}`}, `block #${e.height}`), e.transaction ? [' · ', h('a', {href: `#/tx/${e.transaction}`}, 'transaction')] : null)))),
        )
      : emptyState('Nothing yet', 'Events appear here as the ledger records them.');

    swap(
      main,
      header,
      proposal,
      finalStatement,
      st.status === 'rejected' ? alert('error', 'Rejected', 'A party declined this proposal. It is not binding: nothing is measured and no money moves.') : null,
      st.status !== 'proposed' && st.status !== 'rejected' ? stats : null,
      objectives ? h('h2', {class: 'section-title'}, 'Compliance') : null,
      objectives,
      st.status !== 'proposed' && st.status !== 'rejected' ? card('Penalties paid', penaltyTable, {id: 'penalties', description: 'Paid from the escrow to the consumer the moment a breach is certain: when even a perfect rest of the window could no longer meet the target.'}) : null,
      st.status !== 'proposed' && st.status !== 'rejected' ? card('Escrow and settlements', billing, {id: 'billing', description: 'Each billing window’s share of the fee goes to the provider when the window closes, less the penalties paid in it.'}) : null,
      card('Activity', activityList, {id: 'activity'}),
    );
  }

  async function refresh() {
    await load();
    draw();
  }

  try {
    await load();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      swap(main, pageHeader(name, {back: {href: '#/agreements', label: 'Agreements'}}), h('div', {'data-testid': 'not-found'}, emptyState('Agreement not found', `There is no agreement called “${name}” that ${app.me && app.me.org ? app.me.org : 'you'} may see. Agreements are visible only to their consumer, their provider and auditors.`, linkButton('Back to agreements', '#/agreements'))));
      return null;
    }
    throw e;
  }
  draw();
  return {refresh};
}


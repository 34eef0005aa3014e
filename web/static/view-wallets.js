// view-wallets.js: an organization's balances per channel and currency, the escrows its
// agreements hold, and the movements of its money that agreements made (deposits into escrow,
// penalties received, settlements, refunds), each with its block.

import {h, swap} from './dom.js';
import {api, ApiError} from './api.js';
import * as f from './fmt.js';
import {pageHeader, card, stat, table, emptyState, pill} from './ui.js';
import {moneyEvents} from './data.js';

const enc = encodeURIComponent;

/** How a money event moves org's wallet: +1 in, -1 out, 0 not at all. */
function direction(e, org) {
  if (e.kind === 'deposited') return e.consumer === org ? -1 : 0;
  return e.to === org ? 1 : 0;
}

const KIND_LABEL = {deposited: 'Deposit into escrow', penalty: 'Penalty received', settlement: 'Settlement', refund: 'Refund'};

export async function walletsView(main, params, app) {
  const me = app.me || {};
  let org = new URLSearchParams(location.hash.split('?')[1] || '').get('org') || me.org;
  let d = null;

  async function load() {
    const agreements = await api.agreements();
    let wallet = null;
    let error = null;
    try {
      wallet = await api.wallet(org);
    } catch (e) {
      error = e;
    }
    const mine = agreements.filter((a) => a.consumer === org || a.provider === org);
    const events = (await Promise.all(mine.map((a) => moneyEvents(a)))).flat().filter((e) => direction(e, org) !== 0);
    events.sort((a, b) => (b.time || '').localeCompare(a.time || '') || b.height - a.height);
    const orgs = [...new Set(agreements.flatMap((a) => [a.consumer, a.provider]).concat(me.org ? [me.org] : []))].filter(Boolean).sort();
    d = {agreements, wallet, error, mine, events, orgs};
  }

  function draw() {
    const {wallet, error, mine, events, orgs} = d;
    const balances = wallet ? wallet.balances || [] : [];
    const totals = new Map();
    for (const b of balances) totals.set(b.currency, (totals.get(b.currency) || 0) + b.balance);
    const escrow = new Map();
    for (const a of mine.filter((x) => x.consumer === org)) escrow.set(a.currency, (escrow.get(a.currency) || 0) + a.escrow);
    const received = new Map();
    for (const e of events.filter((x) => x.kind === 'penalty')) received.set(e.currency, (received.get(e.currency) || 0) + e.amount);
    const settled = new Map();
    for (const e of events.filter((x) => x.kind === 'settlement')) settled.set(e.currency, (settled.get(e.currency) || 0) + e.amount);
    const sum = (m) => (m.size ? [...m.entries()].map(([c, v]) => f.moneyMinor(v, c)).join(' + ') : '—');

    const picker =
      me.role === 'auditor'
        ? h(
            'div',
            {class: 'toolbar'},
            h('label', {class: 'label inline-label', for: 'wallet-org'}, 'Organization'),
            h('select', {id: 'wallet-org', class: 'input input-sm', onchange: async (e) => {
              org = e.target.value;
              history.replaceState(null, '', `#/wallets?org=${enc(org)}`);
              await load();
              draw();
            }}, orgs.map((o) => h('option', {value: o, selected: o === org}, o))),
          )
        : null;

    swap(
      main,
      pageHeader('Wallets', {subtitle: `Balances of ${org || 'your organization'} on each channel, in the channel’s tokens. Money moves only by the contract’s rules.`, actions: picker}),
      error
        ? card(null, emptyState('No wallet to show', error instanceof ApiError && error.status === 404 ? `You may not see the wallet of ${org}.` : error.message))
        : h(
            'div',
            {class: 'stats', 'data-testid': 'wallet-stats'},
            stat('Balance', totals.size ? sum(totals) : f.moneyMinor(0, 'EUR'), {note: `${balances.length} account${balances.length === 1 ? '' : 's'}`, testid: 'wallet-total'}),
            mine.some((a) => a.consumer === org) ? stat('In escrow', sum(escrow), {note: 'deposited into agreements'}) : null,
            mine.some((a) => a.consumer === org) ? stat('Penalties received', sum(received), {tone: received.size ? 'good' : null}) : null,
            mine.some((a) => a.provider === org) ? stat('Settlements received', sum(settled)) : null,
          ),
      wallet
        ? card(
            'Accounts',
            table(
              [
                {label: 'Channel', render: (b) => h('a', {href: `#/ledger/${enc(b.channel)}`}, b.channel)},
                {label: 'Currency', render: (b) => b.currency},
                {label: 'Balance', class: 'num', render: (b) => h('strong', {'data-testid': `balance-${b.channel}`}, f.moneyMinor(b.balance, b.currency))},
                {label: 'Last change', class: 'num', render: (b) => h('a', {class: 'mono', href: `#/ledger/${enc(b.channel)}/${b.updated_height}`}, `block #${b.updated_height}`)},
              ],
              balances,
              {caption: 'Accounts', testid: 'balances-table', empty: emptyState('No tokens yet', `${org} holds no tokens on any channel. An issuer creates them; a consumer needs them to fund an escrow.`)},
            ),
            {id: 'accounts'},
          )
        : null,
      card(
        'Movements',
        table(
          [
            {label: 'When', render: (e) => h('span', {class: 'nowrap'}, f.time(e.time, {seconds: true}))},
            {label: 'Movement', render: (e) => h('div', null, KIND_LABEL[e.kind] || e.kind, h('div', {class: 'muted small'}, e.kind === 'deposited' ? `${org} → escrow of ${e.agreement}` : `escrow of ${e.agreement} → ${e.to}`, e.objective ? ` · ${e.objective}` : ''))},
            {label: 'Agreement', render: (e) => h('a', {href: `#/agreements/${enc(e.agreement)}`}, e.agreement)},
            {label: 'Amount', class: 'num', render: (e) => h('strong', {class: direction(e, org) > 0 ? 'pos' : 'neg'}, `${direction(e, org) > 0 ? '+' : '−'}${f.moneyMinor(e.amount, e.currency)}`)},
            {label: 'Block', class: 'num', render: (e) => h('a', {class: 'mono', href: `#/ledger/${enc(e.channel)}/${e.height}`}, `#${e.height}`)},
          ],
          events,
          {caption: 'Movements', testid: 'movements-table', maxHeight: '520px', empty: emptyState('No movements yet', 'Deposits, penalties, settlements and refunds of your agreements appear here.')},
        ),
        {id: 'movements', description: 'What agreements moved into or out of this wallet. Issuing and redeeming tokens are on the ledger too, as transactions.'},
      ),
      mine.length
        ? card(
            'Escrows',
            table(
              [
                {label: 'Agreement', render: (a) => h('a', {href: `#/agreements/${enc(a.name)}`}, a.name)},
                {label: 'Role', render: (a) => (a.consumer === org ? 'consumer' : 'provider')},
                {label: 'Status', render: (a) => pill(a.status)},
                {label: 'Deposited', class: 'num', render: (a) => f.moneyMinor(a.deposited, a.currency)},
                {label: 'Penalties', class: 'num', render: (a) => f.moneyMinor(a.penalties, a.currency)},
                {label: 'Settled', class: 'num', render: (a) => f.moneyMinor(a.settled, a.currency)},
                {label: 'Held', class: 'num', render: (a) => h('strong', null, f.moneyMinor(a.escrow, a.currency))},
              ],
              mine,
              {caption: 'Escrows'},
            ),
            {id: 'escrows', description: 'Each agreement’s escrow: what the consumer deposited, what went out as penalties and settlements, what is still held.'},
          )
        : null,
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

// view-ledger.js: the ledger explorer. A channel's blocks (newest first, empty tick blocks
// hidden unless asked for), one block with its transactions, and one transaction: what it
// says, whether it is valid (and why not), and its inclusion proof to download and check
// offline with `slaledger ledger check-proof`.

import {h, icon, swap, download, copyText} from './dom.js';
import {api, ApiError} from './api.js';
import * as f from './fmt.js';
import {pageHeader, card, pill, table, emptyState, errorBox, button, linkButton, facts, toast, code} from './ui.js';

const enc = encodeURIComponent;
const WINDOW = 250;

/** The channels whose blocks this token may read. */
async function readableChannels(app) {
  const names = (app.health && app.health.channels ? app.health.channels : []).map((c) => c.name);
  const ok = await Promise.all(names.map((c) => api.blocks(c, {limit: 1}).then((d) => ({name: c, head: d.head})).catch(() => null)));
  return ok.filter(Boolean);
}

function txSearch(app) {
  const input = h('input', {id: 'tx-search', 'data-key': 'tx-search', class: 'input mono', placeholder: 'Transaction id (64 hex digits)', 'aria-label': 'Transaction id', spellcheck: 'false', autocomplete: 'off'});
  const err = h('p', {class: 'field-error', id: 'tx-search-error', 'aria-live': 'polite'});
  input.setAttribute('aria-describedby', 'tx-search-error');
  return h(
    'form',
    {class: 'search', role: 'search', onsubmit: (e) => {
      e.preventDefault();
      const v = input.value.trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(v)) {
        err.textContent = 'A transaction id is 64 hexadecimal digits.';
        input.setAttribute('aria-invalid', 'true');
        return;
      }
      app.navigate(`tx/${v}`);
    }},
    h('div', {class: 'search-box'}, icon('search'), input, h('button', {class: 'btn btn-secondary btn-sm', type: 'submit'}, 'Find')),
    err,
  );
}

export async function ledgerView(main, [channelParam], app) {
  const channels = await readableChannels(app);
  if (!channels.length) {
    swap(main, pageHeader('Ledger'), card(null, emptyState('No channels to show', 'You are not a member of any channel this node serves.')));
    return null;
  }
  const channel = channels.find((c) => c.name === channelParam) ? channelParam : channels[0].name;
  const state = {top: null, hideEmpty: true};
  // Made once: every new block redraws the page, and what someone is typing must survive it.
  const search = card('Find a transaction', txSearch(app), {id: 'tx-find'});
  let d = null;

  async function load() {
    const head = (await api.blocks(channel, {limit: 1})).head;
    const top = state.top === null ? head : Math.min(state.top, head);
    const from = Math.max(0, top - WINDOW + 1);
    const r = await api.blocks(channel, {from, limit: top - from + 1});
    d = {head, top, from, blocks: (r.blocks || []).slice().reverse(), following: state.top === null};
  }

  function draw() {
    const {head, top, from, blocks} = d;
    const shown = state.hideEmpty ? blocks.filter((b) => b.transactions > 0 || b.height === 0) : blocks;
    const headBlock = blocks[0];
    const tabs = h('nav', {class: 'tabs', 'aria-label': 'Channels'}, channels.map((c) => h('a', {href: `#/ledger/${enc(c.name)}`, class: c.name === channel ? 'active' : null, 'aria-current': c.name === channel ? 'page' : null}, c.name)));
    const hide = h('label', {class: 'check', for: 'hide-empty'}, h('input', {type: 'checkbox', id: 'hide-empty', 'data-key': 'hide-empty', checked: state.hideEmpty, onchange: (e) => {
      state.hideEmpty = e.target.checked;
      draw();
    }}), h('span', null, 'Hide blocks without transactions'));
    const nav = h(
      'nav',
      {class: 'pager', 'aria-label': 'Block ranges'},
      h('span', {class: 'pager-info'}, `Blocks #${from}–#${top} of ${head + 1}`),
      h('div', {class: 'pager-buttons'},
        button('Newest', {disabled: d.following, onclick: async () => ((state.top = null), await load(), draw()), attrs: {'data-key': 'newest'}}),
        button('Newer', {disabled: top >= head, onclick: async () => ((state.top = Math.min(head, top + WINDOW)), await load(), draw()), attrs: {'data-key': 'newer'}}),
        button('Older', {disabled: from <= 0, onclick: async () => ((state.top = from - 1), await load(), draw()), attrs: {'data-key': 'older'}})),
    );
    swap(
      main,
      pageHeader('Ledger', {subtitle: 'Every block is signed by the orderer and chained by hash; any transaction can be proven to be in the ledger offline.'}),
      tabs,
      h(
        'div',
        {class: 'stats'},
        h('div', {class: 'stat'}, h('div', {class: 'stat-label'}, 'Height'), h('div', {class: 'stat-value', 'data-testid': 'ledger-height'}, `#${head}`), h('div', {class: 'stat-note'}, headBlock ? f.time(headBlock.time, {seconds: true}) : '')),
        h('div', {class: 'stat wide-stat'}, h('div', {class: 'stat-label'}, 'Head hash'), h('div', {class: 'stat-value mono hash'}, headBlock && head === top ? headBlock.hash : '—'), h('div', {class: 'stat-note'}, headBlock ? `ordered by ${headBlock.orderer}` : '')),
      ),
      search,
      card(
        `Blocks on ${channel}`,
        h(
          'div',
          null,
          h('div', {class: 'toolbar'}, hide, h('span', {class: 'muted small'}, `${shown.length} shown`)),
          table(
            [
              {label: 'Height', class: 'num', render: (b) => h('a', {class: 'mono', href: `#/ledger/${enc(channel)}/${b.height}`, 'data-testid': 'block-link'}, `#${b.height}`)},
              {label: 'Time (UTC)', render: (b) => h('span', {class: 'nowrap'}, f.time(b.time, {seconds: true, utc: false}))},
              {label: 'Transactions', class: 'num', render: (b) => (b.transactions ? h('strong', null, String(b.transactions)) : h('span', {class: 'muted'}, b.height === 0 ? 'genesis' : 'tick'))},
              {label: 'Orderer', render: (b) => b.orderer},
              {label: 'Hash', render: (b) => h('span', {class: 'mono', title: b.hash}, f.shortHash(b.hash, 12))},
            ],
            shown,
            {caption: `Blocks on ${channel}`, testid: 'blocks-table', maxHeight: '560px', empty: emptyState('No blocks with transactions here', 'Show empty blocks, or look at older blocks.')},
          ),
          nav,
        ),
        {id: 'blocks'},
      ),
    );
  }

  await load();
  draw();
  return {
    async refresh() {
      if (!d.following) return;
      await load();
      draw();
    },
  };
}

export async function blockView(main, [channel, heightStr], app) {
  const height = Number(heightStr);
  const r = await api.blocks(channel, {from: height, limit: 1});
  const b = r.blocks && r.blocks[0];
  if (!b) {
    swap(main, pageHeader(`Block #${height}`, {back: {href: `#/ledger/${enc(channel)}`, label: channel}}), emptyState('No such block', `${channel} has ${r.head + 1} blocks.`));
    return null;
  }
  let detail = null;
  let detailError = null;
  try {
    detail = await api.block(channel, height);
  } catch (e) {
    detailError = e;
  }
  const txs = detail && (detail.transactions || detail.txs);
  const txTable = txs
    ? table(
        [
          {label: '#', class: 'num', render: (t) => String(t.index)},
          {label: 'Transaction', render: (t) => h('a', {class: 'mono', href: `#/tx/${t.id}`, 'data-testid': 'tx-link'}, f.shortHash(t.id, 12))},
          {label: 'Type', render: (t) => t.type || '—'},
          {label: 'Signer', render: (t) => (t.signer ? `${t.signer.subject || t.signer}${t.signer.org ? `@${t.signer.org}` : ''}` : '—')},
          {label: 'Result', render: (t) => h('div', null, pill(t.code || 'valid'), t.reason ? h('div', {class: 'muted small'}, t.reason) : null)},
        ],
        txs,
        {caption: `Transactions in block ${height}`, testid: 'block-txs', empty: emptyState('No transactions', 'A tick: the orderer cut this block to move the ledger’s clock; the contract closed intervals and windows at its time.')},
      )
    : b.transactions === 0
      ? emptyState('No transactions', 'A tick: the orderer cut this block to move the ledger’s clock; the contract closed intervals and windows at its time.')
      : h('p', {class: 'muted'}, detailError instanceof ApiError && detailError.status === 404 ? `This block holds ${b.transactions} transaction${b.transactions === 1 ? '' : 's'}. This node does not list a block’s transactions; open one by its id (from an agreement’s page or the API).` : `This block holds ${b.transactions} transaction${b.transactions === 1 ? '' : 's'}.`);

  swap(
    main,
    pageHeader(`Block #${height}`, {
      back: {href: `#/ledger/${enc(channel)}`, label: channel},
      eyebrow: channel,
      actions: [height > 0 ? linkButton('Previous', `#/ledger/${enc(channel)}/${height - 1}`, {attrs: {'aria-label': 'Previous block'}}) : null, height < r.head ? linkButton('Next', `#/ledger/${enc(channel)}/${height + 1}`, {attrs: {'aria-label': 'Next block'}}) : null],
    }),
    card('Header', facts([
      ['Height', `#${height}`],
      ['Time', f.time(b.time, {seconds: true})],
      ['Ordered by', b.orderer],
      ['Transactions', String(b.transactions)],
      ['Hash', h('span', {class: 'mono hash'}, b.hash)],
      detail && detail.prev ? ['Previous hash', h('span', {class: 'mono hash'}, detail.prev)] : null,
      detail && detail.merkle_root ? ['Merkle root', h('span', {class: 'mono hash'}, detail.merkle_root)] : null,
    ]), {id: 'block-header'}),
    card('Transactions', txTable, {id: 'block-txs'}),
  );
  return null;
}

// ---- one transaction ----

const KNOWN = new Set(['id', 'type', 'channel', 'nonce', 'expires_ms', 'expires', 'signer', 'size', 'doc', 'doc_hash']);

function contents(tx) {
  const rows = [];
  for (const [k, v] of Object.entries(tx)) {
    if (KNOWN.has(k)) continue;
    rows.push([k.replace(/_/g, ' '), typeof v === 'object' && v !== null ? h('pre', {class: 'code small-code'}, JSON.stringify(v, null, 2)) : String(v)]);
  }
  return rows;
}

export async function transactionView(main, [id], app) {
  let r;
  try {
    r = await api.transaction(id.toLowerCase());
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      swap(main, pageHeader('Transaction', {back: {href: '#/ledger', label: 'Ledger'}}), card(null, h('div', {'data-testid': 'tx-not-found'}, emptyState('Transaction not found', `No transaction ${f.shortHash(id, 12)} on a channel you are a member of.`))));
      return null;
    }
    throw e;
  }
  const tx = r.transaction || {};
  const proof = r.proof;
  const signer = tx.signer || {};
  const head = proof ? proof.height + (proof.headers ? proof.headers.length : 1) - 1 : null;
  const file = `proof-${id.slice(0, 12)}.json`;
  const cmd = `slaledger ledger check-proof ${file} --genesis ${r.channel}.block`;

  const proofCard = proof
    ? card(
        'Inclusion proof',
        h(
          'div',
          {class: 'proof', 'data-testid': 'proof'},
          h('p', null, 'Anyone can check, offline and with nothing but the channel’s genesis block, that this transaction is in the ledger with this result: the signer’s certificate and signature, the Merkle path to the block’s root, the block’s result codes, and every header’s orderer signature and hash link up to the head.'),
          facts([
            ['Block', `#${proof.height}, position ${proof.index} of ${proof.n_tx}`],
            ['Merkle path', `${(proof.path || []).length} hash${(proof.path || []).length === 1 ? '' : 'es'}`],
            ['Signed headers', `${(proof.headers || []).length}, up to head #${head}`],
            ['Proof size', `${f.int(JSON.stringify(proof).length)} bytes`],
          ]),
          h('div', {class: 'proof-actions'}, button('Download proof', {kind: 'primary', iconName: 'download', onclick: () => download(file, `${JSON.stringify(proof, null, 2)}\n`), attrs: {'data-testid': 'download-proof'}}), button('Copy check command', {iconName: 'copy', onclick: async () => toast((await copyText(cmd)) ? 'Copied' : 'Copy failed', cmd, 'info')})),
          h('pre', {class: 'code cmd'}, `$ ${cmd}`),
        ),
        {id: 'proof', class: 'card-accent'},
      )
    : card('Inclusion proof', errorBox(new Error('The node gave no proof for this transaction.')));

  swap(
    main,
    pageHeader(`${tx.type ? tx.type[0].toUpperCase() + tx.type.slice(1) : 'Transaction'}`, {
      back: {href: `#/ledger/${enc(r.channel)}/${r.height}`, label: `Block #${r.height}`},
      eyebrow: `Transaction · ${r.channel}`,
      subtitle: h('span', {class: 'inline mono hash', 'data-testid': 'tx-id'}, id),
    }),
    r.code === 'valid'
      ? h('div', {class: 'alert alert-success', role: 'status', 'data-testid': 'tx-code'}, icon('check'), h('div', null, h('strong', null, 'Valid'), h('p', null, 'The contract applied this transaction.')))
      : h('div', {class: 'alert alert-error', role: 'status', 'data-testid': 'tx-code'}, icon('alert'), h('div', null, h('strong', null, r.code === 'refused' ? 'Refused by the contract' : `Invalid (${r.code})`), h('p', null, r.reason || 'No reason recorded.'), h('p', {class: 'small'}, 'It is kept in the ledger as it arrived, and changed nothing.'))),
    h(
      'div',
      {class: 'grid-2'},
      card('Details', facts([
        ['Type', tx.type || '—'],
        ['Signed by', signer.subject ? `${signer.subject} of ${signer.org} (${signer.role})` : '—'],
        ['Block', h('a', {href: `#/ledger/${enc(r.channel)}/${r.height}`}, `#${r.height}`)],
        ['Position', String(r.index)],
        ['Channel', r.channel],
        ['Expires', tx.expires ? f.time(tx.expires, {seconds: true}) : '—'],
        ['Size', tx.size ? `${f.int(tx.size)} bytes` : '—'],
        ['Signer key', signer.public_key ? h('span', {class: 'mono hash'}, signer.public_key) : '—'],
        ...contents(tx),
      ]), {id: 'tx-details'}),
      proofCard,
    ),
    tx.doc ? card('Signed document', h('div', null, tx.doc_hash ? h('p', {class: 'muted small'}, 'SHA-256 ', code(tx.doc_hash)) : null, h('pre', {class: 'code'}, tx.doc)), {id: 'tx-doc'}) : null,
  );
  return null;
}

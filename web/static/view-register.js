// view-register.js: proposing an agreement. A form per common service kind (AWS EC2, Azure VM,
// HTTP endpoint, Prometheus) writes the agreement document (YAML, shown as it is written), or a
// document is pasted or uploaded as it is. The node validates it; an error comes back with the
// document field it concerns, which is shown next to the form field that wrote it.

import {h, icon, swap, $$} from './dom.js';
import {api, ApiError} from './api.js';
import * as f from './fmt.js';
import {pageHeader, card, alert, linkButton, facts} from './ui.js';
import {nodeNow} from './data.js';

const KINDS = [
  {id: 'aws.ec2', label: 'AWS EC2', text: 'An EC2 instance watched through CloudWatch'},
  {id: 'azure.vm', label: 'Azure VM', text: 'A virtual machine watched through Azure Monitor'},
  {id: 'http', label: 'HTTP endpoint', text: 'A website or API probed over HTTP(S)'},
  {id: 'prometheus', label: 'Prometheus', text: 'Metrics queried from a Prometheus server'},
  {id: 'yaml', label: 'YAML document', text: 'Paste or upload a complete agreement'},
];

const SOURCE_FIELDS = {
  'aws.ec2': [
    ['region', 'Region', {required: true, placeholder: 'eu-central-1', value: 'eu-central-1'}],
    ['instance', 'Instance id', {required: true, placeholder: 'i-0abc123def4567890'}],
    ['credentials', 'Credentials name', {required: true, value: 'aws-main', hint: 'The name of an entry in each node’s secrets file; never the secret itself.'}],
    ['endpoint', 'CloudWatch endpoint', {placeholder: 'optional, e.g. a sovereign cloud', advanced: true}],
  ],
  'azure.vm': [
    ['subscription', 'Subscription id', {required: true, placeholder: '3f2b8c1e-…'}],
    ['resource_group', 'Resource group', {required: true, placeholder: 'rg-apps'}],
    ['vm', 'VM name', {required: true, placeholder: 'app-02'}],
    ['tenant', 'Tenant id', {required: true, placeholder: '8e7d6c5b-…'}],
    ['credentials', 'Credentials name', {required: true, value: 'azure-main', hint: 'The name of an entry in each node’s secrets file; never the secret itself.'}],
  ],
  http: [
    ['url', 'URL', {required: true, placeholder: 'https://shop.example.com/health', type: 'url'}],
    ['method', 'Method', {options: ['GET', 'HEAD'], value: 'GET'}],
    ['expect_status', 'Expected status', {placeholder: '200', inputmode: 'numeric'}],
    ['timeout', 'Timeout', {value: '5s', placeholder: '5s'}],
  ],
  prometheus: [['url', 'Prometheus URL', {required: true, placeholder: 'http://prometheus.internal:9090', type: 'url'}]],
};

const SERVICE_DEFAULT = {'aws.ec2': 'vm', 'azure.vm': 'vm', http: 'site', prometheus: 'api'};
const WINDOWS = ['1h', '6h', 'calendar-day', 'calendar-month', 'period'];
const BILLING = ['period', 'calendar-month', 'calendar-day', '1h'];
const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const q = (s) => JSON.stringify(String(s));

function isoFromLocal(v) {
  return v ? `${v.length === 16 ? `${v}:00` : v}Z` : '';
}

function localFromMs(t) {
  return new Date(t).toISOString().slice(0, 16);
}

// ---- the form's fields ----

/** A labelled input; path is the document field it writes (errors come back by that path). */
function field(id, label, {path, required, hint, placeholder, value, type = 'text', options, inputmode, list, wide, min, step} = {}) {
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
  const control = options
    ? h('select', {id, name: id, class: 'input', 'data-path': path, 'aria-describedby': describedBy}, options.map((o) => h('option', {value: o, selected: o === value}, o)))
    : h('input', {id, name: id, class: 'input', type, value: value ?? '', placeholder, required, inputmode, list, min, step, 'data-path': path, 'aria-describedby': describedBy, autocomplete: 'off', spellcheck: 'false'});
  return h(
    'div',
    {class: ['field', wide && 'wide']},
    h('label', {class: 'label', for: id}, label, required ? h('span', {class: 'req', 'aria-hidden': 'true'}, ' *') : null),
    control,
    hint ? h('p', {class: 'hint', id: `${id}-hint`}, hint) : null,
    h('p', {class: 'field-error', id: `${id}-error`, 'aria-live': 'polite'}),
  );
}

function checkbox(id, label, checked, onchange) {
  return h('label', {class: 'check', for: id}, h('input', {type: 'checkbox', id, checked, onchange}), h('span', null, label));
}

const val = (form, id) => {
  const el = form.querySelector(`#${CSS.escape(id)}`);
  return el ? el.value.trim() : '';
};

// ---- the document ----

/** Writes the agreement YAML from the form, and the map of document paths to input ids. */
function buildYaml(form, kind) {
  const v = (id) => val(form, id);
  const lines = [];
  const put = (s) => lines.push(s);
  put('apiVersion: slaledger/v1');
  put('kind: Agreement');
  put('metadata:');
  put(`  name: ${q(v('name'))}`);
  if (v('description')) put(`  description: ${q(v('description'))}`);
  put('spec:');
  put(`  channel: ${q(v('channel'))}`);
  put(`  consumer: ${q(v('consumer'))}`);
  put(`  provider: ${q(v('provider'))}`);
  put(`  period: {start: ${q(isoFromLocal(v('start')))}, end: ${q(isoFromLocal(v('end')))}}`);
  put(`  fee: {amount: ${q(v('fee'))}, currency: ${q(v('currency'))}}`);
  if (v('billing')) put(`  billing: ${q(v('billing'))}`);
  if (v('grace')) put(`  grace: ${q(v('grace'))}`);
  put('  services:');
  put(`    - name: ${q(v('service'))}`);
  put(`      kind: ${kind}`);
  const src = (SOURCE_FIELDS[kind] || []).filter(([key]) => v(`src-${key}`));
  if (src.length) {
    put('      source:');
    for (const [key] of src) put(`        ${key}: ${q(v(`src-${key}`))}`);
  }
  const members = v('oracles')
    .split(/[\s,]+/)
    .filter(Boolean);
  put('  oracles:');
  put(`    members: [${members.map(q).join(', ')}]`);
  put(`    policy: ${q(v('policy'))}`);
  if (v('quorum')) put(`    quorum: ${v('quorum')}`);
  put('  objectives:');
  const objectives = [];
  if (form.querySelector('#use-uptime').checked) objectives.push('uptime');
  if (form.querySelector('#use-latency').checked) objectives.push('latency');
  const penalties = [];
  for (const o of objectives) {
    if (o === 'uptime') {
      put(`    - name: uptime`);
      put(`      metric: availability`);
      put(`      interval: ${q(v('up-interval'))}`);
      put(`      window: ${q(v('up-window'))}`);
      put(`      target: ${q(`>= ${v('up-target')}%`)}`);
      if (kind === 'prometheus' && v('up-query')) put(`      query: ${q(v('up-query'))}`);
      const tiers = [1, 2, 3].filter((i) => v(`tier${i}-below`) && v(`tier${i}-credit`));
      if (tiers.length) penalties.push(['uptime', tiers]);
    } else {
      put(`    - name: latency`);
      put(`      metric: response_time`);
      put(`      percentile: ${v('lat-percentile') || '95'}`);
      put(`      interval: ${q(v('lat-interval'))}`);
      put(`      window: ${q(v('lat-window'))}`);
      put(`      target: ${q(`<= ${v('lat-target')}ms`)}`);
      if (kind === 'prometheus' && v('lat-query')) put(`      query: ${q(v('lat-query'))}`);
      if (v('lat-per')) penalties.push(['latency', null]);
    }
  }
  if (penalties.length) {
    put('  penalties:');
    for (const [o, tiers] of penalties) {
      if (tiers) {
        put(`    - objective: uptime`);
        put('      tiers:');
        for (const i of tiers) put(`        - {below: ${q(`${v(`tier${i}-below`)}%`)}, credit: ${q(`${v(`tier${i}-credit`)}%`)}}`);
      } else {
        put(`    - objective: ${o}`);
        put(`      per_violation: ${q(v('lat-per'))}`);
        if (v('lat-cap')) put(`      cap: ${q(`${v('lat-cap')}%`)}`);
      }
    }
  }
  // Document paths to the inputs that wrote them.
  const paths = {
    'metadata.name': 'name',
    'metadata.description': 'description',
    'spec.channel': 'channel',
    'spec.consumer': 'consumer',
    'spec.provider': 'provider',
    'spec.period': 'start',
    'spec.period.start': 'start',
    'spec.period.end': 'end',
    'spec.fee': 'fee',
    'spec.fee.amount': 'fee',
    'spec.fee.currency': 'currency',
    'spec.billing': 'billing',
    'spec.grace': 'grace',
    'spec.services': 'service',
    'spec.services[0]': 'service',
    'spec.services[0].name': 'service',
    'spec.services[0].source': `src-${(SOURCE_FIELDS[kind] || [['url']])[0][0]}`,
    'spec.oracles': 'oracles',
    'spec.oracles.members': 'oracles',
    'spec.oracles.policy': 'policy',
    'spec.oracles.quorum': 'quorum',
    'spec.objectives': objectives.length ? (objectives[0] === 'uptime' ? 'up-target' : 'lat-target') : 'use-uptime',
    'spec.penalties': objectives.includes('uptime') ? 'tier1-below' : 'lat-per',
  };
  for (const [key] of SOURCE_FIELDS[kind] || []) paths[`spec.services[0].source.${key}`] = `src-${key}`;
  objectives.forEach((o, i) => {
    const p = o === 'uptime' ? 'up' : 'lat';
    paths[`spec.objectives[${i}]`] = `${p}-target`;
    for (const k of ['interval', 'window', 'target', 'query']) paths[`spec.objectives[${i}].${k}`] = `${p}-${k}`;
    if (o === 'latency') paths[`spec.objectives[${i}].percentile`] = 'lat-percentile';
  });
  penalties.forEach(([o, tiers], i) => {
    if (tiers) {
      paths[`spec.penalties[${i}]`] = 'tier1-below';
      paths[`spec.penalties[${i}].tiers`] = 'tier1-below';
      tiers.forEach((t, k) => {
        paths[`spec.penalties[${i}].tiers[${k}]`] = `tier${t}-below`;
        paths[`spec.penalties[${i}].tiers[${k}].below`] = `tier${t}-below`;
        paths[`spec.penalties[${i}].tiers[${k}].credit`] = `tier${t}-credit`;
      });
    } else {
      paths[`spec.penalties[${i}]`] = 'lat-per';
      paths[`spec.penalties[${i}].per_violation`] = 'lat-per';
      paths[`spec.penalties[${i}].cap`] = 'lat-cap';
    }
  });
  return {yaml: `${lines.join('\n')}\n`, paths};
}

/** The input for a document path: exact, else the nearest enclosing path that has one. */
function inputFor(paths, path) {
  let p = path || '';
  while (p) {
    if (paths[p]) return paths[p];
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) break;
    p = p.slice(0, cut);
  }
  return null;
}

// ---- the view ----

export async function registerView(main, params, app) {
  const me = app.me || {};
  let kind = 'http';
  const channels = (app.health && app.health.channels ? app.health.channels.map((c) => c.name) : []).filter(Boolean);
  const known = await api.agreements().catch(() => []);
  const orgs = [...new Set(known.flatMap((a) => [a.consumer, a.provider]).concat(me.org ? [me.org] : []))].filter(Boolean);
  const now = channels.length ? await nodeNow(app, channels[0]) : null;
  const base = now || Date.now();
  const start = Math.ceil(base / 3600000) * 3600000;
  const consumer = me.role === 'provider' ? '' : me.org || '';
  const providerGuess = me.role === 'provider' ? me.org : (channels[0] || '').split('-').find((x) => x && x !== consumer) || '';

  const status = h('div', {class: 'form-status', 'aria-live': 'polite'});
  const preview = h('pre', {class: 'code preview', 'aria-label': 'The agreement document this form writes', tabindex: '0', 'data-testid': 'yaml-preview'});

  const common = h(
    'div',
    {class: 'form-grid'},
    field('name', 'Agreement name', {path: 'metadata.name', required: true, placeholder: 'shop-web', hint: 'Lower-case letters, digits, “.”, “_” and “-”; unique on its channel.'}),
    field('description', 'Description', {path: 'metadata.description', placeholder: 'What is promised, in a sentence', wide: false}),
    field('channel', 'Channel', {path: 'spec.channel', required: true, options: channels.length ? channels : [''], value: channels[0], hint: 'The ledger shared by the two parties and their oracles.'}),
    h('div', {class: 'field-pair'}, field('consumer', 'Consumer', {path: 'spec.consumer', required: true, value: consumer, list: 'orgs'}), field('provider', 'Provider', {path: 'spec.provider', required: true, value: providerGuess, list: 'orgs'})),
    field('start', 'Period start (UTC)', {path: 'spec.period.start', required: true, type: 'datetime-local', value: localFromMs(start), step: 60}),
    field('end', 'Period end (UTC)', {path: 'spec.period.end', required: true, type: 'datetime-local', value: localFromMs(start + 30 * 86400000), step: 60}),
    h('div', {class: 'field-pair'}, field('fee', 'Fee for the period', {path: 'spec.fee.amount', required: true, placeholder: '1000.00', value: '1000.00', inputmode: 'decimal'}), field('currency', 'Currency', {path: 'spec.fee.currency', required: true, value: 'EUR', list: 'currencies'})),
    h('div', {class: 'field-pair'}, field('billing', 'Billing windows', {path: 'spec.billing', options: BILLING, value: 'period', hint: 'Each window’s share of the fee is settled when it closes.'}), field('grace', 'Grace', {path: 'spec.grace', value: '2m', placeholder: '10m', hint: 'How long after an interval reports are accepted.'})),
    h('datalist', {id: 'orgs'}, orgs.map((o) => h('option', {value: o}))),
    h('datalist', {id: 'currencies'}, ['EUR', 'USD', 'GBP', 'CHF', 'JPY'].map((c) => h('option', {value: c}))),
  );

  const serviceBox = h('div', {class: 'form-grid', 'data-testid': 'service-fields'});
  const oracles = h(
    'div',
    {class: 'form-grid'},
    field('oracles', 'Oracles', {path: 'spec.oracles.members', required: true, value: [consumer, providerGuess].filter(Boolean).map((o) => `${o}-mon`).join(', '), hint: 'The oracle identities whose signed reports count, separated by commas.', wide: true}),
    h('div', {class: 'field-pair'}, field('policy', 'Policy', {path: 'spec.oracles.policy', options: ['median', 'min', 'max', 'all-agree', 'k-of-n'], value: 'median'}), field('quorum', 'Quorum', {path: 'spec.oracles.quorum', inputmode: 'numeric', placeholder: 'majority', hint: 'Reports needed per interval.'})),
  );

  const upBox = h('div', {class: 'objective-box', id: 'uptime-box'});
  const latBox = h('div', {class: 'objective-box', id: 'latency-box'});
  const objectives = h('div', null, upBox, latBox);

  function drawObjectives() {
    const prom = kind === 'prometheus';
    const upOn = upBox.querySelector('#use-uptime') ? upBox.querySelector('#use-uptime').checked : true;
    const latOn = latBox.querySelector('#use-latency') ? latBox.querySelector('#use-latency').checked : kind === 'http';
    swap(
      upBox,
      checkbox('use-uptime', 'Availability', upOn, update),
      h(
        'div',
        {class: 'form-grid', hidden: !upOn},
        h('div', {class: 'field-pair'}, field('up-target', 'Target availability (%)', {path: 'spec.objectives[0].target', value: '99.9', inputmode: 'decimal', required: true}), field('up-interval', 'Interval', {value: '60s'})),
        field('up-window', 'Judged per', {options: WINDOWS, value: 'calendar-day'}),
        prom ? field('up-query', 'PromQL query', {placeholder: 'avg_over_time(up{job="api"}[1m])', wide: true}) : null,
        h(
          'fieldset',
          {class: 'tiers wide'},
          h('legend', null, 'Service credits (share of the window’s fee when availability falls below)'),
          [1, 2, 3].map((i) => h('div', {class: 'field-pair'}, field(`tier${i}-below`, `Tier ${i}: below (%)`, {value: ['99.9', '99', '95'][i - 1], inputmode: 'decimal'}), field(`tier${i}-credit`, `credit (%)`, {value: ['10', '25', '50'][i - 1], inputmode: 'decimal'}))),
        ),
      ),
    );
    swap(
      latBox,
      checkbox('use-latency', 'Response time', latOn, update),
      h(
        'div',
        {class: 'form-grid', hidden: !latOn},
        h('div', {class: 'field-pair'}, field('lat-percentile', 'Percentile', {value: '95', inputmode: 'decimal'}), field('lat-target', 'Threshold (ms)', {value: '300', inputmode: 'numeric', required: true})),
        h('div', {class: 'field-pair'}, field('lat-interval', 'Interval', {value: '60s'}), field('lat-window', 'Judged per', {options: WINDOWS, value: '1h'})),
        prom ? field('lat-query', 'PromQL query', {placeholder: 'histogram_quantile(0.95, …)', wide: true}) : null,
        h('div', {class: 'field-pair'}, field('lat-per', 'Penalty per violation', {value: '5.00', inputmode: 'decimal'}), field('lat-cap', 'Cap per window (% of its fee)', {value: '20', inputmode: 'decimal'})),
      ),
    );
  }

  function drawService() {
    const fields = SOURCE_FIELDS[kind] || [];
    swap(
      serviceBox,
      field('service', 'Service name', {path: 'spec.services[0].name', required: true, value: SERVICE_DEFAULT[kind] || 'svc'}),
      fields.map(([key, label, o]) => field(`src-${key}`, label, {...o, path: `spec.services[0].source.${key}`, wide: key === 'url'})),
    );
  }

  // YAML mode
  const yamlArea = h('textarea', {id: 'yaml', name: 'yaml', class: 'input code', rows: '22', spellcheck: 'false', 'aria-describedby': 'yaml-hint yaml-error', placeholder: 'apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: …}\nspec: …'});
  const yamlError = h('div', {class: 'field-error', id: 'yaml-error', role: 'alert'});
  const upload = h('input', {type: 'file', id: 'yaml-file', accept: '.yaml,.yml,.json,application/yaml,application/json,text/yaml', class: 'sr-only', onchange: async () => {
    const file = upload.files && upload.files[0];
    if (file) yamlArea.value = await file.text();
    upload.value = '';
  }});
  const yamlPane = h(
    'div',
    {class: 'yaml-pane'},
    h('div', {class: 'field wide'}, h('div', {class: 'label-row'}, h('label', {class: 'label', for: 'yaml'}, 'Agreement document (YAML or JSON)'), h('label', {class: 'btn btn-secondary btn-sm', for: 'yaml-file'}, icon('upload'), 'Upload file'), upload), yamlArea, h('p', {class: 'hint', id: 'yaml-hint'}, 'One document. The node checks every field and answers with the line and column of the first problem.'), yamlError),
  );

  const formPane = h(
    'div',
    {class: 'form-pane'},
    card('Agreement', common, {id: 'sec-agreement', description: 'Who promises what to whom, for how long and at what price.'}),
    card('Service', serviceBox, {id: 'sec-service', description: 'The monitored resource. Cloud credentials stay in each node’s secrets file.'}),
    card('Oracles', oracles, {id: 'sec-oracles', description: 'Commonly trusted monitors that sign measurements.'}),
    card('Objectives and penalties', objectives, {id: 'sec-objectives', description: 'Promises per window, and what a miss costs.'}),
  );

  const kindPicker = h(
    'div',
    {class: 'kind-picker', role: 'radiogroup', 'aria-label': 'Service kind'},
    KINDS.map((k) =>
      h('label', {class: 'kind', 'data-kind': k.id}, h('input', {type: 'radio', name: 'kind', value: k.id, checked: k.id === kind, onchange: () => setKind(k.id)}), h('span', {class: 'kind-title'}, k.label), h('span', {class: 'kind-text'}, k.text)),
    ),
  );

  const submit = h('button', {class: 'btn btn-primary', type: 'submit', 'data-testid': 'submit-proposal'}, 'Propose agreement');
  const form = h(
    'form',
    {class: 'register', novalidate: true, onsubmit: onSubmit, oninput: update, onchange: update},
    kindPicker,
    h('div', {class: 'register-layout'}, h('div', {class: 'register-main'}, formPane, yamlPane), h('aside', {class: 'register-side'}, card('Document', preview, {id: 'sec-preview', description: 'What will be signed, written from the form.'}))),
    h('div', {class: 'form-footer'}, status, h('div', {class: 'form-footer-actions'}, linkButton('Cancel', '#/agreements'), submit)),
  );

  let paths = {};

  function setKind(k) {
    kind = k;
    $$('.kind', form).forEach((el) => el.classList.toggle('selected', el.dataset.kind === k));
    const yaml = k === 'yaml';
    formPane.hidden = yaml;
    yamlPane.hidden = !yaml;
    form.querySelector('.register-side').hidden = yaml;
    form.querySelector('.register-layout').classList.toggle('single', yaml);
    if (yaml && !yamlArea.value) yamlArea.value = buildYaml(form, 'http').yaml.replace('name: ""', 'name: "my-agreement"');
    if (!yaml) {
      drawService();
      drawObjectives();
    }
    update();
  }

  function update() {
    if (kind === 'yaml') return;
    $$('#uptime-box .form-grid', form).forEach((el) => (el.hidden = !form.querySelector('#use-uptime').checked));
    $$('#latency-box .form-grid', form).forEach((el) => (el.hidden = !form.querySelector('#use-latency').checked));
    const built = buildYaml(form, kind);
    paths = built.paths;
    preview.textContent = built.yaml;
  }

  function clearErrors() {
    $$('.field-error', form).forEach((el) => (el.textContent = ''));
    $$('[aria-invalid]', form).forEach((el) => el.removeAttribute('aria-invalid'));
    $$('.field.has-error', form).forEach((el) => el.classList.remove('has-error'));
    swap(status);
  }

  function showFieldError(id, message) {
    const input = form.querySelector(`#${CSS.escape(id)}`);
    const err = form.querySelector(`#${CSS.escape(id)}-error`);
    if (!input || !err) return false;
    const box = input.closest('.objective-box .form-grid');
    if (box && box.hidden) return false;
    err.textContent = message;
    input.setAttribute('aria-invalid', 'true');
    input.closest('.field').classList.add('has-error');
    return input;
  }

  /** Checks what the browser can before asking the node. */
  function localErrors() {
    const errs = [];
    const need = (id, msg) => !val(form, id) && errs.push([id, msg]);
    need('name', 'Give the agreement a name.');
    if (val(form, 'name') && !NAME_RE.test(val(form, 'name'))) errs.push(['name', 'Use 1 to 63 lower-case letters, digits, “.”, “_” or “-”, starting with a letter or digit.']);
    need('consumer', 'Name the consumer organization.');
    need('provider', 'Name the provider organization.');
    if (val(form, 'consumer') && val(form, 'consumer') === val(form, 'provider')) errs.push(['provider', 'The provider must be another organization than the consumer.']);
    need('start', 'When does the agreement start?');
    need('end', 'When does it end?');
    if (val(form, 'start') && val(form, 'end') && val(form, 'end') <= val(form, 'start')) errs.push(['end', 'The end must be after the start.']);
    need('fee', 'What is the fee for the period?');
    if (val(form, 'fee') && !/^\d+(\.\d+)?$/.test(val(form, 'fee'))) errs.push(['fee', 'Write the fee as a decimal number such as 1000.00.']);
    need('service', 'Name the service.');
    for (const [key, label, o] of SOURCE_FIELDS[kind] || []) if (o.required) need(`src-${key}`, `${label} is required.`);
    need('oracles', 'Name at least one oracle.');
    if (!form.querySelector('#use-uptime').checked && !form.querySelector('#use-latency').checked) errs.push(['use-uptime', 'Choose at least one objective.']);
    return errs;
  }

  async function onSubmit(e) {
    e.preventDefault();
    clearErrors();
    yamlError.textContent = '';
    yamlArea.removeAttribute('aria-invalid');
    let doc;
    if (kind === 'yaml') {
      doc = yamlArea.value;
      if (!doc.trim()) {
        yamlError.textContent = 'Paste or upload an agreement document.';
        yamlArea.setAttribute('aria-invalid', 'true');
        yamlArea.focus();
        return;
      }
    } else {
      const errs = localErrors();
      if (errs.length) {
        let first = null;
        for (const [id, msg] of errs) first = showFieldError(id, msg) || first || null;
        const firstEl = form.querySelector(`#${CSS.escape(errs[0][0])}`);
        swap(status, alert('error', 'Check the highlighted fields', `${errs.length} field${errs.length === 1 ? '' : 's'} need${errs.length === 1 ? 's' : ''} attention.`));
        if (firstEl) firstEl.focus();
        return;
      }
      update();
      doc = preview.textContent;
    }
    submit.disabled = true;
    submit.textContent = 'Proposing…';
    try {
      const r = await api.propose(doc);
      done(r);
    } catch (err) {
      showServerError(err);
    } finally {
      submit.disabled = false;
      submit.textContent = 'Propose agreement';
    }
  }

  function showServerError(err) {
    const msg = err.message || String(err);
    if (kind === 'yaml') {
      yamlError.textContent = err.field ? `${err.field}: ${msg}` : msg;
      yamlArea.setAttribute('aria-invalid', 'true');
      const m = /line (\d+) column (\d+)/.exec(msg);
      if (m) selectLine(yamlArea, Number(m[1]));
      yamlArea.focus();
      swap(status, alert('error', 'The node refused the document', err.field ? `Field ${err.field}` : null));
      return;
    }
    const id = err instanceof ApiError && err.field ? inputFor(paths, err.field) : null;
    // The node speaks of lines of the document; next to a form field the field is enough.
    const text = msg.replace(/^line \d+ column \d+: /, '');
    const input = id ? showFieldError(id, text) : null;
    if (input) {
      swap(status, alert('error', 'The node refused the proposal', `See “${input.closest('.field').querySelector('label').textContent.replace(' *', '')}”.`));
      input.focus();
      input.scrollIntoView({block: 'center'});
    } else {
      swap(status, alert('error', 'The node refused the proposal', err.field ? `${err.field}: ${text}` : text));
      if (/exists/.test(text)) showFieldError('name', text);
    }
  }

  function done(r) {
    rememberProposal(app.me && app.me.org, r.agreement);
    swap(
      main,
      pageHeader('Agreement proposed', {back: {href: '#/agreements', label: 'Agreements'}}),
      card(
        null,
        h(
          'div',
          {class: 'success', 'data-testid': 'proposed'},
          h('div', {class: 'success-icon'}, icon('check')),
          h('h2', null, `${r.agreement} is on the ledger, awaiting a signature`),
          h('p', null, 'Your signature is in. The other party sees the proposal in their console and signs it there; the agreement is binding once both have signed.'),
          facts([
            ['Agreement', r.agreement],
            ['Channel', r.channel],
            ['Block', `#${r.height}`],
            ['Transaction', h('a', {class: 'mono', href: `#/tx/${r.transaction}`}, f.shortHash(r.transaction, 12))],
          ]),
          h('div', {class: 'success-actions'}, linkButton('Open agreement', `#/agreements/${encodeURIComponent(r.agreement)}`, {kind: 'primary', attrs: {'data-testid': 'open-proposed'}}), linkButton('Propose another', '#/register', {attrs: {onclick: () => setTimeout(() => app.navigate('register'))}})),
        ),
      ),
    );
  }

  swap(
    main,
    pageHeader('Register an agreement', {subtitle: 'Describe the service and its SLA. The proposal goes on the ledger signed by you; the other party signs it to make it binding.'}),
    form,
  );
  setKind(kind);
  return {};
}

/** Proposals this tab made, so their page does not offer the proposer a second signature. */
export function rememberProposal(org, name) {
  const list = JSON.parse(sessionStorage.getItem('slaledger.proposed') || '[]');
  list.push(`${org}/${name}`);
  sessionStorage.setItem('slaledger.proposed', JSON.stringify(list.slice(-50)));
}

export function proposedHere(org, name) {
  return JSON.parse(sessionStorage.getItem('slaledger.proposed') || '[]').includes(`${org}/${name}`);
}

function selectLine(area, line) {
  const lines = area.value.split('\n');
  let start = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
  const end = start + (lines[line - 1] || '').length;
  area.setSelectionRange(start, end);
  const lh = parseFloat(getComputedStyle(area).lineHeight) || 18;
  area.scrollTop = Math.max(0, (line - 4) * lh);
}

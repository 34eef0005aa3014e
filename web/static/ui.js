// ui.js: the console's building blocks: page headers, cards, stat tiles, status pills, tables
// with sticky headers, empty, loading and error states, pagination and toasts. Views compose
// these; none of them knows about the API.

import {h, icon} from './dom.js';

export function pageHeader(title, {subtitle, actions, back, eyebrow} = {}) {
  return h(
    'header',
    {class: 'page-header'},
    h(
      'div',
      {class: 'page-title'},
      back ? h('a', {class: 'back-link', href: back.href}, icon('back'), back.label) : null,
      eyebrow ? h('div', {class: 'eyebrow'}, eyebrow) : null,
      h('h1', {id: 'page-title', tabindex: '-1'}, title),
      subtitle ? h('p', {class: 'subtitle'}, subtitle) : null,
    ),
    actions ? h('div', {class: 'page-actions'}, actions) : null,
  );
}

export function card(title, body, {actions, id, class: cls, description} = {}) {
  const headingId = id ? `${id}-title` : null;
  return h(
    'section',
    {class: ['card', cls], id, 'aria-labelledby': headingId},
    title
      ? h(
          'div',
          {class: 'card-header'},
          h('div', null, h('h2', {id: headingId}, title), description ? h('p', {class: 'card-desc'}, description) : null),
          actions ? h('div', {class: 'card-actions'}, actions) : null,
        )
      : null,
    h('div', {class: 'card-body'}, body),
  );
}

/** A KPI tile: label, value, optional note and tone (good, warn, bad). */
export function stat(label, value, {note, tone, testid} = {}) {
  return h(
    'div',
    {class: ['stat', tone && `tone-${tone}`], 'data-testid': testid},
    h('div', {class: 'stat-label'}, label),
    h('div', {class: 'stat-value'}, value),
    note ? h('div', {class: 'stat-note'}, note) : null,
  );
}

const STATUS_TONE = {
  active: 'good',
  proposed: 'warn',
  rejected: 'bad',
  accepted: 'info',
  closed: 'muted',
  valid: 'good',
  invalid: 'bad',
  refused: 'bad',
  good: 'good',
  bad: 'bad',
  unknown: 'muted',
};

export function pill(text, tone, attrs = {}) {
  return h('span', {class: ['pill', `tone-${tone || STATUS_TONE[text] || 'muted'}`], ...attrs}, h('span', {class: 'dot', 'aria-hidden': 'true'}), text);
}

export function statusPill(status) {
  const label = {proposed: 'Proposed', active: 'Active', closed: 'Closed', rejected: 'Rejected'}[status] || status;
  return pill(label, STATUS_TONE[status], {'data-status': status});
}

/**
 * A table: columns [{label, class, render(row) -> node|string, sortKey}], rows. Sticky header,
 * horizontal scroll on small screens. caption names it for screen readers.
 */
export function table(columns, rows, {caption, empty, rowAttrs, maxHeight, testid} = {}) {
  if (!rows.length && empty) return empty;
  return h(
    'div',
    {class: 'table-wrap', style: maxHeight ? `max-height:${maxHeight}` : null, 'data-testid': testid, tabindex: '0', role: 'region', 'aria-label': caption || 'table'},
    h(
      'table',
      {class: 'table'},
      caption ? h('caption', {class: 'sr-only'}, caption) : null,
      h('thead', null, h('tr', null, columns.map((c) => h('th', {scope: 'col', class: c.class}, c.label)))),
      h(
        'tbody',
        null,
        rows.map((r, i) => h('tr', rowAttrs ? rowAttrs(r, i) : null, columns.map((c) => h('td', {class: c.class, 'data-label': c.label}, c.render(r, i))))),
      ),
    ),
  );
}

export function emptyState(title, text, action) {
  return h('div', {class: 'empty', role: 'status'}, h('div', {class: 'empty-icon'}, icon('empty')), h('h3', null, title), text ? h('p', null, text) : null, action || null);
}

export function loading(label = 'Loading') {
  return h(
    'div',
    {class: 'loading', role: 'status', 'aria-live': 'polite'},
    h('div', {class: 'skeleton w60'}),
    h('div', {class: 'skeleton w90'}),
    h('div', {class: 'skeleton w75'}),
    h('span', {class: 'sr-only'}, `${label}…`),
  );
}

export function errorBox(err, {title = 'Something went wrong', retry} = {}) {
  const msg = err && err.message ? err.message : String(err);
  return h(
    'div',
    {class: 'alert alert-error', role: 'alert'},
    icon('alert'),
    h('div', null, h('strong', null, title), h('p', null, msg), retry ? h('button', {class: 'btn btn-sm', type: 'button', onclick: retry}, 'Try again') : null),
  );
}

export function alert(tone, title, text, extra) {
  return h('div', {class: ['alert', `alert-${tone}`], role: tone === 'error' ? 'alert' : 'status'}, icon(tone === 'success' ? 'check' : 'alert'), h('div', null, h('strong', null, title), text ? h('p', null, text) : null, extra || null));
}

export function button(label, {onclick, kind = 'secondary', type = 'button', iconName, disabled, attrs = {}} = {}) {
  return h('button', {class: ['btn', `btn-${kind}`], type, onclick, disabled, ...attrs}, iconName ? icon(iconName) : null, label);
}

export function linkButton(label, href, {kind = 'secondary', iconName, attrs = {}} = {}) {
  return h('a', {class: ['btn', `btn-${kind}`], href, ...attrs}, iconName ? icon(iconName) : null, label);
}

/** Newer/older pager: page is 0-based; hasMore says whether another page exists. */
export function pager({page, hasMore, onPage, label, total}) {
  return h(
    'nav',
    {class: 'pager', 'aria-label': label || 'Pages'},
    h('span', {class: 'pager-info'}, total !== undefined ? `Page ${page + 1} of ${Math.max(1, total)}` : `Page ${page + 1}`),
    h('div', {class: 'pager-buttons'}, button('Newer', {onclick: () => onPage(page - 1), disabled: page <= 0, attrs: {'aria-label': 'Newer page', 'data-key': 'pager-newer'}}), button('Older', {onclick: () => onPage(page + 1), disabled: !hasMore, attrs: {'aria-label': 'Older page', 'data-key': 'pager-older'}})),
  );
}

/** A horizontal meter: value and target in 0..1; tone colours the fill. */
export function meter(value, {target, tone, label} = {}) {
  const v = Math.max(0, Math.min(1, value || 0));
  return h(
    'div',
    {class: ['meter', tone && `tone-${tone}`], role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': (v * 100).toFixed(2), 'aria-label': label || 'value'},
    h('div', {class: 'meter-fill', style: `width:${(v * 100).toFixed(3)}%`}),
    target !== undefined ? h('div', {class: 'meter-target', style: `left:${(Math.max(0, Math.min(1, target)) * 100).toFixed(3)}%`, title: 'target'}) : null,
  );
}

// ---- toasts ----

export function toast(title, text, tone = 'info') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const t = h('div', {class: ['toast', `tone-${tone}`], role: 'status'}, h('div', {class: 'toast-body'}, h('strong', null, title), text ? h('p', null, text) : null), h('button', {class: 'icon-btn', type: 'button', 'aria-label': 'Dismiss', onclick: () => t.remove()}, icon('close')));
  region.appendChild(t);
  while (region.children.length > 4) region.firstChild.remove();
  setTimeout(() => t.classList.add('leaving'), 6000);
  setTimeout(() => t.remove(), 6500);
}

/** A key/value description list. */
export function facts(pairs) {
  return h('dl', {class: 'facts'}, pairs.filter(Boolean).map(([k, v]) => h('div', {class: 'fact'}, h('dt', null, k), h('dd', null, v))));
}

export function code(text) {
  return h('code', {class: 'mono'}, text);
}

// view-signin.js: the sign-in page. A token is checked against the node before it is kept (in
// sessionStorage, for this tab only).

import {h, icon, swap} from './dom.js';
import {ApiError} from './api.js';

export function renderSignIn(root, app, onSignedIn) {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'slt_…',
    'aria-describedby': 'token-hint token-error',
    class: 'input mono',
  });
  const error = h('p', {class: 'field-error', id: 'token-error', role: 'alert'});
  const submit = h('button', {class: 'btn btn-primary btn-block', type: 'submit'}, 'Sign in');
  const show = h('button', {class: 'input-addon', type: 'button', 'aria-label': 'Show token', 'aria-pressed': 'false', onclick: () => {
    const hidden = input.type === 'password';
    input.type = hidden ? 'text' : 'password';
    show.setAttribute('aria-pressed', String(hidden));
    show.textContent = hidden ? 'Hide' : 'Show';
  }}, 'Show');

  const form = h(
    'form',
    {class: 'signin-form', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const token = input.value.trim();
      error.textContent = '';
      input.removeAttribute('aria-invalid');
      if (!token) {
        error.textContent = 'Paste the API token you were given.';
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = 'Checking…';
      try {
        await app.signIn(token);
        await onSignedIn();
      } catch (err) {
        const msg = err instanceof ApiError && err.status === 401 ? 'The node does not know this token. Check that it was copied whole.' : err.message;
        error.textContent = msg;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        submit.disabled = false;
        submit.textContent = 'Sign in';
      }
    }},
    h('label', {for: 'token', class: 'label'}, 'API token'),
    h('div', {class: 'input-group'}, input, show),
    h('p', {class: 'hint', id: 'token-hint'}, 'Each token speaks for one user of one organization with one role. It is kept in this browser tab only.'),
    error,
    submit,
  );

  const health = app.health;
  const node = health
    ? h('div', {class: 'signin-node'}, h('span', {class: 'live-dot ok', 'aria-hidden': 'true'}), `Node of ${health.organization} · ${(health.channels || []).length} channel${(health.channels || []).length === 1 ? '' : 's'} · v${health.version}`)
    : h('div', {class: 'signin-node warn'}, icon('alert'), 'The node does not answer /v1/health.');

  swap(
    root,
    h(
      'div',
      {class: 'signin'},
      h(
        'main',
        {class: 'signin-card', id: 'main'},
        h('div', {class: 'signin-brand'}, h('span', {class: 'brand-mark lg', 'aria-hidden': 'true'}, 'SL'), h('div', null, h('h1', {id: 'page-title'}, 'Sign in to slaledger'), h('p', {class: 'subtitle'}, 'Service level agreements on a signed ledger'))),
        node,
        form,
      ),
      h('p', {class: 'signin-foot'}, 'Tokens come from ', h('code', null, 'slaledger init'), ' (tokens.txt) or from your node’s operator.'),
    ),
  );
  document.title = 'Sign in · slaledger';
  input.focus();
}

// The console's shell: who is signed in, the navigation, and which view a URL's hash shows.
import { api, setCsrf } from './api.js';
import { h, clear } from './dom.js';
import { overview } from './views/overview.js';
import { lines } from './views/lines.js';
import { messages, message } from './views/messages.js';
import { conversation } from './views/conversation.js';
import { contacts } from './views/contacts.js';
import { webhooks } from './views/webhooks.js';
import { send } from './views/send.js';
import { operator } from './views/operator.js';

const SIGNIN_ERRORS = {
  credentials: 'That key id and secret do not match an API key.',
  refused: 'That key is revoked, or its account is disabled.',
  throttled: 'Too many failed sign-ins from here; wait a minute and try again.',
  missing: 'Enter both the key id and the secret.',
  operator: 'That is not the operator token.',
  no_operator: 'This server has no operator token ([console] operator_token).',
};

const routes = [
  [/^\/?$/, overview],
  [/^\/lines$/, lines],
  [/^\/messages$/, messages],
  [/^\/messages\/([^/]+)$/, message],
  [/^\/conversations\/([^/]+)$/, conversation],
  [/^\/contacts$/, contacts],
  [/^\/webhooks$/, webhooks],
  [/^\/send$/, send],
];
const operatorRoutes = [[/^\/?(operator)?$/, operator]];
let active = routes;

let stop = null;  // what the current view must close (event streams, timers) when it goes

async function show() {
  if (stop) { stop(); stop = null; }
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const view = document.getElementById('view');
  for (const a of document.querySelectorAll('header nav a')) {
    const target = a.getAttribute('href').slice(1);
    a.classList.toggle('active', target === '/' ? path === '/' || path === '' : path.startsWith(target));
  }
  for (const [pattern, render] of active) {
    const m = pattern.exec(path || '/');
    if (!m) continue;
    clear(view, h('p', {}, 'Loading…'));
    try {
      stop = (await render(view, decodeURIComponent(m[1] ?? ''), new URLSearchParams(query))) ?? null;
    } catch (e) {
      clear(view, h('p', { class: 'error', role: 'alert' }, `Could not load this page: ${e.message}`));
    }
    return;
  }
  clear(view, h('p', { class: 'error' }, 'No such page.'));
}

async function start() {
  const session = await api('GET', '/console/session');
  if (!session.signed_in) {
    const signin = document.getElementById('signin');
    signin.hidden = false;
    const code = new URLSearchParams(location.search).get('error');
    if (code) document.getElementById('signin-error').textContent = SIGNIN_ERRORS[code] ?? 'Sign-in failed.';
    signin.querySelector('input[name=key_id]').focus();
    return;
  }
  setCsrf(session.csrf_token);
  if (location.search) history.replaceState(null, '', location.pathname + location.hash);
  if (session.operator) {
    active = operatorRoutes;
    document.getElementById('account-nav').hidden = true;
    document.getElementById('operator-nav').hidden = false;
    document.getElementById('who').textContent = 'operator';
  } else {
    document.getElementById('who').textContent = `${session.email} (${session.plan})`;
  }
  document.getElementById('signout').addEventListener('click', async () => {
    await api('POST', '/console/logout');
    location.assign('/console/');
  });
  document.getElementById('app').hidden = false;
  window.addEventListener('hashchange', show);
  await show();
}

start();

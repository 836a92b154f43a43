// Webhooks: each type's URLs and secrets, the delivery log with retries, and a test event.
import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { deliveryRow } from './messages.js';

const TYPES = ['outbound', 'receive', 'typing_indicator', 'line_blocked', 'line_assigned', 'contact_created', 'call_log', 'inbound_call', 'contact_profile'];

export async function webhooks(view) {
  const [config, log] = await Promise.all([
    api('GET', '/api/account/webhooks'),
    api('GET', '/api/v2/webhooks/deliveries?limit=50'),
  ]);
  const status = h('p', { id: 'webhooks-status', role: 'status' });
  const reload = () => webhooks(view);
  const act = async (what, fn) => {
    try { await fn(); await reload(); } catch (e) { status.textContent = `${what}: ${e.message}`; }
  };
  const hooks = config.webhooks ?? {};
  const rows = [];
  for (const type of TYPES) {
    for (const entry of hooks[type] ?? []) {
      const url = typeof entry === 'string' ? entry : entry.url;
      rows.push(h('tr', {}, h('td', {}, type), h('td', { class: 'content' }, url),
        h('td', {}, typeof entry === 'object' && entry.secret ? 'own secret' : 'global secret'),
        h('td', {}, h('button', { class: 'secondary', onclick: () => act('Remove', () => api('DELETE', '/api/account/webhooks', { webhooks: [url], type })) }, 'Remove'))));
    }
  }
  const add = h('form', { class: 'inline', id: 'add-webhook', onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const entry = { url: f.get('url') };
    if (f.get('secret')) entry.secret = f.get('secret');
    act('Add', () => api('POST', '/api/account/webhooks', { webhooks: [entry], type: f.get('type') }));
  } },
  h('label', {}, 'Type', h('select', { name: 'type' }, TYPES.map((t) => h('option', { value: t }, t)))),
  h('label', {}, 'URL', h('input', { name: 'url', type: 'url', required: true, size: 40, placeholder: 'https://…' })),
  h('label', {}, 'Secret (optional)', h('input', { name: 'secret' })),
  h('button', { type: 'submit' }, 'Add webhook'));
  const secret = h('form', { class: 'inline', id: 'global-secret', onsubmit: (e) => {
    e.preventDefault();
    const value = new FormData(e.target).get('globalSecret');
    act('Secret', () => api('POST', '/api/account/webhooks', { webhooks: [], type: 'outbound', globalSecret: value }));
  } },
  h('label', {}, 'Global signing secret (entries without their own)', h('input', { name: 'globalSecret', type: 'password', autocomplete: 'off', required: true })),
  h('button', { type: 'submit', class: 'secondary' }, 'Set'));
  const test = h('button', { class: 'secondary', id: 'send-test', onclick: () => act('Test event', async () => {
    // A real send to the simulator's delivered test number: its status changes go to every
    // outbound webhook, as any message's would.
    const r = await api('POST', '/api/send-message', { number: '+12125550100', content: 'bluegate console: a test event' });
    status.textContent = `Sent test message ${r.message_handle}; its status changes go to the outbound webhooks.`;
  }) }, 'Send a test event');
  clear(view,
    h('h1', {}, 'Webhooks'),
    h('table', { id: 'webhooks' }, h('tr', {}, ['Type', 'URL', 'Signed with', ''].map((t) => h('th', {}, t))), rows),
    add,
    h('p', {}, 'Global secret: ', hooks.globalSecret ? 'set' : 'not set', '. ', test),
    secret,
    status,
    h('h2', {}, 'Delivery log'),
    h('table', { id: 'delivery-log' }, h('tr', {}, ['Event', 'URL', 'Outcome', 'Attempts', ''].map((t) => h('th', {}, t))),
      (log.data ?? []).map((d) => deliveryRow(d, (x) => act('Retry', () => api('POST', `/api/v2/webhooks/deliveries/${x.id}/retry`))))));
}

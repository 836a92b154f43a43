// Messages: search and filter, a page at a time from the server; one message with its status
// timeline and every callback attempt, and a retry for a failed delivery.
import { api } from '../api.js';
import { h, clear, when } from '../dom.js';

const PAGE = 50;
const STATUSES = ['', 'QUEUED', 'ACCEPTED', 'SENT', 'DELIVERED', 'READ', 'ERROR', 'DECLINED', 'RECEIVED'];

export async function messages(view, _arg, params) {
  const q = new URLSearchParams();
  const number = params.get('number') ?? '';
  const status = params.get('status') ?? '';
  const service = params.get('service') ?? '';
  const since = params.get('since') ?? '';
  const offset = Number(params.get('offset') ?? 0);
  if (number) q.set('number', number);
  if (status) q.set('status', status);
  if (service) q.set('service', service);
  if (since) q.set('created_at_gte', new Date(since).toISOString());
  q.set('limit', PAGE);
  q.set('offset', offset);
  const page = await api('GET', `/api/v2/messages?${q}`);
  const go = (changes) => {
    const next = new URLSearchParams({ number, status, service, since, offset: 0, ...changes });
    for (const [k, v] of [...next]) if (!v || v === '0') next.delete(k);
    location.hash = `#/messages?${next}`;
  };
  const form = h('form', { class: 'inline', onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    go({ number: f.get('number'), status: f.get('status'), service: f.get('service'), since: f.get('since') });
  } },
  h('label', {}, 'Number', h('input', { name: 'number', value: number, placeholder: '+1…' })),
  h('label', {}, 'Status', h('select', { name: 'status' }, STATUSES.map((s) => h('option', { value: s, selected: s === status }, s || 'any')))),
  h('label', {}, 'Service', h('select', { name: 'service' }, ['', 'iMessage', 'SMS'].map((s) => h('option', { value: s, selected: s === service }, s || 'any')))),
  h('label', {}, 'Since', h('input', { name: 'since', type: 'datetime-local', value: since })),
  h('button', { type: 'submit' }, 'Search'));
  const rows = (page.data ?? []).map((m) => h('tr', {},
    h('td', {}, when(m.date_created)),
    h('td', {}, m.is_outbound ? '→' : '←'),
    h('td', {}, h('a', { href: `#/conversations/${encodeURIComponent(m.number)}` }, m.number)),
    h('td', { class: 'content' }, h('a', { href: `#/messages/${encodeURIComponent(m.message_handle)}` }, m.content || (m.media_url ? '(media)' : '(empty)'))),
    h('td', { class: `status-${m.status}` }, m.status),
    h('td', {}, m.service)));
  const total = page.pagination?.total ?? rows.length;
  clear(view,
    h('h1', {}, 'Messages'),
    form,
    h('table', { id: 'messages' }, h('tr', {}, ['Created', '', 'Contact', 'Content', 'Status', 'Service'].map((t) => h('th', {}, t))), rows),
    h('div', { class: 'pager' },
      h('button', { class: 'secondary', disabled: offset === 0, onclick: () => go({ offset: Math.max(0, offset - PAGE) }) }, 'Newer'),
      h('span', {}, `${total === 0 ? 0 : offset + 1}–${offset + rows.length} of ${total}`),
      h('button', { class: 'secondary', disabled: offset + PAGE >= total, onclick: () => go({ offset: offset + PAGE }) }, 'Older')));
}

// A delivery and its attempts, with a retry for one that failed.
export function deliveryRow(d, onRetry) {
  return h('tr', { 'data-delivery': d.id },
    h('td', {}, d.status ?? d.kind),
    h('td', { class: 'content' }, d.url),
    h('td', { class: `outcome outcome-${d.outcome}` }, d.outcome),
    h('td', {}, (d.attempt_log ?? []).map((a) => h('div', {}, `${when(a.at)}: ${a.http_status ?? 'no answer'}${a.error ? ` (${a.error})` : ''}, ${a.latency_ms} ms`))),
    h('td', {}, d.outcome === 'failed' || d.outcome === 'disabled' ? h('button', { class: 'secondary retry', onclick: () => onRetry(d) }, 'Retry') : ''));
}

// Each status the message went through and when: the times its callbacks announced (exact),
// else what the message itself records (created, sent, its last change, read).
export function statusTimeline(msg, deliveries) {
  const at = new Map();
  for (const d of deliveries) if (d.status && d.event_at && !at.has(d.status)) at.set(d.status, d.event_at);
  if (!at.has(msg.is_outbound ? 'QUEUED' : 'RECEIVED')) at.set(msg.is_outbound ? 'QUEUED' : 'RECEIVED', msg.date_created);
  if (msg.date_sent && !at.has('SENT') && msg.is_outbound) at.set('SENT', msg.date_sent);
  if (!at.has(msg.status) && msg.status !== 'READ') at.set(msg.status, msg.date_updated);
  if (msg.date_read) at.set('READ', msg.date_read);
  return [...at].filter(([, t]) => t).sort((a, b) => Date.parse(a[1]) - Date.parse(b[1]));
}

export async function message(view, handle) {
  const render = async () => {
    const [m, deliveries] = await Promise.all([
      api('GET', `/api/v2/messages/${encodeURIComponent(handle)}`),
      api('GET', `/api/v2/webhooks/deliveries?message_handle=${encodeURIComponent(handle)}&limit=200`),
    ]);
    const msg = m.data;
    const timeline = statusTimeline(msg, deliveries.data ?? []);
    const retry = async (d) => {
      await api('POST', `/api/v2/webhooks/deliveries/${d.id}/retry`);
      await render();
    };
    clear(view,
      h('h1', {}, 'Message'),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Handle'), h('dd', {}, msg.message_handle),
        h('dt', {}, 'Status'), h('dd', { id: 'message-status', class: `status-${msg.status}` }, msg.status),
        h('dt', {}, 'Direction'), h('dd', {}, msg.is_outbound ? `from ${msg.from_number} to ${msg.number}` : `from ${msg.number} to ${msg.sendblue_number}`),
        h('dt', {}, 'Service'), h('dd', {}, msg.service),
        h('dt', {}, 'Content'), h('dd', { id: 'message-content', class: 'content' }, msg.content),
        msg.media_url ? [h('dt', {}, 'Media'), h('dd', {}, h('a', { href: msg.media_url, rel: 'noreferrer' }, msg.media_url))] : [],
        msg.error_code ? [h('dt', {}, 'Error'), h('dd', { class: 'error' }, `${msg.error_code}: ${msg.error_message ?? ''}`)] : []),
      h('h2', {}, 'Timeline'),
      h('table', { id: 'timeline' }, timeline.map(([what, t]) => h('tr', {}, h('td', { class: `status-${what}` }, what), h('td', {}, when(t))))),
      h('h2', {}, 'Callbacks'),
      (deliveries.data ?? []).length === 0 ? h('p', {}, 'No callbacks for this message.') :
        h('table', { id: 'deliveries' }, h('tr', {}, ['Event', 'URL', 'Outcome', 'Attempts', ''].map((t) => h('th', {}, t))),
          deliveries.data.map((d) => deliveryRow(d, retry))),
      h('p', {}, h('a', { href: `#/conversations/${encodeURIComponent(msg.number)}` }, 'The conversation with this contact')));
  };
  await render();
  const timer = setInterval(() => render().catch(() => {}), 2000);
  return () => clearInterval(timer);
}

// Overview: live messages per second by status (from the event stream), the lines' health, the
// webhook backlog and failures, and the error codes of the last hour.
import { api } from '../api.js';
import { h, clear, when } from '../dom.js';
import { LiveChart, COLORS } from '../chart.js';

async function total(path) {
  const r = await api('GET', path);
  return r.pagination?.total ?? 0;
}

export async function overview(view) {
  const hourAgo = new Date(Date.now() - 3600_000).toISOString();
  const [state, queued, pending, failed, errors] = await Promise.all([
    api('GET', '/api/v2/lines/state'),
    total('/api/v2/messages?status=QUEUED&limit=1'),
    total('/api/v2/webhooks/deliveries?outcome=pending&limit=1'),
    total('/api/v2/webhooks/deliveries?outcome=failed&limit=1'),
    api('GET', `/api/v2/messages?status=ERROR&updated_at_gte=${encodeURIComponent(hourAgo)}&limit=1000`),
  ]);
  const byCode = new Map();
  for (const m of errors.data ?? []) byCode.set(m.error_code, (byCode.get(m.error_code) ?? 0) + 1);
  const canvas = h('canvas', { id: 'rate-chart', 'aria-label': 'messages per second by status' });
  const lineRows = (state.data ?? state.lines ?? []).map((l) => h('tr', {},
    h('td', {}, l.sendblue_number ?? l.number), h('td', { class: `health-${l.status}` }, l.status),
    h('td', {}, l.queue_depth ?? ''), h('td', {}, when(l.status_changed_at)), h('td', {}, l.worker_id ?? '')));
  clear(view,
    h('h1', {}, 'Overview'),
    h('div', { class: 'cards' },
      h('div', { class: 'card' }, h('b', { id: 'queued-now' }, queued), 'messages queued'),
      h('div', { class: 'card' }, h('b', {}, pending), 'webhook deliveries waiting'),
      h('div', { class: 'card' }, h('b', {}, failed), 'webhook deliveries failed'),
      h('div', { class: 'card' }, h('b', {}, errors.pagination?.total ?? 0), 'errors in the last hour')),
    h('h2', {}, 'Messages per second'),
    canvas,
    h('p', { class: 'legend' }, Object.entries(COLORS).map(([s, c]) => h('span', {}, h('i', { style: `background:${c}` }), s))),
    h('h2', {}, 'Lines'),
    h('table', {}, h('tr', {}, ['Line', 'Health', 'Queued', 'Since', 'Worker'].map((t) => h('th', {}, t))), lineRows),
    h('h2', {}, 'Error codes of the last hour'),
    byCode.size === 0 ? h('p', {}, 'None.') : h('table', {}, h('tr', {}, h('th', {}, 'error_code'), h('th', {}, 'messages')),
      [...byCode].map(([code, n]) => h('tr', {}, h('td', {}, code ?? 'none'), h('td', {}, n)))))
  const chart = new LiveChart(canvas);
  const events = new EventSource('/api/v2/events?types=message.created,message.updated,message.received');
  const onEvent = (e) => {
    try { chart.count(JSON.parse(e.data).data?.status ?? 'QUEUED'); } catch { /* a frame that is not JSON is skipped */ }
  };
  for (const t of ['message.created', 'message.updated', 'message.received']) events.addEventListener(t, onEvent);
  chart.draw();
  const timer = setInterval(() => chart.draw(), 1000);
  return () => { clearInterval(timer); events.close(); };
}

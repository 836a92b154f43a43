// One contact's thread as a chat: newest at the bottom, older pages loaded from the server as
// the reader scrolls up (a long conversation is never loaded whole), live updates and typing
// from the event stream, and a box to send.
import { api, csrfToken } from '../api.js';
import { h, clear, when } from '../dom.js';

const PAGE = 50;

function bubble(m) {
  const media = m.media_url && /^https?:/.test(m.media_url) ? h('img', { src: m.media_url, alt: 'attachment' }) : null;
  const receipt = m.is_outbound ? (m.date_read ? `read ${when(m.date_read)}` : m.status) : '';
  return h('div', { class: `bubble ${m.is_outbound ? 'out' : 'in'}`, 'data-handle': m.message_handle },
    media, m.content, h('small', {}, `${when(m.date_created)} ${receipt}`));
}

export async function conversation(view, number) {
  const thread = h('div', { class: 'thread', id: 'thread' });
  const typing = h('p', { id: 'typing' });
  const status = h('p', { id: 'conversation-status', role: 'status' });
  const shown = new Map();  // handle → bubble
  let offset = 0, done = false, loading = false;
  const loadOlder = async () => {
    if (done || loading) return;
    loading = true;
    const q = new URLSearchParams({ number, limit: PAGE, offset, order_by: 'createdAt', order_direction: 'desc' });
    const page = await api('GET', `/api/v2/messages?${q}`);
    const before = thread.scrollHeight;
    for (const m of page.data ?? []) {
      if (shown.has(m.message_handle)) continue;
      const b = bubble(m);
      shown.set(m.message_handle, b);
      thread.prepend(b);
    }
    offset += (page.data ?? []).length;
    done = !page.pagination?.hasMore;
    thread.scrollTop += thread.scrollHeight - before;
    loading = false;
  };
  thread.addEventListener('scroll', () => { if (thread.scrollTop < 40) loadOlder(); });
  const form = h('form', { class: 'inline', id: 'compose', onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { number, content: String(f.get('content') ?? '') };
    const file = f.get('file');
    try {
      if (file && file.size > 0) {
        const data = new FormData();
        data.append('file', file);
        const res = await fetch('/api/upload-file', { method: 'POST', body: data, headers: { 'x-csrf-token': csrfToken() } });
        const up = await res.json();
        if (!res.ok) throw new Error(up.message ?? `upload: HTTP ${res.status}`);
        body.media_url = up.media_url;
      }
      await api('POST', '/api/send-message', body);
      e.target.reset();
      status.textContent = '';
    } catch (err) {
      status.textContent = `Not sent: ${err.message}`;
    }
  } },
  h('label', {}, 'Message', h('textarea', { name: 'content', rows: 2, cols: 50 })),
  h('label', {}, 'Attach', h('input', { name: 'file', type: 'file' })),
  h('button', { type: 'submit' }, 'Send'));
  clear(view, h('h1', {}, `Conversation with ${number}`), thread, typing, form, status);
  await loadOlder();
  thread.scrollTop = thread.scrollHeight;
  const events = new EventSource('/api/v2/events?types=message.created,message.updated,message.received,typing.changed');
  const onMessage = (e) => {
    const m = JSON.parse(e.data).data;
    if (!m || m.number !== number) return;
    if (!m.is_outbound) typing.textContent = '';  // their message is here: they stopped typing
    const b = bubble(m);
    const old = shown.get(m.message_handle);
    shown.set(m.message_handle, b);
    if (old) old.replaceWith(b);
    else { thread.append(b); thread.scrollTop = thread.scrollHeight; offset += 1; }
  };
  for (const t of ['message.created', 'message.updated', 'message.received']) events.addEventListener(t, onMessage);
  events.addEventListener('typing.changed', (e) => {
    const t = JSON.parse(e.data).data;
    if (t?.number === number) typing.textContent = t.is_typing ? `${number} is typing…` : '';
  });
  return () => events.close();
}

// A send form for trying the simulator's test numbers, each explained, and the message's status
// as it changes.
import { api } from '../api.js';
import { h, clear } from '../dom.js';

// SPEC.md §7: the last four digits of +1 NPA 555-01XX.
const TEST_NUMBERS = [
  ['+12125550100', 'delivered over iMessage'],
  ['+12125550101', 'SMS-only: downgraded, ends at SENT'],
  ['+12125550102', 'carrier failure: ERROR 10001'],
  ['+12125550103', 'never resolves: ERROR 10002 at the resolve timeout'],
  ['+12125550104', 'replies STOP, then is opted out'],
  ['+12125550105', 'replies "Echo: <content>"'],
  ['+12125550106', 'slow: delivered after 5 s'],
  ['+12125550107', 'delivered, then read'],
];

export async function send(view) {
  const lines = await api('GET', '/api/v2/lines/state');
  const status = h('p', { id: 'send-status', role: 'status' });
  let timer = null;
  const watch = (handle) => {
    clearInterval(timer);
    const poll = async () => {
      const m = await api('GET', `/api/status?handle=${encodeURIComponent(handle)}`);
      clear(status, 'Message ', h('a', { href: `#/messages/${encodeURIComponent(handle)}` }, handle), ': ',
        h('b', { class: `status-${m.status}`, id: 'sent-status' }, m.status),
        m.error_code ? ` (${m.error_code}: ${m.error_message ?? ''})` : '');
      if (['DELIVERED', 'READ', 'ERROR', 'DECLINED'].includes(m.status)) clearInterval(timer);
    };
    poll();
    timer = setInterval(() => poll().catch(() => {}), 500);
  };
  const form = h('form', { class: 'inline', id: 'send-form', onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { number: f.get('number'), content: f.get('content') };
    if (f.get('from_number')) body.from_number = f.get('from_number');
    if (f.get('media_url')) body.media_url = f.get('media_url');
    try {
      const r = await api('POST', '/api/send-message', body);
      watch(r.message_handle);
    } catch (err) {
      clear(status, h('span', { class: 'error' }, `Not sent: ${err.message}`));
    }
  } },
  h('label', {}, 'To', h('input', { name: 'number', required: true, list: 'test-numbers', placeholder: '+1…' })),
  h('datalist', { id: 'test-numbers' }, TEST_NUMBERS.map(([n, what]) => h('option', { value: n }, what))),
  h('label', {}, 'From line', h('select', { name: 'from_number' }, h('option', { value: '' }, 'any'),
    (lines.data ?? []).map((l) => h('option', { value: l.sendblue_number }, l.sendblue_number)))),
  h('label', {}, 'Content', h('input', { name: 'content', size: 40 })),
  h('label', {}, 'Media URL', h('input', { name: 'media_url', type: 'url' })),
  h('button', { type: 'submit' }, 'Send'));
  clear(view,
    h('h1', {}, 'Send a message'),
    form, status,
    h('h2', {}, 'The simulator\'s test numbers'),
    h('p', {}, 'On a simulator line, numbers of the form +1 NPA 555-01XX (any area code) behave as below; any other number is delivered over iMessage.'),
    h('table', { id: 'test-number-table' }, h('tr', {}, h('th', {}, 'Number'), h('th', {}, 'What happens')),
      TEST_NUMBERS.map(([n, what]) => h('tr', {}, h('td', {}, h('button', { class: 'secondary', type: 'button', onclick: () => { form.number.value = n; } }, n)), h('td', {}, what)))));
  return () => clearInterval(timer);
}

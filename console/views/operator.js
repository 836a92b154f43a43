// The operator's view: every account, and every line with its health, queue and new-contact
// usage; a line's own limits can be changed here (empty: the configuration's).
import { api } from '../api.js';
import { h, clear, when } from '../dom.js';

const FIELDS = [
  ['burst_per_second', 'Burst / s', false],
  ['queue_capacity', 'Queue capacity', true],
  ['new_contacts_per_day', 'New contacts / day', true],
  ['new_contacts_per_hour', 'New contacts / hour', true],
];

function used(u) {
  return u ? `${u.used}${u.limit === null ? '' : ` of ${u.limit}`}` : '';
}

export async function operator(view, _arg, _params, notice = '') {
  const data = await api('GET', '/console/operator/overview');
  const status = h('p', { id: 'operator-status', role: 'status' }, notice);
  const lineRow = (l) => {
    const inputs = FIELDS.map(([key, , whole]) => h('input', {
      name: key, type: 'number', min: key === 'queue_capacity' ? 1 : 0, step: whole ? 1 : 'any', size: 6,
      value: l.own[key] ?? '', placeholder: String(l.limits[key]), 'aria-label': key,
    }));
    const save = async () => {
      const body = { number: l.sendblue_number };
      for (const input of inputs) body[input.name] = input.value === '' ? null : Number(input.value);
      try {
        await api('POST', '/console/operator/lines/limits', body);
        await operator(view, _arg, _params, `Saved the limits of ${l.sendblue_number}.`);
      } catch (e) {
        status.textContent = `Not saved: ${e.message}`;
      }
    };
    const next = [l.daily?.nextSlotAt, l.hourly?.nextSlotAt].filter(Boolean).sort().at(-1);
    return h('tr', { 'data-line': l.sendblue_number },
      h('td', {}, l.sendblue_number), h('td', {}, l.account_email), h('td', {}, l.carrier),
      h('td', {}, l.status), h('td', { class: 'queue-depth' }, l.queue_depth),
      h('td', {}, used(l.daily)), h('td', {}, used(l.hourly)), h('td', {}, next ? when(next) : ''),
      inputs.map((i) => h('td', {}, i)),
      h('td', {}, h('button', { class: 'save-limits', onclick: save }, 'Save')));
  };
  clear(view,
    h('h1', {}, 'All accounts and lines'),
    h('h2', {}, 'Accounts'),
    h('table', { id: 'accounts' }, h('tr', {}, ['Account', 'Plan', 'State', 'Lines'].map((t) => h('th', {}, t))),
      data.accounts.map((a) => h('tr', {}, h('td', {}, a.email), h('td', {}, a.plan), h('td', {}, a.disabled ? 'disabled' : 'active'), h('td', {}, a.lines)))),
    h('h2', {}, 'Lines'),
    h('p', {}, 'A line\'s own limits win over the configuration\'s; leave a box empty for the configuration\'s (shown greyed).'),
    h('table', { id: 'all-lines' },
      h('tr', {}, ['Line', 'Account', 'Carrier', 'Health', 'Queued', 'New today', 'This hour', 'Next slot', ...FIELDS.map(([, label]) => label), ''].map((t) => h('th', {}, t))),
      data.lines.map(lineRow)),
    status);
}

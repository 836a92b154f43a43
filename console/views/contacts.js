// Contacts: a page at a time; add (on a shared line this sends the verification the free plan
// needs), edit names, opt out or back in, and import a CSV file.
import { api } from '../api.js';
import { h, clear, when } from '../dom.js';

const PAGE = 50;

// "phone,first_name,last_name" with a header row naming the columns; quoted fields allowed.
export function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); field = '';
      if (row.some((x) => x !== '')) rows.push(row);
      row = [];
    } else field += c;
  }
  row.push(field);
  if (row.some((x) => x !== '')) rows.push(row);
  if (rows.length === 0) return [];
  const head = rows[0].map((x) => x.trim().toLowerCase());
  return rows.slice(1).map((r) => Object.fromEntries(head.map((k, i) => [k === 'number' ? 'phone' : k, (r[i] ?? '').trim()])));
}

export async function contacts(view, _arg, params) {
  const offset = Number(params.get('offset') ?? 0);
  const [list, count, shared] = await Promise.all([
    api('GET', `/api/v2/contacts?limit=${PAGE}&offset=${offset}`),
    api('GET', '/api/v2/contacts/count'),
    api('GET', '/accounts/shared-contacts'),
  ]);
  // On a shared (free-plan) line a contact must be verified before its messages reach the
  // account: adding one there sends the verification unless unticked.
  const sharedLine = shared.sharedNumber;
  const status = h('p', { id: 'contacts-status', role: 'status' });
  const reload = () => contacts(view, _arg, params);
  const act = async (what, fn) => {
    try { await fn(); await reload(); } catch (e) { status.textContent = `${what}: ${e.message}`; }
  };
  const rows = (Array.isArray(list) ? list : list.data ?? []).map((c) => h('tr', { 'data-phone': c.phone },
    h('td', {}, h('a', { href: `#/conversations/${encodeURIComponent(c.phone)}` }, c.phone)),
    h('td', {}, `${c.first_name} ${c.last_name}`.trim()),
    h('td', {}, c.verified ? 'yes' : 'no'),
    h('td', {}, c.opt_out ? 'opted out' : ''),
    h('td', {}, c.sendblue_number ?? ''),
    h('td', {}, when(c.created_at)),
    h('td', {},
      h('button', { class: 'secondary', onclick: () => act('Opt-out', () => api('POST', '/api/v2/contacts/opt-out', { number: c.phone, opted_out: !c.opt_out })) }, c.opt_out ? 'Opt back in' : 'Opt out'),
      h('button', { class: 'secondary', onclick: () => {
        const first = prompt('First name', c.first_name);
        if (first === null) return;
        const last = prompt('Last name', c.last_name);
        if (last === null) return;
        act('Edit', () => api('PUT', `/api/v2/contacts/${encodeURIComponent(c.phone)}`, { first_name: first, last_name: last }));
      } }, 'Edit'))));
  const add = h('form', { class: 'inline', id: 'add-contact', onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    act('Add', async () => {
      const r = await api('POST', '/api/v2/contacts', { number: f.get('number'), first_name: f.get('first_name'), last_name: f.get('last_name') });
      if (f.get('verify')) await api('POST', '/api/v2/contacts/verify', { number: r.contact.phone });
    });
  } },
  h('label', {}, 'Number', h('input', { name: 'number', required: true, placeholder: '+1…' })),
  h('label', {}, 'First name', h('input', { name: 'first_name' })),
  h('label', {}, 'Last name', h('input', { name: 'last_name' })),
  h('label', {}, 'Send the verification', h('input', { name: 'verify', type: 'checkbox', checked: Boolean(sharedLine) })),
  h('button', { type: 'submit' }, 'Add contact'));
  const importer = h('form', { class: 'inline', onsubmit: (e) => {
    e.preventDefault();
    const file = new FormData(e.target).get('csv');
    act('Import', async () => {
      const entries = parseCsv(await file.text());
      const r = await api('POST', '/api/v2/contacts/bulk', { contacts: entries });
      status.textContent = `Imported ${r.contacts?.length ?? entries.length} contacts.`;
    });
  } },
  h('label', {}, 'CSV file (phone, first_name, last_name, …)', h('input', { name: 'csv', type: 'file', accept: '.csv,text/csv', required: true })),
  h('button', { type: 'submit' }, 'Import'));
  clear(view,
    h('h1', {}, `Contacts (${count.count ?? 0})`),
    sharedLine ? h('p', { id: 'shared-note' }, `You send from the shared line ${sharedLine}: a contact must be verified (reply to the verification message once) before its messages reach you.`) : null,
    add, importer, status,
    h('table', { id: 'contacts' }, h('tr', {}, ['Number', 'Name', 'Verified', 'Opt-out', 'Line', 'Created', ''].map((t) => h('th', {}, t))), rows),
    h('div', { class: 'pager' },
      h('a', { href: `#/contacts?offset=${Math.max(0, offset - PAGE)}` }, 'Previous'),
      h('a', { href: `#/contacts?offset=${offset + PAGE}` }, 'Next')));
}

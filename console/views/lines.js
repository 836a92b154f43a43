// Lines: health, carrier, queue depth, and today's new-contact usage against its limits.
import { api } from '../api.js';
import { h, clear, when } from '../dom.js';

function usage(u) {
  if (!u) return '';
  const limit = u.limit === null ? 'no limit' : `of ${u.limit}`;
  return `${u.used} ${limit}`;
}

export async function lines(view) {
  const [state, use] = await Promise.all([api('GET', '/api/v2/lines/state'), api('GET', '/api/v2/lines/usage')]);
  const usageOf = new Map((use.data ?? []).map((u) => [u.sendblue_number, u]));
  const rows = (state.data ?? []).map((l) => {
    const u = usageOf.get(l.sendblue_number) ?? {};
    const next = [u.daily?.nextSlotAt, u.hourly?.nextSlotAt].filter(Boolean).sort().at(-1);
    return h('tr', { 'data-line': l.sendblue_number },
      h('td', {}, l.sendblue_number),
      h('td', { class: 'line-status' }, l.status),
      h('td', {}, l.carrier ?? ''),
      h('td', { class: 'queue-depth' }, l.queue_depth ?? ''),
      h('td', {}, usage(u.daily)),
      h('td', {}, usage(u.hourly)),
      h('td', {}, next ? when(next) : 'now'),
      h('td', {}, u.daily?.resetsAt ? when(u.daily.resetsAt) : ''));
  });
  clear(view,
    h('h1', {}, 'Lines'),
    h('table', { id: 'lines' },
      h('tr', {}, ['Line', 'Health', 'Carrier', 'Queued', 'New contacts today', 'This hour', 'Next slot', 'Day resets'].map((t) => h('th', {}, t))),
      rows),
    h('p', {}, 'Limits are set in the configuration ([lines]) or per line with ', h('code', {}, 'bluegate lines set'), '; a reload (SIGHUP) applies the configuration at once.'));
}

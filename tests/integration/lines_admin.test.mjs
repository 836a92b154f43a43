// `bluegate lines set|remove` beside a running server (SPEC.md §6, issue #4): per-line limits
// stored with the line, applied without a restart; removal never drops a queued message.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway, FAST_CONFIG, cli } from './lib/gateway.mjs';
import { Receiver } from './lib/receiver.mjs';
import { eventually } from './lib/eventually.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function startGateway(lines = {}) {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, lines: { ...FAST_CONFIG.lines, ...lines } } }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  return gw;
}

function admin(gw, args) {
  return cli([...args, '--config', gw.configPath], { dataDir: gw.dataDir });
}

async function usageOf(gw, line) {
  const r = await gw.request('GET', '/api/v2/lines/usage');
  assert.equal(r.status, 200, r.text);
  return r.json.data.find((l) => l.sendblue_number === line);
}

// The server polls for line changes; wait until it shows the daily limit `limit` on `line`.
async function waitForDailyLimit(gw, line, limit) {
  const u = await eventually(() => usageOf(gw, line), (x) => x && x.daily.limit === limit, { intervalMs: 50 });
  if (!u || u.daily.limit !== limit) throw new Error(`line ${line} never showed daily limit ${limit}: ${JSON.stringify(u)}`);
  return u;
}

test('lines set stores a line\'s own limits, prints what applies, and a running server applies them', async () => {
  const gw = await startGateway();
  const bad = admin(gw, ['lines', 'set', '--number', gw.line, '--new-contact-after', 'soon']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--new-contact-after must be a duration/);
  const negative = admin(gw, ['lines', 'set', '--number', gw.line, '--new-contacts-per-day', '-1']);
  assert.equal(negative.code, 1);
  assert.match(negative.stderr, /--new-contacts-per-day must be 0 \(no limit\) or more/);
  const missing = admin(gw, ['lines', 'set', '--number', '+13125550999', '--queue-capacity', '5']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no line \+13125550999/);

  const set = admin(gw, ['lines', 'set', '--number', gw.line, '--new-contacts-per-day', '1', '--queue-capacity', '2']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /new contacts per day:\s+1\s+\(line\)/);
  assert.match(set.stdout, /queue capacity:\s+2\s+\(line\)/);
  assert.match(set.stdout, /burst per second:\s+none\n/, 'the config file still decides the rest');
  const listed = admin(gw, ['lines', 'list']);
  assert.match(listed.stdout, /\+14155550100\s+sim\s+dev@bluegate\.local\s+none\s+1\s+none\s+2\s+no\s+queue,day/);

  await waitForDailyLimit(gw, gw.line, 1);
  const first = await gw.send({ number: '+12125550301', content: 'takes the one slot' });
  await gw.waitForStatus(first.json.message_handle, (m) => m.status === 'DELIVERED');
  const waiting = [];
  for (const n of ['+12125550302', '+12125550303']) {
    const r = await gw.send({ number: n, content: 'waits for tomorrow' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'QUEUED');
    waiting.push(r.json.message_handle);
  }
  // Two wait; the queue holds two: the next is refused until the next slot, which the queue
  // knows (03:00 New York), and Retry-After says so.
  const full = await gw.send({ number: '+12125550304', content: 'no room' });
  assert.equal(full.status, 429, full.text);
  assert.equal(full.json.error_code, 4001);
  const usage = await usageOf(gw, gw.line);
  const untilSlot = (Date.parse(usage.daily.nextSlotAt) - Date.now()) / 1000;
  const retryAfter = Number(full.headers.get('retry-after'));
  assert.ok(Math.abs(retryAfter - untilSlot) <= 3, `Retry-After ${retryAfter} s, next slot in ${untilSlot} s`);
  for (const h of waiting) assert.equal((await gw.status(h)).json.status, 'QUEUED');

  // Back to the config file's limits (none): the waiting messages go at once.
  const reset = admin(gw, ['lines', 'set', '--number', gw.line, '--reset']);
  assert.equal(reset.code, 0, reset.stderr);
  assert.doesNotMatch(reset.stdout, /\(line\)/);
  for (const h of waiting) await gw.waitForStatus(h, (m) => m.status === 'DELIVERED');
});

test('removing a line with queued messages asks; moving takes messages and contacts to the other line', async () => {
  const gw = await startGateway();
  const OTHER = '+13125550410';
  assert.equal(admin(gw, ['lines', 'add', '--account', 'dev@bluegate.local', '--number', OTHER]).code, 0);
  assert.equal(admin(gw, ['lines', 'set', '--number', OTHER, '--new-contacts-per-day', '1']).code, 0);
  await waitForDailyLimit(gw, OTHER, 1);
  const sent = await gw.send({ number: '+12125550411', content: 'goes', from_number: OTHER });
  await gw.waitForStatus(sent.json.message_handle, (m) => m.status === 'DELIVERED');
  const waiting = [];
  for (const n of ['+12125550412', '+12125550413']) {
    waiting.push((await gw.send({ number: n, content: 'waits', from_number: OTHER })).json.message_handle);
  }

  // Without a terminal and without --queued, nothing is removed.
  const asked = admin(gw, ['lines', 'remove', '--number', OTHER]);
  assert.equal(asked.code, 2, asked.stderr);
  assert.match(asked.stderr, /2 messages wait in QUEUED on line \+13125550410/);
  assert.match(asked.stderr, /--queued fail .* or --queued move --move-to/);
  assert.match(admin(gw, ['lines', 'list']).stdout, /\+13125550410/);
  const wrong = admin(gw, ['lines', 'remove', '--number', OTHER, '--queued', 'move']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /--queued move needs --move-to/);

  const moved = admin(gw, ['lines', 'remove', '--number', OTHER, '--queued', 'move', '--move-to', gw.line]);
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, /2 queued messages and 3 contacts moved to \+14155550100/);
  for (const h of waiting) {
    const m = await gw.waitForStatus(h, (x) => x.status === 'DELIVERED');
    assert.equal(m.sendblue_number, gw.line);
  }
  // The server no longer sends from the removed line, and the contacts stay with their new line.
  // (Within the server's one-second poll; a send accepted meanwhile is forwarded like the rest.)
  const refused = await eventually(() => gw.send({ number: '+12125550414', content: 'x', from_number: OTHER }),
    (r) => r.status === 400, { intervalMs: 50 });
  assert.equal(refused.status, 400);
  assert.match(refused.json.message, /from_number \+13125550410 is not a line of this account/);
  const again = await gw.send({ number: '+12125550411', content: 'same contact, its new line' });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.sendblue_number, gw.line);
  const lines = await gw.request('GET', '/api/lines');
  assert.deepEqual(lines.json.numbers, [gw.line]);
});

test('removing a line with --queued fail ends its queued messages in ERROR and tells their callbacks', async () => {
  const rx = await new Receiver().start();
  cleanups.push(() => rx.stop());
  const gw = await startGateway();
  const OTHER = '+13125550420';
  assert.equal(admin(gw, ['lines', 'add', '--account', 'dev@bluegate.local', '--number', OTHER]).code, 0);
  assert.equal(admin(gw, ['lines', 'set', '--number', OTHER, '--new-contacts-per-day', '1']).code, 0);
  await waitForDailyLimit(gw, OTHER, 1);
  const first = await gw.send({ number: '+12125550421', content: 'goes', from_number: OTHER });
  await gw.waitForStatus(first.json.message_handle, (m) => m.status === 'DELIVERED');
  const waiting = (await gw.send({ number: '+12125550422', content: 'waits', from_number: OTHER, status_callback: `${rx.url}/cb` })).json.message_handle;

  const failed = admin(gw, ['lines', 'remove', '--number', OTHER, '--queued', 'fail']);
  assert.equal(failed.code, 0, failed.stderr);
  assert.match(failed.stdout, /1 queued messages failed; 2 contacts unbound/);
  const m = await gw.waitForStatus(waiting, (x) => x.status === 'ERROR');
  assert.equal(m.error_code, 10001);
  assert.match(m.error_message, /line \+13125550420 was removed before the message was sent/);
  await rx.waitFor(() => rx.forHandle(waiting).some((c) => c.json.status === 'ERROR'));
  // Unbound, the contact may be given another line.
  const rebound = await gw.send({ number: '+12125550421', content: 'new line', from_number: gw.line });
  assert.equal(rebound.status, 200, rebound.text);
});

test('a line\'s new-contact window survives a restart', async () => {
  const gw = await startGateway({ new_contacts_per_day: 50, new_contacts_per_hour: 2 });
  for (const n of ['+12125550431', '+12125550432']) {
    const r = await gw.send({ number: n, content: 'new' });
    await gw.waitForStatus(r.json.message_handle, (m) => m.status === 'DELIVERED');
  }
  await gw.stop();
  await gw.start();
  const usage = await usageOf(gw, gw.line);
  assert.equal(usage.hourly.used, 2, JSON.stringify(usage));
  assert.equal(usage.daily.used, 2);
  const third = await gw.send({ number: '+12125550433', content: 'over the hour' });
  assert.equal(third.json.status, 'QUEUED');
  const known = await gw.send({ number: '+12125550431', content: 'known' });
  await gw.waitForStatus(known.json.message_handle, (m) => m.status === 'DELIVERED');
  assert.equal((await gw.status(third.json.message_handle)).json.status, 'QUEUED');
});

// Per-line pacing and the bounded queue (SPEC.md §6), end to end through the real binary.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway, FAST_CONFIG } from './lib/gateway.mjs';
import { Receiver } from './lib/receiver.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

test('a line sends no faster than its burst rate; the rest wait in QUEUED', async () => {
  const rx = await new Receiver().start();
  const gw = await new Gateway({ config: { ...FAST_CONFIG, lines: { burst_per_second: 5, queue_capacity: 100, resolve_timeout: '5s', new_contacts_per_day: 0, new_contacts_per_hour: 0 } } }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); await rx.stop(); });
  const handles = [];
  for (let i = 0; i < 15; i++) {
    const r = await gw.send({ number: '+12125550100', content: `paced ${i}`, status_callback: `${rx.url}/p` });
    assert.equal(r.status, 200);
    handles.push(r.json.message_handle);
  }
  await rx.waitFor(() => handles.every((h) => rx.forHandle(h).some((c) => c.json.status === 'ACCEPTED')), 10000);

  const accepted = handles.map((h) => Date.parse(rx.forHandle(h).find((c) => c.json.status === 'ACCEPTED').json.date_updated)).sort((a, b) => a - b);
  // 5 go at once, then one every 200 ms: the 15th no sooner than 2 s after the first.
  assert.ok(accepted[14] - accepted[0] >= 1900, `15 messages took ${accepted[14] - accepted[0]} ms at 5/s`);
  assert.ok(accepted[4] - accepted[0] < 500, 'the first five go as a burst');
});

test('a full line queue answers 429 with error_code 4001 and Retry-After, and stores nothing', async () => {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, lines: { burst_per_second: 1, queue_capacity: 3, resolve_timeout: '5s', new_contacts_per_day: 0, new_contacts_per_hour: 0 } } }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await gw.send({ number: '+12125550100', content: `fill ${i}` }));
  const refused = results.filter((r) => r.status === 429);
  assert.ok(refused.length >= 1, `statuses: ${results.map((r) => r.status)}`);
  const r = refused[0];
  assert.equal(r.json.status, 'ERROR');
  assert.equal(r.json.error_code, 4001);
  assert.match(r.json.message, /queue of line \+14155550100 is full/);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  const stored = await gw.request('GET', '/api/v2/messages?limit=100');
  assert.equal(stored.json.pagination.total, results.filter((x) => x.status === 200).length);
});

test('first messages wait for a new-contact slot; known contacts are not held up', async () => {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, lines: { burst_per_second: 0, queue_capacity: 100, resolve_timeout: '5s', new_contacts_per_day: 50, new_contacts_per_hour: 2 } } }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  const a = await gw.send({ number: '+12125550171', content: 'new 1' });
  const b = await gw.send({ number: '+12125550172', content: 'new 2' });
  await gw.waitForStatus(a.json.message_handle, (m) => m.status === 'DELIVERED');
  await gw.waitForStatus(b.json.message_handle, (m) => m.status === 'DELIVERED');
  const c = await gw.send({ number: '+12125550173', content: 'new 3: over the hourly limit' });
  const again = await gw.send({ number: '+12125550171', content: 'known contact' });
  await gw.waitForStatus(again.json.message_handle, (m) => m.status === 'DELIVERED');
  // The known contact's message went while the third new contact's still waits.
  assert.equal((await gw.status(c.json.message_handle)).json.status, 'QUEUED');
  assert.match(await gw.metrics(), /bluegate_line_queue_depth\{line="\+14155550100"\} 1/);
  const usage = await gw.request('GET', '/api/v2/lines/usage');
  assert.equal(usage.status, 200, usage.text);
  const line = usage.json.data.find((l) => l.sendblue_number === gw.line);
  assert.equal(line.hourly.used, 2);
  assert.equal(line.hourly.limit, 2);
  assert.equal(line.hourly.remaining, 0);
  assert.equal(line.daily.used, 2);
  assert.equal(line.daily.remaining, 48);
  const nextSlot = Date.parse(line.hourly.nextSlotAt);
  const first = Date.parse((await gw.status(a.json.message_handle)).json.date_sent);
  assert.ok(nextSlot >= first + 3600000 - 1000 && nextSlot <= first + 3600000 + 5000, 'a slot opens an hour after the first');
  assert.match(line.daily.resetsAt, /T0[78]:00:00\.000Z$/, '03:00 in New York');
});

test('the account API rate limit answers 429 / 5509 with Retry-After, per account and route', async () => {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, rate_limits: { 'GET /api/v2/messages': '3/10s' } } }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  for (let i = 0; i < 3; i++) assert.equal((await gw.request('GET', '/api/v2/messages')).status, 200);
  const limited = await gw.request('GET', '/api/v2/messages');
  assert.equal(limited.status, 429, limited.text);
  assert.equal(limited.json.error_code, 5509, "the account's window, not a line's 4001");
  assert.match(limited.json.message, /GET \/api\/v2\/messages allows 3 requests per 10 s per account/);
  assert.equal(limited.json.error_message, limited.json.message, 'error_message carries the same text');
  // A token comes back every 10/3 s: Retry-After rounds that up.
  const retryAfter = Number(limited.headers.get('retry-after'));
  assert.ok(retryAfter >= 3 && retryAfter <= 4, `Retry-After ${retryAfter}`);
  assert.equal((await gw.request('GET', '/api/lines')).status, 200, 'other routes are not limited');
  const sent = await gw.send({ number: '+12125550100', content: 'sends are paced by lines, not this limit' });
  assert.equal(sent.status, 200);
});

test('by default GET /api/v2/messages allows 100 requests per 10 s', async () => {
  const gw = await new Gateway().start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  // Tokens come back at 10 per second: 120 quick requests (well under 2 s) must meet a 429.
  const statuses = [];
  for (let i = 0; i < 120; i++) statuses.push((await gw.request('GET', '/api/v2/messages?limit=1')).status);
  assert.deepEqual(statuses.slice(0, 100), Array(100).fill(200));
  assert.ok(statuses.includes(429), `statuses after 100: ${statuses.slice(100)}`);
});

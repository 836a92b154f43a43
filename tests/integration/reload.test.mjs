// SIGHUP re-reads the configuration file (issue #18, item 4): line limits, rate limits, webhook
// settings and the log level apply at once; keys that need a restart are named in the log; a file
// with an error keeps the running configuration and the server serving.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Gateway, FAST_CONFIG } from './lib/gateway.mjs';
import { Receiver } from './lib/receiver.mjs';
import { eventually } from './lib/eventually.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

// Sends SIGHUP and waits for the log line that ends the reload.
async function hup(gw, pattern) {
  const from = gw.output.length;
  gw.proc.kill('SIGHUP');
  await eventually(() => gw.output.slice(from), (o) => pattern.test(o), { timeoutMs: 5000 });
  return gw.output.slice(from);
}

const tight = { ...FAST_CONFIG.lines, queue_capacity: 1, new_contacts_per_hour: 1 };

test('line limits apply to a running server: a waiting message goes and a full queue takes more', async () => {
  const config = { ...FAST_CONFIG, lines: tight };
  const gw = await new Gateway({ config }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  const a = await gw.send({ number: '+12125550181', content: 'first new contact' });
  await gw.waitForStatus(a.json.message_handle, (m) => m.status === 'DELIVERED');
  const b = await gw.send({ number: '+12125550182', content: 'waits for an hourly slot' });
  assert.equal(b.status, 200, b.text);
  const c = await gw.send({ number: '+12125550183', content: 'the queue of one is full' });
  assert.equal(c.status, 429, c.text);
  assert.match(c.json.message, /queue of line \+14155550100 is full/);

  gw.writeConfig({ ...config, lines: { ...tight, queue_capacity: 10, new_contacts_per_hour: 0 } });
  const log = await hup(gw, /SIGHUP: applied /);
  assert.match(log, /SIGHUP: applied lines\.new_contacts_per_hour, lines\.queue_capacity/);
  assert.doesNotMatch(log, /a restart applies/);
  await gw.waitForStatus(b.json.message_handle, (m) => m.status === 'DELIVERED');
  const d = await gw.send({ number: '+12125550183', content: 'room now' });
  assert.equal(d.status, 200, d.text);
  await gw.waitForStatus(d.json.message_handle, (m) => m.status === 'DELIVERED');
});

test('rate limits and the log level apply; keys that need a restart are named; a broken file changes nothing', async () => {
  const config = { ...FAST_CONFIG, rate_limits: { 'GET /api/v2/messages': '2/60s' } };
  const gw = await new Gateway({ config }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  for (let i = 0; i < 2; i++) assert.equal((await gw.request('GET', '/api/v2/messages')).status, 200);
  assert.equal((await gw.request('GET', '/api/v2/messages')).status, 429);

  gw.writeConfig({ ...config, log_level: 'debug', max_body_bytes: 4096, rate_limits: { 'GET /api/v2/messages': '50/60s' } });
  const log = await hup(gw, /a restart applies/);
  assert.match(log, /SIGHUP: applied log_level, rate_limits\.GET \/api\/v2\/messages/);
  assert.match(log, /SIGHUP: max_body_bytes changed; a restart applies it/);
  assert.equal((await gw.request('GET', '/api/v2/messages')).status, 200, 'the new limit is in force');
  const big = await gw.send({ number: '+12125550100', content: 'x'.repeat(6000) });
  assert.notEqual(big.status, 413, 'max_body_bytes is still the one the server started with');

  const before = gw.output.length;
  writeFileSync(gw.configPath, 'log_level = "debug"\n[lines]\nqueue_capacity = "lots"\n');
  const kept = await hup(gw, /SIGHUP: kept the running configuration/);
  assert.match(kept, /SIGHUP: kept the running configuration: .*lines\.queue_capacity/);
  assert.equal((await gw.request('GET', '/healthz')).status, 200);
  assert.equal(gw.proc.exitCode, null, 'SIGHUP never ends the server');
  assert.ok(gw.output.length > before);

  gw.writeConfig({ ...config, log_level: 'debug', max_body_bytes: 4096, rate_limits: { 'GET /api/v2/messages': '50/60s' } });
  await hup(gw, /SIGHUP: \S+ is unchanged/);
});

test('webhook settings apply: callbacks refused to loopback go once allow_loopback is switched on', async () => {
  const rx = await new Receiver().start();
  const config = { ...FAST_CONFIG, webhooks: { ...FAST_CONFIG.webhooks, allow_loopback: false } };
  const gw = await new Gateway({ config }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); await rx.stop(); });
  const refused = await gw.send({ number: '+12125550100', content: 'a', status_callback: `${rx.url}/before` });
  await gw.waitForStatus(refused.json.message_handle, (m) => m.status === 'DELIVERED');
  await eventually(() => gw.output, (o) => /resolves to a loopback address/.test(o), { timeoutMs: 5000 });

  gw.writeConfig({ ...config, webhooks: { ...config.webhooks, allow_loopback: true } });
  assert.match(await hup(gw, /SIGHUP: applied/), /SIGHUP: applied webhooks\.allow_loopback/);
  const r = await gw.send({ number: '+12125550100', content: 'b', status_callback: `${rx.url}/after` });
  await rx.waitFor(() => rx.forHandle(r.json.message_handle).some((x) => x.json.status === 'DELIVERED'));
  assert.equal(rx.received.filter((x) => x.path === '/before').length, 0, 'the refused ones stay refused');
});

// status_callback delivery against a real receiver that fails in scripted ways: retries on the
// schedule, order per message, Retry-After, 410, timeouts, headers, and survival across restarts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Gateway, FAST_CONFIG, makeDataDir } from './lib/gateway.mjs';
import { Receiver } from './lib/receiver.mjs';
import { eventually } from './lib/eventually.mjs';

const FULL = ['REGISTERED', 'PENDING', 'QUEUED', 'ACCEPTED', 'SENT', 'DELIVERED'];
const config = { ...FAST_CONFIG, webhooks: { timeout: '300ms', retry_schedule: ['0ms', '100ms', '200ms', '400ms', '800ms'] } };
const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function setup(cfg = config) {
  const rx = await new Receiver().start();
  const gw = await new Gateway({ config: cfg }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); await rx.stop(); });
  return { gw, rx };
}

test('a failed delivery is retried until it succeeds when nothing newer waits behind it', async () => {
  const { gw, rx } = await setup();
  let failures = 0;
  rx.behaviour = (req, rec) => (rec.json.status === 'DELIVERED' && ++failures <= 2 ? { status: 500 } : undefined);
  const r = await gw.send({ number: '+12125550100', content: 'retry me', status_callback: `${rx.url}/cb` });
  const handle = r.json.message_handle;
  await rx.waitFor(() => rx.forHandle(handle).some((c) => c.json.status === 'DELIVERED'));
  assert.deepEqual(rx.forHandle(handle).map((c) => c.json.status), FULL);
  assert.equal(failures, 3, 'DELIVERED took three attempts');
  assert.match(await gw.metrics(), /bluegate_webhook_deliveries_total\{outcome="retry"\} 2/);
});

test('a failed status gives way to the newest: the receiver gets DELIVERED without waiting, never an older one after it', async () => {
  const { gw, rx } = await setup({ ...config, webhooks: { ...config.webhooks, retry_schedule: ['0ms', '1h'] } });
  const attempts = new Map();
  rx.behaviour = (req, rec) => {
    const key = rec.json.status;
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    return n === 1 && key !== 'DELIVERED' ? { status: 500 } : undefined;  // each first attempt fails
  };
  const r = await gw.send({ number: '+12125550100', content: 'no waiting', status_callback: `${rx.url}/cb` });
  const handle = r.json.message_handle;
  // The retry schedule waits an hour: DELIVERED arriving at all shows nothing waited for it.
  await rx.waitFor(() => rx.forHandle(handle).some((c) => c.json.status === 'DELIVERED'));
  const order = rx.received.filter((x) => x.json.message_handle === handle).map((x) => FULL.indexOf(x.json.status));
  for (let i = 1; i < order.length; i++) assert.ok(order[i] >= order[i - 1], `out of order: ${order}`);
  const log = await eventually(async () => (await gw.request('GET', `/api/v2/webhooks/deliveries?message_handle=${handle}`)).json.data,
    (data) => data.every((d) => d.outcome !== 'pending'));
  const outcomes = Object.fromEntries(log.map((d) => [d.status, d.outcome]));
  assert.equal(outcomes.DELIVERED, 'delivered');
  assert.ok(log.every((d) => d.outcome === 'delivered' || d.outcome === 'superseded'), JSON.stringify(outcomes));
  assert.ok(log.some((d) => d.outcome === 'superseded'), 'the failed ones are recorded as superseded');
  assert.match(await gw.metrics(), /bluegate_webhook_deliveries_total\{outcome="superseded"\} [1-5]\b/);
});

test('retries follow the schedule, and webhook-id stays the same across retries', async () => {
  const { gw, rx } = await setup();
  let calls = 0;
  rx.behaviour = (req, rec) => (rec.json.status === 'DELIVERED' && ++calls <= 3 ? { status: 503 } : undefined);
  const r = await gw.send({ number: '+12125550100', content: 'schedule', status_callback: `${rx.url}/cb` });
  await rx.waitFor(() => rx.forHandle(r.json.message_handle).some((c) => c.json.status === 'DELIVERED'));
  const tries = rx.received.filter((x) => x.json.status === 'DELIVERED' && x.json.message_handle === r.json.message_handle);
  assert.equal(tries.length, 4);
  const gaps = tries.slice(1).map((t, i) => t.at - tries[i].at);
  assert.ok(gaps[0] >= 100 && gaps[1] >= 200 && gaps[2] >= 400, `gaps ${gaps} follow 100, 200, 400 ms`);
  const ids = new Set(tries.map((t) => t.headers['webhook-id']));
  assert.equal(ids.size, 1);
  assert.match([...ids][0], /^msg_\d+$/);
  assert.match(tries[0].headers['webhook-timestamp'], /^\d{10}$/);
  assert.equal(tries[0].headers['content-type'], 'application/json');
});

test('Retry-After asks for a longer wait than the schedule, and is honoured', async () => {
  const { gw, rx } = await setup();
  let first = true;
  rx.behaviour = (req, rec) => {
    if (rec.json.status === 'DELIVERED' && first) {
      first = false;
      return { status: 429, headers: { 'retry-after': '1' } };
    }
    return undefined;
  };
  const r = await gw.send({ number: '+12125550100', content: 'later', status_callback: `${rx.url}/cb` });
  await rx.waitFor(() => rx.forHandle(r.json.message_handle).some((c) => c.json.status === 'DELIVERED'));
  const tries = rx.received.filter((x) => x.json.status === 'DELIVERED');
  // The schedule says 100 ms; Retry-After: 1 is capped at the schedule's longest delay (800 ms).
  assert.ok(tries[1].at - tries[0].at >= 800, `waited ${tries[1].at - tries[0].at} ms`);
});

test('410 Gone stops deliveries to that URL for the message', async () => {
  const { gw, rx } = await setup();
  rx.behaviour = (req, rec) => (rec.json.status === 'PENDING' ? { status: 410 } : undefined);
  const r = await gw.send({ number: '+12125550100', content: 'gone', status_callback: `${rx.url}/cb` });
  await gw.waitForStatus(r.json.message_handle, (m) => m.status === 'DELIVERED');
  // The message reached DELIVERED, yet nothing after PENDING was sent to the receiver: once no
  // delivery of the message is left pending (each was sent, or disabled by the 410), the
  // receiver has seen all it will.
  const pending = await eventually(async () => (await gw.request('GET',
    `/api/v2/webhooks/deliveries?message_handle=${r.json.message_handle}&outcome=pending`)).json.data,
  (data) => data.length === 0);
  assert.deepEqual(pending, []);
  const statuses = rx.received.filter((x) => x.json.message_handle === r.json.message_handle).map((x) => x.json.status);
  assert.deepEqual(statuses, ['REGISTERED', 'PENDING']);
  assert.match(await gw.metrics(), /bluegate_webhook_deliveries_total\{outcome="disabled"\} 1/);
});

test('a receiver slower than the timeout is retried', async () => {
  const { gw, rx } = await setup();
  let slow = true;
  rx.behaviour = (req, rec) => {
    if (rec.json.status === 'DELIVERED' && slow) {
      slow = false;
      return { delayMs: 1000 };
    }
    return undefined;
  };
  const r = await gw.send({ number: '+12125550100', content: 'slow rx', status_callback: `${rx.url}/cb` });
  // The slow attempt is recorded when the receiver finally answers, after the retry.
  const both = await rx.waitFor((all) => all.filter((x) => x.json.status === 'DELIVERED').length >= 2);
  const delivered = both.filter((x) => x.json.status === 'DELIVERED');
  assert.ok(delivered[1].at - delivered[0].at < 0, 'the retry was answered before the slow first attempt');
  assert.deepEqual(rx.forHandle(r.json.message_handle).map((c) => c.json.status).slice(0, 5), FULL.slice(0, 5));
  assert.match(await gw.metrics(), /bluegate_webhook_deliveries_total\{outcome="retry"\} 1/);
});

test('a connection reset by the receiver is retried', async () => {
  const { gw, rx } = await setup();
  let resets = 0;
  // DELIVERED goes on a kept-alive connection, which the client re-opens once by itself when it
  // was reset; a second reset, on the fresh connection, is a failed attempt.
  rx.behaviour = (req, rec) => (rec.json.status === 'DELIVERED' && resets++ < 2 ? { destroy: true } : undefined);
  const r = await gw.send({ number: '+12125550100', content: 'reset', status_callback: `${rx.url}/cb` });
  await rx.waitFor(() => rx.forHandle(r.json.message_handle).some((c) => c.json.status === 'DELIVERED' && c.answered === 200));
  assert.deepEqual([...new Set(rx.forHandle(r.json.message_handle).map((c) => c.json.status))], FULL);
  await eventually(() => gw.metrics(), (text) => /outcome="retry"\} 1\b/.test(text));
  assert.match(await gw.metrics(), /bluegate_webhook_deliveries_total\{outcome="retry"\} 1/);
});

test('redirects are not followed: a 3xx is a failed attempt', async () => {
  const { gw, rx } = await setup();
  rx.behaviour = (req) => (req.url === '/moved' ? { status: 302, headers: { location: `${rx.url}/elsewhere` } } : undefined);
  const r = await gw.send({ number: '+12125550100', content: 'redirected', status_callback: `${rx.url}/moved` });
  // Five attempts of the first event (the whole test schedule), then it gives up.
  await rx.waitFor((all) => all.filter((x) => x.path === '/moved').length >= 5);
  await eventually(() => gw.metrics(), (text) => /outcome="failed"\} [1-9]/.test(text));
  assert.match(await gw.metrics(), /outcome="failed"\} [1-9]/);
  assert.equal(rx.received.filter((x) => x.path === '/elsewhere').length, 0, 'the Location was never called');
  assert.ok(r.status === 200);
});

test('deliveries still due survive a restart and arrive once the receiver is back', async () => {
  // A port with nothing listening: take one, then close it.
  const probe = http.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));

  const cfg = { ...FAST_CONFIG, webhooks: { timeout: '300ms', retry_schedule: ['0ms', '100ms', '2s', '2s'] } };
  const dataDir = makeDataDir();
  let gw = await new Gateway({ config: cfg, dataDir }).start();
  const r = await gw.send({ number: '+12125550100', content: 'outage', status_callback: `http://127.0.0.1:${port}/cb` });
  const handle = r.json.message_handle;
  await gw.waitForStatus(handle, (m) => m.status === 'DELIVERED');
  const exit = await gw.stop();
  assert.equal(exit.code, 0);

  const rx = new Receiver();
  await new Promise((res) => {
    rx.server = null;
    res();
  });
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      rx.received.push({ json: JSON.parse(body), answered: 200, at: Date.now() });
      rx.notify();
      res.end('{}');
    });
  });
  await new Promise((res) => server.listen(port, '127.0.0.1', res));
  const again = new Gateway({ config: cfg, dataDir });
  again.keyId = gw.keyId;
  again.secret = gw.secret;
  again.line = gw.line;
  gw = await again.start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); await new Promise((res) => server.close(res)); });
  // What waited across the restart is the message's newest status (the older ones gave way).
  await rx.waitFor(() => rx.forHandle(handle).some((c) => c.json.status === 'DELIVERED'), 15000);
  const got = rx.forHandle(handle).map((c) => FULL.indexOf(c.json.status));
  for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1], `in order, once each: ${got}`);
  const log = await eventually(async () => (await gw.request('GET', `/api/v2/webhooks/deliveries?message_handle=${handle}`)).json.data,
    (data) => data.every((d) => d.outcome !== 'pending'));
  assert.equal(log.length, 6);
  assert.ok(log.every((d) => d.outcome === 'delivered' || d.outcome === 'superseded'));
  assert.ok(log.filter((d) => d.outcome === 'superseded').length >= 4, 'the older ones gave way');
});

// The webhook delivery log: every attempt with its time, status, latency and error; retry through
// the API and through `bluegate webhooks retry` while the server runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FAST_CONFIG, cli } from './lib/gateway.mjs';
import { startStack } from './lib/stack.mjs';
import { eventually } from './lib/eventually.mjs';

let stack;
let gw;
let rx;
before(async () => {
  stack = await startStack({ config: { ...FAST_CONFIG, webhooks: { timeout: '1s', retry_schedule: ['0ms', '50ms', '50ms'] } } });
  ({ gw, rx } = stack);
});
after(() => stack.stop());

const log = (query) => gw.request('GET', `/api/v2/webhooks/deliveries?${query}`);

test('each delivery lists its attempts: failures and the final success', async () => {
  let failures = 0;
  // DELIVERED, the message's last status, fails twice: nothing newer supersedes it, so it is retried.
  rx.behaviour = (req, rec) => (req.url === '/flaky' && rec.json.status === 'DELIVERED' && failures++ < 2 ? { status: 500 } : undefined);
  const r = await gw.send({ number: '+12125550100', content: 'logged', status_callback: `${rx.url}/flaky` });
  const h = r.json.message_handle;
  await rx.waitFor(() => rx.forHandle(h).length === 6);
  const page = await eventually(async () => (await log(`message_handle=${h}`)).json,
    (p) => p.data.every((d) => d.outcome === 'delivered'));
  assert.equal(page.status, 'OK');
  assert.equal(page.pagination.total, 6);
  const byStatus = Object.fromEntries(page.data.map((d) => [d.status, d]));
  const delivered = byStatus.DELIVERED;
  assert.equal(delivered.url, `${rx.url}/flaky`);
  assert.equal(delivered.kind, 'status_callback');
  assert.equal(delivered.attempts, 3);
  assert.deepEqual(delivered.attempt_log.map((a) => a.http_status), [500, 500, 200]);
  for (const a of delivered.attempt_log) {
    assert.match(a.at, /Z$/);
    assert.equal(typeof a.latency_ms, 'number');
  }
  assert.deepEqual(byStatus.REGISTERED.attempt_log.map((a) => a.http_status), [200]);
  assert.equal(delivered.next_attempt_at, null);
  const filtered = (await log(`message_handle=${h}&outcome=failed`)).json;
  assert.equal(filtered.pagination.total, 0);
  const bad = await log('outcome=lost');
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /outcome must be pending, delivered, failed, disabled or superseded/);
});

async function failedDelivery(path) {
  rx.behaviour = (req) => (req.url === path ? { status: 503 } : undefined);
  const r = await gw.send({ number: '+12125550100', content: `will fail ${path}`, status_callback: `${rx.url}${path}` });
  const h = r.json.message_handle;
  // The earlier statuses gave way to the newest (superseded); DELIVERED used the whole schedule.
  const page = await eventually(async () => (await log(`message_handle=${h}&outcome=failed`)).json,
    (p) => p.pagination.total === 1, { timeoutMs: 10000 });
  if (page.pagination.total !== 1) throw new Error('the delivery did not fail');
  const superseded = (await log(`message_handle=${h}&outcome=superseded`)).json;
  assert.equal(superseded.pagination.total, 5);
  assert.ok(superseded.data.every((d) => d.next_attempt_at === null));
  return page.data.find((d) => d.status === 'DELIVERED');
}

test('POST .../retry sends a failed delivery again', async () => {
  const failed = await failedDelivery('/down-api');
  assert.equal(failed.attempts, 3, 'the whole schedule was used');
  rx.behaviour = () => undefined;  // the receiver is back
  const retry = await gw.request('POST', `/api/v2/webhooks/deliveries/${failed.id}/retry`);
  assert.equal(retry.status, 202, retry.text);
  await rx.waitFor(() => rx.received.some((x) => x.path === '/down-api' && x.answered === 200));
  // The attempt is recorded right after the answer; wait for the record, not for time.
  const after = await eventually(async () => (await log(`message_handle=${failed.message_handle}&outcome=delivered`)).json,
    (p) => p.pagination.total > 0);
  assert.equal(after.pagination.total, 1);
  assert.equal(after.data[0].id, failed.id);
  assert.equal((await gw.request('POST', '/api/v2/webhooks/deliveries/999999/retry')).status, 404);
  assert.equal((await gw.request('POST', '/api/v2/webhooks/deliveries/abc/retry')).status, 404);
});

test('bluegate webhooks list and retry work beside the running server', async () => {
  const failed = await failedDelivery('/down-cli');
  rx.behaviour = () => undefined;
  const listed = cli(['webhooks', 'list', '--outcome', 'failed', '--message', failed.message_handle], { dataDir: gw.dataDir });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`\\b${failed.id}\\s+failed\\s+DELIVERED\\s+3\\s+status_callback`));
  assert.match(listed.stdout, /HTTP 503/);
  const json = JSON.parse(cli(['webhooks', 'list', '--json', '--message', failed.message_handle], { dataDir: gw.dataDir }).stdout);
  assert.equal(json.pagination.total, 6);
  const retried = cli(['webhooks', 'retry', String(failed.id)], { dataDir: gw.dataDir });
  assert.equal(retried.code, 0, retried.stderr);
  // The server notices the re-queued delivery on its next poll (every 2 s).
  await rx.waitFor(() => rx.received.some((x) => x.path === '/down-cli' && x.answered === 200), 10000);
  const missing = cli(['webhooks', 'retry', '987654'], { dataDir: gw.dataDir });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no webhook delivery 987654/);
});

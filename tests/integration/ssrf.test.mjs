// Webhook targets in loopback and private ranges are refused unless the operator allows them
// (SPEC.md §5 "Safety"); the check applies to the address a name resolves to.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway, FAST_CONFIG } from './lib/gateway.mjs';
import { Receiver } from './lib/receiver.mjs';
import { eventually } from './lib/eventually.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function failedCount(gw) {
  const m = (await gw.metrics()).match(/bluegate_webhook_deliveries_total\{outcome="failed"\} (\d+)/);
  return m ? Number(m[1]) : 0;
}

test('with loopback not allowed, callbacks to 127.0.0.1 and to names resolving to it are refused', async () => {
  const rx = await new Receiver().start();
  const gw = await new Gateway({ config: { ...FAST_CONFIG, webhooks: { ...FAST_CONFIG.webhooks, allow_loopback: false } } }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); await rx.stop(); });
  const port = new URL(rx.url).port;
  const byAddress = await gw.send({ number: '+12125550100', content: 'a', status_callback: `http://127.0.0.1:${port}/ip` });
  const byName = await gw.send({ number: '+12125550100', content: 'b', status_callback: `http://localhost:${port}/name` });
  const v6 = await gw.send({ number: '+12125550100', content: 'c', status_callback: `http://[::1]:${port}/v6` });
  for (const r of [byAddress, byName, v6]) {
    assert.equal(r.status, 200);
    await gw.waitForStatus(r.json.message_handle, (m) => m.status === 'DELIVERED');
  }
  // Six events per message, each refused at once (no retries: another attempt cannot help).
  await eventually(() => failedCount(gw), (n) => n >= 18, { timeoutMs: 10000 });
  assert.equal(await failedCount(gw), 18);
  assert.equal(rx.received.length, 0, 'nothing reached the receiver');
  assert.doesNotMatch(await gw.metrics(), /outcome="retry"/);
  assert.match(gw.output, /resolves to a loopback address/);
});

test('the development profile allows loopback (the switch opens it)', async () => {
  const rx = await new Receiver().start();
  const gw = await new Gateway().start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); await rx.stop(); });
  const r = await gw.send({ number: '+12125550100', content: 'ok', status_callback: `http://localhost:${new URL(rx.url).port}/dev` });
  await rx.waitFor(() => rx.forHandle(r.json.message_handle).length === 6);
});

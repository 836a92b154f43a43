// Each simulator test number (SPEC.md §7) drives the real binary to its documented outcome, and
// the status_callback receives every status change in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway } from './lib/gateway.mjs';
import { Receiver } from './lib/receiver.mjs';
import { eventually } from './lib/eventually.mjs';

let gw;
let rx;
before(async () => {
  rx = await new Receiver().start();
  gw = await new Gateway().start();
});
after(async () => {
  const exit = await gw.stop();
  if (process.env.DEBUG) console.log(exit, gw.output);
  gw.cleanup();
  await rx.stop();
});

const FULL = ['REGISTERED', 'PENDING', 'QUEUED', 'ACCEPTED', 'SENT', 'DELIVERED'];

async function sendAndSettle(number, finalStatuses) {
  const r = await gw.send({ number, content: 'hello', status_callback: `${rx.url}/cb` });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'QUEUED');
  const handle = r.json.message_handle;
  const final = await gw.waitForStatus(handle, (m) => finalStatuses.includes(m.status));
  await rx.waitFor(() => rx.forHandle(handle).some((c) => c.json.status === final.status));
  return { handle, final, callbacks: rx.forHandle(handle).map((c) => c.json) };
}


// The newest inbound message from `number`, once one has arrived.
function firstInbound(number) {
  return eventually(async () => {
    const r = await gw.request('GET', `/api/v2/messages?is_outbound=false&number=${encodeURIComponent(number)}`);
    return r.json.data[0];
  });
}
test('0100 is delivered over iMessage with a callback for every status, in order', async () => {
  const { final, callbacks } = await sendAndSettle('+12125550100', ['DELIVERED']);
  assert.equal(final.service, 'iMessage');
  assert.equal(final.was_downgraded, null, 'null unless it fell back to SMS, never false');
  assert.deepEqual(callbacks.map((c) => c.status), FULL);
  for (const c of callbacks) {
    assert.equal(c.number, '+12125550100');
    assert.equal(c.from_number, gw.line);
    assert.equal(c.sendblue_number, gw.line);
  }
});

test('0101 is SMS-only: downgraded, and ends at SENT', async () => {
  const { final, callbacks } = await sendAndSettle('+12125550101', ['SENT']);
  assert.equal(final.service, 'SMS');
  assert.equal(final.was_downgraded, true);
  assert.deepEqual(callbacks.map((c) => c.status), FULL.slice(0, 5));
});

test('0102 fails at the carrier with ERROR 10001', async () => {
  const { final, callbacks } = await sendAndSettle('+12125550102', ['ERROR']);
  assert.equal(final.error_code, 10001);
  assert.match(final.error_message, /carrier/i);
  assert.deepEqual(callbacks.map((c) => c.status), ['REGISTERED', 'PENDING', 'QUEUED', 'ACCEPTED', 'ERROR']);
  assert.equal(callbacks.at(-1).error_code, 10001);
  assert.equal(callbacks[2].error_code, null);
});

test('0103 never resolves and fails with ERROR 10002 at the resolve timeout', async () => {
  const started = Date.now();
  const { final } = await sendAndSettle('+12125550103', ['ERROR']);
  assert.equal(final.error_code, 10002);
  assert.ok(Date.now() - started >= 300, 'not before the configured 300 ms resolve timeout');
});

test('0104 replies STOP and is then opted out: the next send is DECLINED', async () => {
  const number = '+13125550104';
  await sendAndSettle(number, ['DELIVERED']);
  // The STOP arrives as an inbound message.
  const inbound = await firstInbound(number);
  assert.equal(inbound.content, 'STOP');
  assert.equal(inbound.status, 'RECEIVED');
  assert.equal(inbound.is_outbound, false);
  assert.equal(inbound.from_number, number);
  assert.equal(inbound.to_number, gw.line);
  const again = await gw.send({ number, content: 'are you there?' });
  assert.equal(again.status, 200);
  assert.equal(again.json.status, 'DECLINED');
  assert.equal(again.json.opted_out, true);
  assert.match(again.json.error_message, /opted out/);
});

test('0105 echoes the content back as an inbound message', async () => {
  const number = '+13125550105';
  await gw.send({ number, content: 'ping 42' });
  const inbound = await firstInbound(number);
  assert.equal(inbound.content, 'Echo: ping 42');
});

test('0106 is slow: DELIVERED only after the slow delay', async () => {
  const { callbacks } = await sendAndSettle('+12125550106', ['DELIVERED']);
  const sent = Date.parse(callbacks.find((c) => c.status === 'SENT').date_updated);
  const delivered = Date.parse(callbacks.find((c) => c.status === 'DELIVERED').date_updated);
  assert.ok(delivered - sent >= 400, `delivered ${delivered - sent} ms after sent; the slow delay is 400 ms`);
});

test('0107 is delivered, then read: date_read is set and the status stays DELIVERED', async () => {
  const { handle } = await sendAndSettle('+12125550107', ['DELIVERED']);
  const read = await gw.waitForStatus(handle, (m) => m.date_read !== null);
  assert.equal(read.status, 'DELIVERED');
  assert.match(read.date_read, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

// End to end with the official `sendblue` npm SDK as the client: only the base URL and keys change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Sendblue from 'sendblue';
import { startStack } from './lib/stack.mjs';

let stack;
let gw;
let rx;
let client;
before(async () => {
  stack = await startStack();
  ({ gw, rx, client } = stack);
});
after(() => stack.stop());

test('the SDK sends a message, reads its status, and the status_callback sees every change', async () => {
  const sent = await client.messages.send({
    number: '+12125550100',
    from_number: gw.line,
    content: 'Hello from the official SDK',
    send_style: 'confetti',
    status_callback: `${rx.url}/sdk`,
  });
  assert.equal(sent.status, 'QUEUED');
  assert.equal(sent.content, 'Hello from the official SDK');
  assert.equal(sent.send_style, 'confetti');
  const handle = sent.message_handle;

  await rx.waitFor(() => rx.forHandle(handle).some((c) => c.json.status === 'DELIVERED'));
  assert.deepEqual(rx.forHandle(handle).map((c) => c.json.status),
    ['REGISTERED', 'PENDING', 'QUEUED', 'ACCEPTED', 'SENT', 'DELIVERED']);

  const status = await client.messages.getStatus({ handle });
  assert.equal(status.status, 'DELIVERED');
  assert.equal(status.message_handle, handle);

  const retrieved = await client.messages.retrieve(handle);
  assert.equal(retrieved.status, 'OK');
  assert.equal(retrieved.data.message_handle, handle);

  const list = await client.messages.list({ number: '+12125550100', order_direction: 'desc', limit: 10 });
  assert.equal(list.status, 'OK');
  assert.ok(list.data.some((m) => m.message_handle === handle));
  assert.equal(list.pagination.limit, 10);
});

test('the SDK reads the lines state', async () => {
  const state = await client.lines.getState();
  assert.equal(state.status, 'OK');
  assert.match(state.snapshot_at, /Z$/);
  const line = state.data.find((l) => l.sendblue_number === gw.line);
  assert.equal(line.status, 'ONLINE');
  assert.equal(line.assignment, 'assigned');
  assert.match(line.worker_id, /^bluegate/);
});

test('SDK errors carry the status and the error envelope', async () => {
  await assert.rejects(
    client.messages.send({ number: '911', from_number: gw.line, content: 'help' }),
    (err) => {
      assert.equal(err.status, 400);
      assert.equal(err.error.error_code, 4002);
      assert.match(err.error.message, /blacklisted/);
      return true;
    },
  );
  const bad = new Sendblue({ apiKey: gw.keyId, apiSecret: 'wrong', baseURL: gw.baseURL, maxRetries: 0 });
  await assert.rejects(bad.messages.getStatus({ handle: 'x' }), (err) => err.status === 401);
});

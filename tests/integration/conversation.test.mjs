// Lookup, typing indicators, read receipts and reactions (issue #5), through the official SDK
// where it has the method and raw HTTP for the rest and for error cases.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, rejects } from './lib/stack.mjs';

let stack;
let gw;
let rx;
let client;
before(async () => {
  stack = await startStack();
  ({ gw, rx, client } = stack);
});
after(() => stack.stop());


test('evaluate-service asks the line\'s carrier: iMessage, SMS, emails; an inconclusive lookup is retryable', async () => {
  assert.deepEqual(await client.lookups.lookupNumber({ number: '+12125550100' }), { number: '+12125550100', service: 'iMessage' });
  assert.deepEqual(await client.lookups.lookupNumber({ number: '+12125550101' }), { number: '+12125550101', service: 'SMS' });
  assert.deepEqual(await client.lookups.lookupNumber({ number: 'ada@example.com' }), { number: 'ada@example.com', service: 'iMessage' });
  const spaced = await gw.request('GET', '/api/evaluate-service?number=+12125550101');
  assert.equal(spaced.json.service, 'SMS', 'a bare + in the query is a plus');
  const unknown = await gw.request('GET', '/api/evaluate-service?number=%2B12125550103');
  assert.equal(unknown.status, 503);
  assert.equal(unknown.json.error_code, 5003);
  assert.ok(Number(unknown.headers.get('retry-after')) >= 1);
  assert.match(unknown.json.message, /cannot be determined now/);
  const bad = await gw.request('GET', '/api/evaluate-service?number=not-a-number');
  assert.equal(bad.status, 400);
  const missing = await gw.request('GET', '/api/evaluate-service');
  assert.match(missing.json.message, /number is required/);
});

test('a recipient the lookup says is SMS gets SMS: downgraded, ends at SENT', async () => {
  const sent = await client.messages.send({ number: '+12125550101', from_number: gw.line, content: 'sms please', send_style: 'slam' });
  const m = await gw.waitForStatus(sent.message_handle, (x) => x.status === 'SENT');
  assert.equal(m.service, 'SMS');
  assert.equal(m.was_downgraded, true);
});

test('typing indicators need a conversation; SMS contacts get status ERROR', async () => {
  const none = await rejects(client.typingIndicators.send({ number: '+12125550801', from_number: gw.line }));
  assert.equal(none.status, 400);
  assert.match(none.error.message, /number \+12125550801 has no conversation with this account yet/);
  await client.messages.send({ number: '+12125550801', from_number: gw.line, content: 'hello' });
  const typing = await client.typingIndicators.send({ number: '+12125550801', from_number: gw.line });
  assert.deepEqual(typing, { number: '+12125550801', status: 'SENT', error_message: null });
  const stop = await client.typingIndicators.send({ number: '+12125550801', from_number: gw.line, state: 'stop' });
  assert.equal(stop.status, 'SENT');
  const bare = await gw.request('POST', '/api/send-typing-indicator', { body: { number: '+12125550801' } });
  assert.equal(bare.json.status, 'SENT', 'from_number may be left out: the bound line is used');
  const long = await gw.request('POST', '/api/send-typing-indicator', { body: { number: '+12125550801', max_duration_ms: 300001 } });
  assert.equal(long.status, 400);
  assert.match(long.json.message, /max_duration_ms must be a whole number from 1 to 300000/);
  const state = await gw.request('POST', '/api/send-typing-indicator', { body: { number: '+12125550801', state: 'pause' } });
  assert.match(state.json.message, /state must be start or stop/);

  await client.messages.send({ number: '+12125550101', from_number: gw.line, content: 'sms contact' });
  const sms = await client.typingIndicators.send({ number: '+12125550101', from_number: gw.line });
  assert.equal(sms.status, 'ERROR');
  assert.match(sms.error_message, /SMS/);
});

test('a contact typing fires the typing_indicator webhook', async () => {
  await client.webhooks.create({ type: 'typing_indicator', webhooks: [`${rx.url}/typing`] });
  await client.messages.send({ number: '+12125550105', from_number: gw.line, content: 'type back' });
  const got = await rx.waitFor((xs) => xs.some((x) => x.path === '/typing'));
  const t = got.find((x) => x.path === '/typing').json;
  assert.equal(t.number, '+12125550105');
  assert.equal(t.is_typing, true);
  assert.equal(t.sendblue_number, gw.line);
  assert.match(t.timestamp, /Z$/);
});

test('mark-read and send-reaction go through the conversation\'s line', async () => {
  const sent = await client.messages.send({ number: '+12125550802', from_number: gw.line, content: 'react to me' });
  const read = await gw.request('POST', '/api/mark-read', { body: { number: '+12125550802' } });
  assert.deepEqual(read.json, { status: 'OK', number: '+12125550802' });
  const r = await gw.request('POST', '/api/send-reaction', { body: { message_handle: sent.message_handle, reaction: 'love' } });
  assert.deepEqual(r.json, { status: 'OK', message_handle: sent.message_handle, reaction: 'love' });
  const badReaction = await gw.request('POST', '/api/send-reaction', { body: { message_handle: sent.message_handle, reaction: 'meh' } });
  assert.equal(badReaction.status, 400);
  assert.match(badReaction.json.message, /reaction must be one of love, like, dislike, laugh, emphasize, question/);
  const unknown = await gw.request('POST', '/api/send-reaction', { body: { message_handle: '00000000-0000-0000-0000-000000000000', reaction: 'like' } });
  assert.equal(unknown.status, 404);
  const wrongLine = await gw.request('POST', '/api/mark-read', { body: { number: '+12125550802', from_number: '+13125550999' } });
  assert.equal(wrongLine.status, 400);
  assert.match(wrongLine.json.message, /is bound to line \+14155550100/);
});

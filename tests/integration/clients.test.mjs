// What real Sendblue clients read (issue #15, parts 3 and 4): the official CLI's GET /account and
// legacy paths, fields' shapes (error_message, was_downgraded, send_style on SMS), the words the
// Chat SDK adapter recognises, and one worker_id per line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, rejects, callbacksUntil } from './lib/stack.mjs';
import { cli } from './lib/gateway.mjs';

let stack;
let gw;
let rx;
let client;
before(async () => {
  stack = await startStack();
  ({ gw, rx, client } = stack);
});
after(() => stack.stop());

test('GET /account names the account the keys belong to, with its lines', async () => {
  const r = await gw.request('GET', '/account');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'OK', email: 'dev@bluegate.local', plan: 'blue', lines: [gw.line] });
  const wrong = await gw.request('GET', '/account', { headers: { 'sb-api-key-id': 'nobody', 'sb-api-secret-key': 'nothing' } });
  assert.equal(wrong.status, 401, 'the CLI tests its keys with it');
});

test('a message is found by the legacy path and by ?message_handle=, history sorts by updated_at', async () => {
  const sent = await gw.send({ number: '+12125550100', content: 'find me' });
  const h = sent.json.message_handle;
  const legacy = await gw.request('GET', `/api/message/${h}`);
  assert.equal(legacy.status, 200, legacy.text);
  assert.equal(legacy.json.data.message_handle, h);
  const status = await gw.request('GET', `/api/status?message_handle=${h}`);
  assert.equal(status.status, 200, status.text);
  assert.equal(status.json.message_handle, h);
  const page = await gw.request('GET', '/api/v2/messages?order_by=updated_at&order_direction=desc&limit=1');
  assert.equal(page.status, 200, page.text);
  const bad = await gw.request('GET', '/api/v2/messages?order_by=sideways');
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /created_at, updated_at, sent_at/);
});

test('every error answer carries its text as message and as error_message', async () => {
  const r = await gw.request('POST', '/api/send-message', { body: { content: 'no number' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.status, 'ERROR');
  assert.ok(r.json.message.length > 0);
  assert.equal(r.json.error_message, r.json.message);
});

test('was_downgraded is true for a fallback to SMS and null otherwise; SMS carries no send_style', async () => {
  const imessage = await gw.send({ number: '+12125550100', content: 'blue', send_style: 'slam', status_callback: `${rx.url}/cb` });
  const sms = await gw.send({ number: '+12125550101', content: 'green', send_style: 'slam', status_callback: `${rx.url}/cb` });
  await callbacksUntil(rx, imessage.json.message_handle, 'DELIVERED');
  await callbacksUntil(rx, sms.json.message_handle, 'SENT');
  const blue = (await gw.status(imessage.json.message_handle)).json;
  assert.equal(blue.was_downgraded, null, 'never false');
  assert.equal(blue.send_style, 'slam');
  const green = (await gw.status(sms.json.message_handle)).json;
  assert.equal(green.service, 'SMS');
  assert.equal(green.was_downgraded, true);
  assert.equal(green.send_style, '', 'SMS has no effects');
  const sent = rx.forHandle(sms.json.message_handle).find((x) => x.path === '/cb' && x.json.status === 'SENT').json;
  assert.equal(sent.send_style, '', 'the callback says so too');
  for (const c of rx.forHandle(imessage.json.message_handle)) assert.notEqual(c.json.was_downgraded, false);
});

test('typing to a number the account never talked to says "No route mapping"', async () => {
  const none = await rejects(client.typingIndicators.send({ number: '+12125550811', from_number: gw.line }));
  assert.equal(none.status, 400);
  assert.match(none.error.message, /^No route mapping/);
});

test('each line has its own worker_id', async () => {
  const added = cli(['lines', 'add', '--account', 'dev@bluegate.local', '--number', '+13125550820'], { dataDir: gw.dataDir });
  assert.equal(added.code, 0, added.stderr);
  const state = await client.lines.getState();
  const ids = state.data.map((l) => l.worker_id);
  assert.equal(ids.length, 2);
  assert.equal(new Set(ids).size, 2, `distinct: ${ids}`);
  for (const l of state.data) assert.ok(l.worker_id.endsWith(`/${l.sendblue_number}`), l.worker_id);
});

test('the legacy paths serve what their newer ones do', async () => {
  await gw.send({ number: '+12125550100', content: 'listed' });
  const messages = await gw.request('GET', '/accounts/messages?limit=5');
  assert.equal(messages.status, 200, messages.text);
  assert.equal(messages.json.status, 'OK');
  assert.ok(Array.isArray(messages.json.messages) && messages.json.messages.length > 0);
  const made = await gw.request('POST', '/accounts/contacts', { body: { number: '+12125550841', first_name: 'Old' } });
  assert.equal(made.status, 200, made.text);
  const listed = await gw.request('GET', '/accounts/contacts');
  assert.equal(listed.status, 200, listed.text);
  assert.ok(JSON.stringify(listed.json).includes('+12125550841'));
  const gone = await gw.request('DELETE', '/accounts/contacts', { body: { contact_ids: ['+12125550841'] } });
  assert.equal(gone.status, 200, gone.text);
});

test('a group send without from_number goes from the line a 1:1 send would pick; /modify-group works', async () => {
  const sent = await gw.request('POST', '/api/send-group-message', { body: { numbers: ['+12125550851', '+12125550852'], content: 'hi all' } });
  assert.equal(sent.status, 200, sent.text);
  assert.equal(sent.json.sendblue_number, gw.line);
  const modified = await gw.request('POST', '/modify-group', { body: { group_id: sent.json.group_id, modify_type: 'add_recipient', number: '+12125550853' } });
  assert.equal(modified.status, 200, modified.text);
});

test('the simulator\'s SMS-only number writes over SMS, and the answer names the account', async () => {
  const r = await gw.request('POST', '/api/v2/sim/inbound', { body: { line: gw.line, from: '+12125550101', content: 'green bubble' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.data.service, 'SMS');
  assert.equal(r.json.data.account_email, 'dev@bluegate.local');
});

// Group messages (SPEC §4, issue #5) through the official SDK's `groups` resource and raw HTTP.
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


test('the first group send creates the group; its status flows to the callback; the same people continue it', async () => {
  const numbers = ['+12125550901', '+1 212 555 0902', '+12125550903'];
  const sent = await client.groups.sendMessage({ from_number: gw.line, numbers, content: 'hello, group', status_callback: `${rx.url}/g` });
  assert.equal(sent.status, 'QUEUED');
  assert.equal(sent.message_type, 'group');
  assert.match(sent.group_id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(sent.participants, ['+12125550901', '+12125550902', '+12125550903']);
  assert.equal(sent.sendblue_number, gw.line);
  await rx.waitFor(() => rx.forHandle(sent.message_handle).some((c) => c.json.status === 'DELIVERED'));
  const statuses = rx.forHandle(sent.message_handle).map((c) => c.json.status);
  assert.deepEqual(statuses, ['REGISTERED', 'PENDING', 'QUEUED', 'ACCEPTED', 'SENT', 'DELIVERED']);

  const again = await client.groups.sendMessage({ from_number: gw.line, numbers: ['+12125550903', '+12125550901', '+12125550902'], content: 'same people' });
  assert.equal(again.group_id, sent.group_id, 'the same participants continue their group');
  const byId = await client.groups.sendMessage({ from_number: gw.line, group_id: sent.group_id, content: 'by id' });
  assert.equal(byId.group_id, sent.group_id);
  const history = await client.messages.list({ group_id: sent.group_id });
  assert.equal(history.data.length, 3);

  const g = await gw.request('GET', `/api/v2/groups/${sent.group_id}`);
  assert.equal(g.status, 200);
  assert.deepEqual(g.json.data.participants, ['+12125550901', '+12125550902', '+12125550903']);
  assert.equal(g.json.data.sendblue_number, gw.line);
});

test('modify-group adds and removes participants; a group keeps 2 to 25', async () => {
  const sent = await client.groups.sendMessage({ from_number: gw.line, numbers: ['+12125550911', '+12125550912'], content: 'pair' });
  const added = await client.groups.modify({ group_id: sent.group_id, modify_type: 'add_recipient', number: '+12125550913' });
  assert.equal(added.status, 'OK');
  assert.equal(added.number, '+12125550913');
  const next = await client.groups.sendMessage({ from_number: gw.line, group_id: sent.group_id, content: 'trio' });
  assert.deepEqual(next.participants, ['+12125550911', '+12125550912', '+12125550913']);
  await client.groups.modify({ group_id: sent.group_id, modify_type: 'remove_recipient', number: '+12125550913' });
  const tooFew = await rejects(client.groups.modify({ group_id: sent.group_id, modify_type: 'remove_recipient', number: '+12125550912' }));
  assert.equal(tooFew.status, 400);
  assert.match(tooFew.error.message, /at least 2 participants/);
  const badType = await rejects(client.groups.modify({ group_id: sent.group_id, modify_type: 'rename', number: '+12125550912' }));
  assert.match(badType.error.message, /modify_type must be add_recipient or remove_recipient/);
  const unknown = await rejects(client.groups.modify({ group_id: '00000000-0000-0000-0000-000000000000', modify_type: 'add_recipient', number: '+12125550912' }));
  assert.equal(unknown.status, 404);
});

test('group sends are validated like send-message, naming the field', async () => {
  const one = await rejects(client.groups.sendMessage({ from_number: gw.line, numbers: ['+12125550921'], content: 'alone' }));
  assert.match(one.error.message, /numbers must hold 2 to 25 different phone numbers; got 1/);
  const many = Array.from({ length: 26 }, (_, i) => `+1212555${String(1000 + i)}`);
  const tooMany = await rejects(client.groups.sendMessage({ from_number: gw.line, numbers: many, content: 'crowd' }));
  assert.match(tooMany.error.message, /got 26/);
  const badNumber = await rejects(client.groups.sendMessage({ from_number: gw.line, numbers: ['+12125550921', 'nope'], content: 'x' }));
  assert.match(badNumber.error.message, /numbers\[1\]/);
  const emergency = await rejects(client.groups.sendMessage({ from_number: gw.line, numbers: ['+12125550921', '911'], content: 'x' }));
  assert.equal(emergency.error.error_code, 4002);
  const noContent = await rejects(client.groups.sendMessage({ from_number: gw.line, numbers: ['+12125550921', '+12125550922'] }));
  assert.match(noContent.error.message, /content/);
  const neither = await rejects(client.groups.sendMessage({ from_number: gw.line, content: 'to whom?' }));
  assert.match(neither.error.message, /numbers \(2 to 25 phone numbers\) or group_id is required/);
  const unknown = await gw.request('GET', '/api/v2/groups/00000000-0000-0000-0000-000000000000');
  assert.equal(unknown.status, 404);
});

test('a participant\'s message in the group arrives as a group message on the receive webhook', async () => {
  await client.webhooks.create({ type: 'receive', webhooks: [`${rx.url}/group-in`] });
  const sent = await client.groups.sendMessage({ from_number: gw.line, numbers: ['+12125550931', '+12125550932'], content: 'anyone?' });
  const reply = await gw.request('POST', '/api/v2/sim/inbound', { body: { group_id: sent.group_id, from: '+12125550932', content: 'me!' } });
  assert.equal(reply.status, 200, reply.text);
  const got = await rx.waitFor((xs) => xs.some((x) => x.path === '/group-in' && x.json.content === 'me!'));
  const m = got.find((x) => x.json.content === 'me!').json;
  assert.equal(m.message_type, 'group');
  assert.equal(m.group_id, sent.group_id);
  assert.equal(m.from_number, '+12125550932');
  assert.deepEqual(m.participants, ['+12125550931', '+12125550932']);
  const outsider = await gw.request('POST', '/api/v2/sim/inbound', { body: { group_id: sent.group_id, from: '+12125550939', content: 'let me in' } });
  assert.equal(outsider.status, 400);
  assert.match(outsider.json.message, /is not in group/);
});

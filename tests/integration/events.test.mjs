// GET /api/v2/events (issue #5): server-sent events read by the official SDK's events.stream()
// and by a raw streaming fetch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Sendblue from 'sendblue';
import { startStack } from './lib/stack.mjs';
import { cli } from './lib/gateway.mjs';

let stack;
let gw;
let client;
before(async () => {
  stack = await startStack();
  ({ gw, client } = stack);
});
after(() => stack.stop());

// Collects events from `iterator` until `enough(events)` holds (or the deadline passes).
async function collect(iterator, enough, timeoutMs = 10000) {
  const events = [];
  const deadline = setTimeout(() => iterator.return?.(), timeoutMs);
  try {
    for await (const e of iterator) {
      events.push(e);
      if (enough(events)) break;
    }
  } finally {
    clearTimeout(deadline);
  }
  return events;
}

test('the SDK streams a message\'s creation, every status change and the reply it gets', async () => {
  const stream = await client.events.stream({ types: 'message.created,message.updated,message.received,typing.changed' });
  const sent = await client.messages.send({ number: '+12125550105', from_number: gw.line, content: 'stream me' });
  const events = await collect(stream, (es) => es.some((e) => e.type === 'message.received'));
  const mine = events.filter((e) => e.data.message_handle === sent.message_handle);
  assert.deepEqual(mine.map((e) => [e.type, e.data.status]), [
    ['message.created', 'QUEUED'],
    ['message.updated', 'ACCEPTED'],
    ['message.updated', 'SENT'],
    ['message.updated', 'DELIVERED'],
  ]);
  for (const e of events) {
    assert.match(e.id, /^\d+$/);
    assert.equal(e.version, 1);
    assert.match(e.occurred_at, /Z$/);
  }
  assert.ok(events.some((e) => e.type === 'typing.changed' && e.data.is_typing === true));
  const reply = events.find((e) => e.type === 'message.received');
  assert.equal(reply.data.content, 'Echo: stream me');
});

test('types filters the stream; an unknown type is a 400 naming it', async () => {
  const stream = await client.events.stream({ types: 'message.received' });
  await client.messages.send({ number: '+12125550100', from_number: gw.line, content: 'not streamed' });
  await gw.request('POST', '/api/v2/sim/inbound', { body: { line: gw.line, from: '+12125550199', content: 'streamed' } });
  const events = await collect(stream, (es) => es.length >= 1);
  assert.deepEqual(events.map((e) => [e.type, e.data.content]), [['message.received', 'streamed']]);
  const bad = await gw.request('GET', '/api/v2/events?types=message.created,message.exploded');
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /unknown event type "message.exploded"/);
});

test('bluegate sim inbound, run as another process, reaches a running server\'s stream like the HTTP route', async () => {
  const stream = await client.events.stream({ types: 'message.received,contact.created' });
  const r = cli(['sim', 'inbound', '--line', gw.line, '--from', '+12125550983', '--content', 'from the CLI'], { dataDir: gw.dataDir });
  assert.equal(r.code, 0, r.stderr);
  const events = await collect(stream, (es) => es.some((e) => e.type === 'message.received'));
  assert.deepEqual(events.map((e) => [e.type, e.data.number ?? e.data.from_number]), [
    ['contact.created', '+12125550983'],
    ['message.received', '+12125550983'],
  ]);
  const received = events[1].data;
  assert.equal(received.content, 'from the CLI');
  assert.equal(received.status, 'RECEIVED');
  assert.equal(received.message_handle, r.stdout.match(/received (\S+)/)[1], 'the message the CLI stored');
  const again = (await client.messages.retrieve(received.message_handle)).data;
  assert.equal(again.content, 'from the CLI');
});

test('contact.created comes for a contact made by the API and for one made by a first message', async () => {
  const stream = await client.events.stream({ types: 'contact.created' });
  await client.contacts.create({ number: '+12125550981', first_name: 'Ev' });
  await client.messages.send({ number: '+12125550982', from_number: gw.line, content: 'first words' });
  const events = await collect(stream, (es) => es.length >= 2);
  assert.deepEqual(events.map((e) => e.data.number), ['+12125550981', '+12125550982']);
  assert.ok(events.every((e) => e.type === 'contact.created' && /^[0-9a-f-]{36}$/.test(e.data.contact_id)));
});

test('an account\'s stream carries only its own events', async () => {
  const made = cli(['accounts', 'create', '--email', 'other@example.com', '--key-id', 'other-key', '--secret', 'other-secret'], { dataDir: gw.dataDir });
  assert.equal(made.code, 0, made.stderr);
  assert.equal(cli(['lines', 'add', '--account', 'other@example.com', '--number', '+13125550777'], { dataDir: gw.dataDir }).code, 0);
  const other = new Sendblue({ apiKey: 'other-key', apiSecret: 'other-secret', baseURL: gw.baseURL });
  const res = await fetch(`${gw.baseURL}/api/v2/events?types=message.created`, {
    headers: { 'sb-api-key-id': 'other-key', 'sb-api-secret-key': 'other-secret', accept: 'text/event-stream' },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body.getReader();
  // The first account sends first; the other account's first event must be its own message.
  await client.messages.send({ number: '+12125550100', from_number: gw.line, content: 'not theirs' });
  const theirs = await other.messages.send({ number: '+12125550100', from_number: '+13125550777', content: 'theirs' });
  let text = '';
  while (!/\ndata: /.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  assert.match(text, /^: connected/);
  const data = JSON.parse(text.match(/\ndata: (.*)\n/)[1]);
  assert.equal(data.data.message_handle, theirs.message_handle);
});

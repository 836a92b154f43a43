// Inbound messages played on simulator lines (issue #5): `bluegate sim inbound` and
// POST /api/v2/sim/inbound store a message as the carrier's report would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { cli } from './lib/gateway.mjs';

let stack;
let gw;
let rx;
let client;
before(async () => {
  stack = await startStack();
  ({ gw, rx, client } = stack);
  await client.webhooks.create({ type: 'receive', webhooks: [`${rx.url}/in`] });
});
after(() => stack.stop());

test('bluegate sim inbound stores a message a running server announces to receive webhooks', async () => {
  const r = cli(['sim', 'inbound', '--line', gw.line, '--from', '+1 (212) 555-0701', '--content', 'hi from the CLI'], { dataDir: gw.dataDir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^received [0-9a-f-]{36} on \+14155550100 from \+12125550701\n$/);
  const got = await rx.waitFor((xs) => xs.some((x) => x.path === '/in' && x.json.content === 'hi from the CLI'));
  const m = got.find((x) => x.json.content === 'hi from the CLI').json;
  assert.equal(m.status, 'RECEIVED');
  assert.equal(m.is_outbound, false);
  assert.equal(m.from_number, '+12125550701');
  assert.equal(m.to_number, gw.line);
  const history = await client.messages.list({ is_outbound: false, number: '+12125550701' });
  assert.equal(history.data.length, 1);
  const contact = (await client.contacts.retrieve('+12125550701')).contact;
  assert.equal(contact.sendblue_number, gw.line, 'the inbound message bound the route');
  assert.equal(contact.verified, true);

  const missing = cli(['sim', 'inbound', '--line', gw.line, '--from', '+12125550701'], { dataDir: gw.dataDir });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--content or --media-url is required/);
  const noLine = cli(['sim', 'inbound', '--line', '+13125550999', '--from', '+12125550701', '--content', 'x'], { dataDir: gw.dataDir });
  assert.equal(noLine.code, 1);
  assert.match(noLine.stderr, /no line \+13125550999/);
});

test('POST /api/v2/sim/inbound plays the recipient: STOP opts out, START opts back in', async () => {
  const hello = await gw.request('POST', '/api/v2/sim/inbound', { body: { line: gw.line, from: '+12125550702', content: 'hello' } });
  assert.equal(hello.status, 200, hello.text);
  assert.equal(hello.json.data.status, 'RECEIVED');
  assert.equal(hello.json.data.number, '+12125550702');

  const stop = await gw.request('POST', '/api/v2/sim/inbound', { body: { sendblue_number: gw.line, number: '+12125550702', content: 'STOP' } });
  assert.equal(stop.json.data.opted_out, true);
  const declined = await client.messages.send({ number: '+12125550702', from_number: gw.line, content: 'still there?' });
  assert.equal(declined.status, 'DECLINED');
  await gw.request('POST', '/api/v2/sim/inbound', { body: { line: gw.line, from: '+12125550702', content: 'start' } });
  const back = await client.messages.send({ number: '+12125550702', from_number: gw.line, content: 'welcome back' });
  assert.equal(back.status, 'QUEUED');

  const bad = await gw.request('POST', '/api/v2/sim/inbound', { body: { line: gw.line, content: 'who?' } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /from is required/);
  const notMine = await gw.request('POST', '/api/v2/sim/inbound', { body: { line: '+13125550999', from: '+12125550702', content: 'x' } });
  assert.equal(notMine.status, 400);
  assert.match(notMine.json.message, /line \+13125550999 is not a line of this account/);
  const empty = await gw.request('POST', '/api/v2/sim/inbound', { body: { line: gw.line, from: '+12125550702' } });
  assert.equal(empty.status, 400);
  assert.match(empty.json.message, /content or media_url is required/);
});

test('a STOP played by the admin command is honoured by the running server at once', async () => {
  const first = await client.messages.send({ number: '+12125550703', from_number: gw.line, content: 'hello' });
  assert.equal(first.status, 'QUEUED');
  const stop = cli(['sim', 'inbound', '--line', gw.line, '--from', '+12125550703', '--content', 'STOP'], { dataDir: gw.dataDir });
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, /now opted out/);
  const after = await client.messages.send({ number: '+12125550703', from_number: gw.line, content: 'still there?' });
  assert.equal(after.status, 'DECLINED', 'the server re-reads contacts another process changed');
  assert.equal(after.opted_out, true);
});

// Account webhooks (SPEC.md §5): configured through the official SDK, fired for outbound status
// changes and inbound messages, signed, filtered by line, and switched off by 410 Gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { cli } from './lib/gateway.mjs';
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

function verify(secret, headers, body) {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
  const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`;
  return headers['webhook-signature'] === `v1,${crypto.createHmac('sha256', key).update(signed).digest('base64')}`;
}

test('the SDK creates, lists, replaces and deletes webhooks', async () => {
  const created = await client.webhooks.create({ webhooks: [`${rx.url}/r1`], type: 'receive' });
  assert.equal(created.status, 'OK');
  assert.deepEqual(created.webhooks.receive, [`${rx.url}/r1`]);
  const more = await client.webhooks.create({
    webhooks: [{ url: `${rx.url}/o1`, secret: 'entry-secret' }],
    type: 'outbound',
    globalSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  });
  assert.deepEqual(more.webhooks.outbound, [{ url: `${rx.url}/o1`, secret: 'entry-secret' }]);
  assert.equal(more.webhooks.globalSecret, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const listed = await client.webhooks.list();
  assert.deepEqual(listed.webhooks.receive, [`${rx.url}/r1`]);
  assert.deepEqual(listed.webhooks.typing_indicator, []);

  const replaced = await client.webhooks.update({ webhooks: { outbound: [`${rx.url}/o2`], globalSecret: 'g2' } });
  assert.deepEqual(replaced.webhooks.outbound, [`${rx.url}/o2`]);
  assert.deepEqual(replaced.webhooks.receive, [], 'PUT replaces the whole configuration');
  assert.equal(replaced.webhooks.globalSecret, 'g2');

  const deleted = await client.webhooks.delete({ webhooks: [`${rx.url}/o2`], type: 'outbound' });
  assert.equal(deleted.status, 'OK');
  assert.deepEqual((await client.webhooks.list()).webhooks.outbound, []);
});

test('bad webhook configurations are refused, naming the field', async () => {
  const cases = [
    [{ webhooks: ['ftp://x/y'] }, /webhooks\[0\] must be an http or https URL/],
    [{ webhooks: [`${rx.url}/a`], type: 'sometimes' }, /type must be one of receive, outbound/],
    [{ webhooks: [{ secret: 'x' }] }, /webhooks\[0\]\.url is required/],
    [{ webhooks: [{ url: `${rx.url}/a`, sendblue_numbers: ['12'] }] }, /webhooks\[0\]\.sendblue_numbers\[0\]/],
    [{ webhooks: 'http://x/y' }, /webhooks must be an array/],
    [{}, /webhooks is required/],
  ];
  for (const [body, pattern] of cases) {
    const r = await gw.request('POST', '/api/account/webhooks', { body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error_code, 4000);
    assert.match(r.json.message, pattern);
  }
  const put = await gw.request('PUT', '/api/account/webhooks', { body: { webhooks: { nonsense: [] } } });
  assert.equal(put.status, 400);
  assert.match(put.json.message, /webhooks\.nonsense is not a webhook type/);
});

test('outbound webhooks get every status change, signed with the entry secret or the global one', async () => {
  await client.webhooks.update({
    webhooks: {
      outbound: [{ url: `${rx.url}/signed`, secret: 'entry-secret' }, `${rx.url}/global`],
      globalSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    },
  });
  const sent = await client.messages.send({ number: '+12125550100', from_number: gw.line, content: 'watched' });
  const h = sent.message_handle;
  const at = (p) => rx.received.filter((x) => x.path === p && x.json?.message_handle === h);
  await rx.waitFor(() => at('/signed').length >= 6 && at('/global').length >= 6);
  for (const [p, secret] of [['/signed', 'entry-secret'], ['/global', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']]) {
    const got = at(p);
    assert.deepEqual(got.map((x) => x.json.status), ['REGISTERED', 'PENDING', 'QUEUED', 'ACCEPTED', 'SENT', 'DELIVERED']);
    for (const x of got) {
      assert.equal(x.headers['sb-signing-secret'], secret);
      assert.ok(verify(secret, x.headers, x.body), `signature of ${p} verifies`);
    }
  }
});

test('receive webhooks get inbound messages, filtered by sendblue_numbers', async () => {
  const other = cli(['lines', 'add', '--account', 'dev@bluegate.local', '--number', '+13125550199'], { dataDir: gw.dataDir });
  assert.equal(other.code, 0, other.stderr);
  await client.webhooks.update({
    webhooks: {
      receive: [
        `${rx.url}/all`,
        { url: `${rx.url}/mine`, sendblue_numbers: [gw.line] },
        { url: `${rx.url}/theirs`, sendblue_numbers: ['+13125550199'] },
      ],
    },
  });
  await client.messages.send({ number: '+12125550105', from_number: gw.line, content: 'echo this' });
  const inbound = (p) => rx.received.filter((x) => x.path === p && x.json?.content === 'Echo: echo this');
  await rx.waitFor(() => inbound('/all').length >= 1 && inbound('/mine').length >= 1);
  const m = inbound('/all')[0].json;
  assert.equal(m.status, 'RECEIVED');
  assert.equal(m.is_outbound, false);
  assert.equal(m.from_number, '+12125550105');
  assert.equal(m.to_number, gw.line);
  assert.equal(m.sendblue_number, gw.line);
  assert.equal(inbound('/theirs').length, 0, 'a webhook for another line is not called');
});

test('an account webhook that answers 410 is disabled for the account', async () => {
  rx.behaviour = (req) => (req.url === '/gone' ? { status: 410 } : undefined);
  await client.webhooks.update({ webhooks: { outbound: [`${rx.url}/gone`] } });
  const first = await client.messages.send({ number: '+12125550100', from_number: gw.line, content: 'one' });
  await gw.waitForStatus(first.message_handle, (m) => m.status === 'DELIVERED');
  const config = await gw.request('GET', '/api/account/webhooks');
  const entry = config.json.webhooks.outbound[0];
  assert.equal(entry.url, `${rx.url}/gone`);
  assert.match(entry.disabled_at, /Z$/);
  const calls = rx.received.filter((x) => x.path === '/gone').length;
  const second = await client.messages.send({ number: '+12125550100', from_number: gw.line, content: 'two' });
  await gw.waitForStatus(second.message_handle, (m) => m.status === 'DELIVERED');
  assert.equal(rx.received.filter((x) => x.path === '/gone').length, calls, 'nothing more is sent to it');
  rx.behaviour = () => undefined;
});

test('line_assigned fires when an admin adds a line, contact_created on a new contact', async () => {
  rx.behaviour = () => undefined;
  await client.webhooks.update({ webhooks: { line_assigned: [`${rx.url}/la`], contact_created: [`${rx.url}/cc`] } });
  const added = cli(['lines', 'add', '--account', 'dev@bluegate.local', '--number', '+13125550177'], { dataDir: gw.dataDir });
  assert.equal(added.code, 0, added.stderr);
  // Written by the admin command's process; the server finds it on its next poll.
  const [la] = await rx.waitFor((all) => all.some((x) => x.path === '/la'), 10000).then((all) => all.filter((x) => x.path === '/la'));
  assert.equal(la.json.type, 'line_assigned');
  assert.equal(la.json.sendblue_number, '+13125550177');
  assert.equal(la.json.account_email, 'dev@bluegate.local');
  assert.match(la.json.assigned_at, /Z$/);

  await client.messages.send({ number: '+14155550105', from_number: gw.line, content: 'hello new contact' });
  const all = await rx.waitFor((xs) => xs.some((x) => x.path === '/cc'));
  const cc = all.find((x) => x.path === '/cc');
  assert.deepEqual(Object.keys(cc.json).sort(), ['contact_id', 'created_at', 'number', 'sendblue_number', 'type']);
  assert.equal(cc.json.number, '+14155550105');
  assert.match(cc.json.contact_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(cc.json.sendblue_number, gw.line);
  const log = await gw.request('GET', '/api/v2/webhooks/deliveries?url=' + encodeURIComponent(`${rx.url}/cc`));
  assert.equal(log.json.data[0].kind, 'contact_created');
  assert.equal(log.json.data[0].status, null);
});

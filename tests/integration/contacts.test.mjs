// Contacts v2 through the official `sendblue` SDK (its `contacts` resource), opt-out and
// verification on shared lines (SPEC.md §4, §6; issue #4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, rejects } from './lib/stack.mjs';
import { cli } from './lib/gateway.mjs';
import { eventually } from './lib/eventually.mjs';

let stack;
let gw;
let rx;
let client;
const SHARED = '+13125550610';
before(async () => {
  stack = await startStack();
  ({ gw, rx, client } = stack);
  const added = cli(['lines', 'add', '--account', 'dev@bluegate.local', '--number', SHARED, '--shared'], { dataDir: gw.dataDir });
  assert.equal(added.code, 0, added.stderr);
});
after(() => stack.stop());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;


test('create, retrieve, update (custom variables merged), with the SDK\'s aliases', async () => {
  await client.webhooks.create({ type: 'contact_created', webhooks: [`${rx.url}/created`] });
  const made = await client.contacts.create({
    number: '+12125550501', first_name: 'Ada', lastName: 'Lovelace', tags: ['vip'],
    custom_variables: { plan: 'gold' }, assigned_to_email: 'sales@example.com',
  });
  assert.equal(made.status, 'OK');
  const c = made.contact;
  assert.match(c.contact_id, UUID);
  assert.deepEqual(
    { phone: c.phone, first_name: c.first_name, last_name: c.last_name, tags: c.tags, custom_variables: c.custom_variables, assigned_to_email: c.assigned_to_email, opt_out: c.opt_out, verified: c.verified, sendblue_number: c.sendblue_number },
    { phone: '+12125550501', first_name: 'Ada', last_name: 'Lovelace', tags: ['vip'], custom_variables: { plan: 'gold' }, assigned_to_email: 'sales@example.com', opt_out: false, verified: false, sendblue_number: null },
  );
  assert.match(c.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const hook = await rx.waitFor((xs) => xs.some((x) => x.path === '/created' && x.json.number === '+12125550501'));
  assert.equal(hook.find((x) => x.path === '/created').json.contact_id, c.contact_id);

  const dup = await rejects(client.contacts.create({ number: '+1 (212) 555-0501' }));
  assert.equal(dup.status, 409);
  assert.match(dup.error.message, /a contact with number \+12125550501 already exists \(send update_if_exists: true/);
  assert.equal(dup.headers.get('x-should-retry'), 'false');

  const upserted = await client.contacts.create({ phone_number: '+12125550501', firstName: 'Augusta', update_if_exists: true });
  assert.equal(upserted.contact.first_name, 'Augusta');
  assert.equal(upserted.contact.last_name, 'Lovelace', 'fields not given are kept');
  assert.equal(upserted.contact.contact_id, c.contact_id, 'the identity is immutable');

  const updated = await client.contacts.update('+12125550501', { custom_variables: { team: 'math' }, companyName: 'Analytical Engines', tags: ['vip', 'math'] });
  assert.deepEqual(updated.contact.custom_variables, { plan: 'gold', team: 'math' });
  assert.equal(updated.contact.company_name, 'Analytical Engines');
  assert.deepEqual(updated.contact.tags, ['vip', 'math']);

  const got = await client.contacts.retrieve('+12125550501');
  assert.deepEqual(got.contact, updated.contact);
  const encoded = await gw.request('GET', '/api/v2/contacts/%2B12125550501');
  assert.equal(encoded.json.contact.phone, '+12125550501');

  const missing = await rejects(client.contacts.update('+12125550599', { first_name: 'Nobody' }));
  assert.equal(missing.status, 404);
  const badVar = await rejects(client.contacts.update('+12125550501', { custom_variables: { nested: { a: 1 } } }));
  assert.equal(badVar.status, 400);
  assert.match(badVar.error.message, /custom_variables\.nested must be a string/);
  const badLine = await rejects(client.contacts.create({ number: '+12125550502', sendblue_number: '+19175550123' }));
  assert.equal(badLine.status, 400);
  assert.match(badLine.error.message, /sendblue_number \+19175550123 is not a line of this account/);
  const noNumber = await rejects(client.contacts.create({ first_name: 'x' }));
  assert.match(noNumber.error.message, /number is required/);
});

test('list (filters, order, limit ≤ 1000, offset), count, delete, bulk create and delete', async () => {
  const before = (await client.contacts.count()).count;
  const bulk = await client.contacts.bulk.create({
    contacts: [
      { phone: '+12125550511', first_name: 'Bea', tags: ['a'] },
      { phone: '+12125550512', first_name: 'Cal', custom_variables: { n: '1' } },
      { phone: '+12125550513', first_name: 'Dee' },
    ],
  });
  assert.equal(bulk.status, 'OK');
  assert.deepEqual(bulk.contacts.map((c) => c.phone), ['+12125550511', '+12125550512', '+12125550513']);
  assert.equal((await client.contacts.count()).count, before + 3);

  // One bad entry: nothing is written.
  const bad = await rejects(client.contacts.bulk.create({ contacts: [{ phone: '+12125550514' }, { phone: 'not a phone' }] }));
  assert.equal(bad.status, 400);
  assert.match(bad.error.message, /contacts\[1\]\.phone/);
  assert.equal((await client.contacts.count()).count, before + 3);

  const byName = await client.contacts.list({ order_by: 'first_name', order_direction: 'asc', limit: 1000 });
  assert.ok(Array.isArray(byName), 'the list is a bare array, as the SDK types it');
  const names = byName.map((c) => c.first_name).filter((n) => ['Bea', 'Cal', 'Dee'].includes(n));
  assert.deepEqual(names, ['Bea', 'Cal', 'Dee']);
  const page = await client.contacts.list({ limit: 2, offset: 1, order_by: 'phone', order_direction: 'asc' });
  assert.equal(page.length, 2);
  const all = await client.contacts.list({ order_by: 'phone', order_direction: 'asc', limit: 1000 });
  assert.deepEqual(page.map((c) => c.phone), all.slice(1, 3).map((c) => c.phone));
  const one = await client.contacts.list({ phone_number: '+12125550512' });
  assert.deepEqual(one.map((c) => c.phone), ['+12125550512']);
  const byId = await client.contacts.list({ cid: one[0].contact_id });
  assert.deepEqual(byId.map((c) => c.phone), ['+12125550512']);
  const recent = await client.contacts.list({ created_at_gte: one[0].created_at, limit: 1000 });
  assert.ok(recent.some((c) => c.phone === '+12125550512'));
  assert.ok(recent.every((c) => c.created_at >= one[0].created_at));
  const tooMany = await gw.request('GET', '/api/v2/contacts?limit=1001');
  assert.equal(tooMany.status, 400);
  assert.match(tooMany.json.message, /limit/);
  const badOrder = await gw.request('GET', '/api/v2/contacts?order_by=shoe_size');
  assert.equal(badOrder.status, 400);
  assert.match(badOrder.json.message, /order_by must be one of/);

  const deleted = await client.contacts.delete('+12125550513');
  assert.equal(deleted.status, 'OK');
  assert.equal((await rejects(client.contacts.retrieve('+12125550513'))).status, 404);
  assert.equal((await rejects(client.contacts.delete('+12125550513'))).status, 404);

  const gone = await client.contacts.bulk.delete({ contact_ids: ['+12125550511', one[0].contact_id, '+12125550598'] });
  assert.deepEqual(gone, { status: 'OK', amount: 2 });
  assert.equal((await client.contacts.count()).count, before);
});

test('a first message creates the contact, bound to its line; opt-out declines sends and survives deletion', async () => {
  const sent = await client.messages.send({ number: '+12125550521', from_number: gw.line, content: 'hi' });
  assert.equal(sent.status, 'QUEUED');
  const c = (await client.contacts.retrieve('+12125550521')).contact;
  assert.equal(c.sendblue_number, gw.line, 'the binding is visible on the contact');

  const out = await client.contacts.optOut({ number: '+12125550521' });
  assert.deepEqual(out, { status: 'OK', number: '+12125550521', opted_out: true });
  const declined = await client.messages.send({ number: '+12125550521', from_number: gw.line, content: 'anyone there?' });
  assert.equal(declined.status, 'DECLINED');
  assert.equal(declined.opted_out, true);
  assert.match(declined.error_message, /opted out/);

  // Deleting the contact forgets its profile, never the recipient's STOP.
  await client.contacts.delete('+12125550521');
  const still = await client.messages.send({ number: '+12125550521', from_number: gw.line, content: 'after delete' });
  assert.equal(still.status, 'DECLINED');
  const back = (await client.contacts.retrieve('+12125550521')).contact;
  assert.notEqual(back.contact_id, c.contact_id, 'the message brought the contact back as a new one');
  assert.equal(back.opt_out, true);

  const optedIn = await client.contacts.optOut({ number: '+12125550521', opted_out: false });
  assert.equal(optedIn.opted_out, false);
  const again = await client.messages.send({ number: '+12125550521', from_number: gw.line, content: 'welcome back' });
  assert.equal(again.status, 'QUEUED');
  const viaUpdate = await client.contacts.update('+12125550521', { opt_out: true });
  assert.equal(viaUpdate.contact.opt_out, true);
});

test('a contact created with sendblue_number is bound to that line', async () => {
  await client.contacts.create({ number: '+12125550531', sendblue_number: SHARED });
  const other = await rejects(client.messages.send({ number: '+12125550531', from_number: gw.line, content: 'x' }));
  assert.equal(other.status, 400);
  assert.match(other.error.message, /is bound to line \+13125550610/);
});

test('a shared line sends only to verified contacts; a reply verifies, and verify asks for one', async () => {
  const unverified = await client.messages.send({ number: '+12125550541', from_number: SHARED, content: 'hello?' });
  assert.equal(unverified.status, 'DECLINED');
  assert.match(unverified.error_message, /not verified, and line \+13125550610 is shared/);

  // The simulator's 0105 number echoes what it gets: the echo is the reply that verifies.
  const echo = '+12125550105';
  await client.contacts.create({ number: echo, sendblue_number: SHARED });
  const asked = await client.contacts.verify({ number: echo });
  assert.equal(asked.status, 'OK');
  assert.equal(asked.verified, false);
  assert.equal(asked.sendblue_number, SHARED);
  await gw.waitForStatus(asked.message_handle, (m) => m.status === 'DELIVERED');
  const contact = await eventually(async () => (await client.contacts.retrieve(echo)).contact, (c) => c.verified);
  assert.equal(contact.verified, true);
  const sent = await client.messages.send({ number: echo, from_number: SHARED, content: 'now you hear me' });
  assert.equal(sent.status, 'QUEUED');
  await gw.waitForStatus(sent.message_handle, (m) => m.status === 'DELIVERED');
  const already = await client.contacts.verify({ number: echo });
  assert.equal(already.verified, true);
  assert.equal(already.message_handle, undefined, 'no second verification message');
});

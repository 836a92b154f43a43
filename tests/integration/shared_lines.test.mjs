// Free-plan shared lines (issue #15): one line serves several accounts; a contact's message
// reaches only the accounts that registered it, and verifies it for them; a message from a number
// no account registered reaches nobody and is kept for the operator; the official CLI's routes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Sendblue from 'sendblue';
import { startStack } from './lib/stack.mjs';
import { cli } from './lib/gateway.mjs';
import { eventually } from './lib/eventually.mjs';

const SHARED = '+13125550710';
const X = '+12125550721';  // A's contact
const Y = '+12125550722';  // B's contact
let stack;
let gw;
let rx;
let a;  // the line's owner, through the SDK
let b;  // an account the line is shared with: its headers
let c;  // an account the line does not serve

function account(email, keyId, secret) {
  const made = cli(['accounts', 'create', '--email', email, '--key-id', keyId, '--secret', secret], { dataDir: gw.dataDir });
  assert.equal(made.code, 0, made.stderr);
  return { 'sb-api-key-id': keyId, 'sb-api-secret-key': secret, 'content-type': 'application/json' };
}
const as = (headers, method, path, body) => gw.request(method, path, { headers, body });
const sendAs = (headers, number, content) => as(headers, 'POST', '/api/send-message', { number, from_number: SHARED, content });

before(async () => {
  stack = await startStack();
  ({ gw, rx } = stack);
  a = stack.client;
  b = account('free2@example.com', 'freekey2', 'free-secret-two-0123456789');
  c = account('free3@example.com', 'freekey3', 'free-secret-three-0123456789');
  const added = cli(['lines', 'add', '--account', 'dev@bluegate.local', '--number', SHARED, '--shared'], { dataDir: gw.dataDir });
  assert.equal(added.code, 0, added.stderr);
  const attached = cli(['lines', 'attach', '--number', SHARED, '--account', 'free2@example.com'], { dataDir: gw.dataDir });
  assert.equal(attached.code, 0, attached.stderr);
  assert.match(attached.stdout, /now serves free2@example.com .* it serves 2 accounts/);
  // The running server applies line changes within a second: B can send from the line once it does.
  const first = await eventually(() => sendAs(b, '+12125550729', 'hello?'), (r) => r.status === 200);
  assert.equal(first.status, 200, first.text);
});
after(() => stack.stop());

test('a shared line serves each account attached to it, and no other', async () => {
  const listed = await as(b, 'GET', '/api/lines');
  assert.ok(JSON.stringify(listed.json).includes(SHARED), listed.text);
  const other = await sendAs(c, X, 'not mine');
  assert.equal(other.status, 400);
  assert.match(other.json.message, /is not a line of this account/);
  const lines = cli(['lines', 'list'], { dataDir: gw.dataDir });
  assert.match(lines.stdout, /shared with: free2@example.com/);
  const owner = cli(['lines', 'attach', '--number', SHARED, '--account', 'dev@bluegate.local'], { dataDir: gw.dataDir });
  assert.equal(owner.code, 1);
  assert.match(owner.stderr, /owns line/);
  const dedicated = cli(['lines', 'attach', '--number', gw.line, '--account', 'free3@example.com'], { dataDir: gw.dataDir });
  assert.equal(dedicated.code, 1);
  assert.match(dedicated.stderr, /is not shared: only a shared \(free-plan\) line serves several accounts/);
});

test('an unverified contact is declined with what to do: text the line once', async () => {
  const r = await sendAs(b, '+12125550723', 'hi there');
  assert.equal(r.json.status, 'DECLINED');
  assert.match(r.json.error_message, /must text the line once/);
  assert.match(r.json.error_message, new RegExp(`send any text to \\${SHARED}`));
});

test('a contact\'s message reaches only the account that registered it, and verifies it there', async () => {
  await a.webhooks.create({ type: 'receive', webhooks: [`${rx.url}/a`] });
  await as(b, 'POST', '/api/account/webhooks', { type: 'receive', webhooks: [`${rx.url}/b`] });
  await a.contacts.create({ number: X });
  // The official CLI's `add-contact` route registers B's contact.
  const added = await as(b, 'POST', '/accounts/verify-contact-on-shared-account', { recipient: Y });
  assert.equal(added.status, 200, added.text);
  assert.equal(added.json.status, 'OK');
  assert.equal(added.json.route.number, Y);
  assert.equal(added.json.route.verified, false);
  assert.equal(typeof added.json.route.id, 'number');

  const heard = cli(['sim', 'inbound', '--line', SHARED, '--from', X, '--content', 'hi A'], { dataDir: gw.dataDir });
  assert.equal(heard.code, 0, heard.stderr);
  assert.match(heard.stdout, /^received \S+ on \+13125550710 from \+12125550721\n$/, 'one account registered X');
  await rx.waitFor((xs) => xs.some((x) => x.path === '/a' && x.json.content === 'hi A'));
  // The copies for every account are one commit: once A has heard, B would have too.
  const bHistory = await as(b, 'GET', `/api/v2/messages?number=${encodeURIComponent(X)}`);
  assert.deepEqual(bHistory.json.data.filter((m) => !m.is_outbound), [], 'B never registered X');
  assert.equal(rx.received.filter((x) => x.path === '/b').length, 0);
  const contact = await a.contacts.retrieve(X);
  assert.equal(contact.contact.verified, true, 'the first message verified X for A');
  const sent = await a.messages.send({ number: X, from_number: SHARED, content: 'now we talk' });
  assert.equal(sent.status, 'QUEUED');
  await gw.waitForStatus(sent.message_handle, (m) => m.status === 'DELIVERED');

  // B plays its own contact through the simulator route, and Y is verified for B.
  const played = await as(b, 'POST', '/api/v2/sim/inbound', { line: SHARED, from: Y, content: 'hi B' });
  assert.equal(played.status, 200, played.text);
  assert.equal(played.json.data.content, 'hi B');
  await rx.waitFor((xs) => xs.some((x) => x.path === '/b' && x.json.content === 'hi B'));
  const shared = await as(b, 'GET', '/accounts/shared-contacts');
  assert.equal(shared.status, 200, shared.text);
  assert.equal(shared.json.sharedNumber, SHARED);
  const y = shared.json.contacts.find((x) => x.number === Y);
  assert.equal(y.verified, true);
  assert.equal(y.id, added.json.route.id, 'the route keeps its id');
  assert.ok(!shared.json.contacts.some((x) => x.number === X), 'B sees only its own contacts');
});

test('a number no account registered reaches nobody and is kept for the operator', async () => {
  const stranger = '+12125550731';
  const kept = cli(['sim', 'inbound', '--line', SHARED, '--from', stranger, '--content', 'anyone?'], { dataDir: gw.dataDir });
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stdout, /kept for the operator/);
  for (const headers of [gw.headers(), b]) {
    const history = await as(headers, 'GET', `/api/v2/messages?number=${encodeURIComponent(stranger)}`);
    assert.deepEqual(history.json.data, []);
  }
  const other = '+12125550732';
  const played = await gw.request('POST', '/api/v2/sim/inbound', { body: { line: SHARED, from: other, content: 'hello?' } });
  assert.equal(played.status, 200, played.text);
  assert.equal(played.json.routed, false);
  assert.match(played.json.message, /not a contact of this account/);
  assert.match(await gw.metrics(), /bluegate_inbound_unrouted_total 1\b/);
  const listed = cli(['inbound', 'unrouted', '--line', SHARED], { dataDir: gw.dataDir });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /\+12125550732\s+hello\?/);
  assert.match(listed.stdout, /\+12125550731\s+anyone\?/);
  assert.match(listed.stdout, /2 messages kept/);
});

test('the configuration can attach accounts to a shared line (shared_with), applied at start', async () => {
  const { Gateway, FAST_CONFIG, makeDataDir } = await import('./lib/gateway.mjs');
  const dataDir = makeDataDir();
  const line = '+13125550790';
  for (const args of [
    ['accounts', 'create', '--email', 'owner@example.com'],
    ['accounts', 'create', '--email', 'free9@example.com', '--key-id', 'freekey9', '--secret', 'free-secret-nine-0123456789'],
    ['lines', 'add', '--account', 'owner@example.com', '--number', line],
  ]) {
    const r = cli(args, { dataDir });
    assert.equal(r.code, 0, r.stderr);
  }
  const config = { ...FAST_CONFIG, lines: { ...FAST_CONFIG.lines, overrides: { [line]: { shared: true, shared_with: ['free9@example.com', 'nobody@example.com'] } } } };
  const other = await new Gateway({ config, dataDir }).start();
  try {
    assert.match(other.output, /now serves free9@example.com/);
    assert.match(other.output, /shared_with: no account with email nobody@example.com/);
    const r = await other.request('POST', '/api/send-message', {
      headers: { 'sb-api-key-id': 'freekey9', 'sb-api-secret-key': 'free-secret-nine-0123456789', 'content-type': 'application/json' },
      body: { number: '+12125550791', from_number: line, content: 'from the config' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'DECLINED', 'a shared line, so the unverified contact is declined');
  } finally {
    await other.stop();
    other.cleanup();
  }
});

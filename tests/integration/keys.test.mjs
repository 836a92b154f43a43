// API keys and accounts on a running server (issue #18, item 3): several keys per account, a
// revoked key refused within a second whether or not the server had it cached, a plan changed,
// and a disabled account whose keys get 401 and whose lines take no sends, with nothing deleted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Sendblue from 'sendblue';
import { Gateway, cli } from './lib/gateway.mjs';
import { eventually } from './lib/eventually.mjs';

let gw;
const run = (...args) => cli(args, { dataDir: gw.dataDir });
const headers = (keyId, secret) => ({ 'sb-api-key-id': keyId, 'sb-api-secret-key': secret, 'content-type': 'application/json' });
const credentials = (stdout) => ({ keyId: /key id:\s+(\S+)/.exec(stdout)[1], secret: /secret:\s+(\S+)/.exec(stdout)[1] });
const sendAs = (h, body) => gw.request('POST', '/api/send-message', { headers: h, body: { from_number: gw.line, ...body } });

before(async () => { gw = await new Gateway().start(); });
after(async () => { await gw.stop(); gw.cleanup(); });

test('a second key works at once with the SDK, and revoking the first refuses it within a second', async () => {
  const made = run('keys', 'create', '--account', 'dev@bluegate.local');
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^account: dev@bluegate\.local\nkey id:  [0-9a-f]{32}\nsecret:  [0-9a-f]{48}\n/);
  const second = credentials(made.stdout);
  const client = new Sendblue({ apiKey: second.keyId, apiSecret: second.secret, baseURL: gw.baseURL });
  const sent = await client.messages.send({ number: '+12125550140', from_number: gw.line, content: 'from the second key' });
  assert.equal(sent.status, 'QUEUED');

  const listed = run('keys', 'list', '--account', 'dev@bluegate.local');
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`${gw.keyId}\\s+\\S+\\s+active`));
  assert.match(listed.stdout, new RegExp(`${second.keyId}\\s+\\S+\\s+active`));
  assert.doesNotMatch(listed.stdout, new RegExp(second.secret), 'a secret is never shown again');

  // The first key is in the server's cache: it was just used.
  assert.equal((await sendAs(gw.headers(), { number: '+12125550141', content: 'cached' })).status, 200);
  const revoked = run('keys', 'revoke', '--key-id', gw.keyId);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, /revoked: its requests are refused within a second/);
  const refused = await eventually(() => gw.status('nothing'), (r) => r.status === 401, { timeoutMs: 2000 });
  assert.equal(refused.status, 401, 'the cached key is refused');
  assert.equal(refused.json.message, 'Invalid API credentials: this API key was revoked');
  const guess = await gw.request('GET', '/api/status?handle=x', { headers: headers(gw.keyId, 'not-the-secret') });
  assert.equal(guess.status, 401);
  assert.doesNotMatch(guess.text, /revoked/, 'only the secret holder learns the key was revoked');
  // A client still using its revoked key (with its right secret) is told so each time: it is not
  // guessing, so the failed-authentication throttle (10 a minute) does not turn it into 429s.
  for (let i = 0; i < 15; i++) assert.equal((await gw.status('nothing')).status, 401);
  assert.equal((await client.messages.getStatus({ handle: sent.message_handle })).message_handle, sent.message_handle,
    'the other key goes on');
  assert.match(run('keys', 'list', '--account', 'dev@bluegate.local').stdout, new RegExp(`${gw.keyId}\\s+\\S+\\s+revoked \\S+`));
  assert.match(run('keys', 'revoke', '--key-id', gw.keyId).stdout, /was already revoked at/);
  gw.keyId = second.keyId;
  gw.secret = second.secret;
});

test('keys commands explain bad input and leave nothing behind', () => {
  const unknown = run('keys', 'revoke', '--key-id', 'no-such-key');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /error: no API key no-such-key \(bluegate keys list --account EMAIL\)/);
  const noAccount = run('keys', 'create', '--account', 'nobody@example.com');
  assert.equal(noAccount.code, 1);
  assert.match(noAccount.stderr, /no account with email nobody@example\.com \(bluegate accounts list\)/);
  const badId = run('keys', 'create', '--account', 'dev@bluegate.local', '--key-id', 'bad id\r\nx-evil: 1');
  assert.equal(badId.code, 1);
  assert.match(badId.stderr, /--key-id must be 1 to 128 letters, digits/);
  const weak = run('keys', 'create', '--account', 'dev@bluegate.local', '--secret', 'short');
  assert.match(weak.stderr, /--secret must be 8 to 256 visible ASCII characters/);
  const taken = run('keys', 'create', '--account', 'dev@bluegate.local', '--key-id', gw.keyId);
  assert.match(taken.stderr, /the key id \S+ is taken/);
  const dup = run('accounts', 'create', '--email', 'dup@example.com', '--key-id', gw.keyId);
  assert.match(dup.stderr, /is taken/);
  assert.doesNotMatch(run('accounts', 'list').stdout, /dup@example\.com/, 'no account made without its key');
  const keys = run('keys', 'list', '--account', 'dev@bluegate.local').stdout.trim().split('\n');
  assert.equal(keys.length, 3, 'a header and the two keys: nothing was added');
  assert.match(run('keys', '--help').stdout, /revoke\s+Revoke an API key/);
});

test('a plan changes what new messages report; a disabled account is refused and its lines hold, then resume', async () => {
  const shared = '+12125550177';
  assert.equal(run('lines', 'add', '--account', 'dev@bluegate.local', '--number', shared, '--shared').code, 0);
  const other = credentials(run('accounts', 'create', '--email', 'other@example.com', '--key-id', 'other-key', '--secret', 'other-secret-0123').stdout);
  assert.equal(run('lines', 'attach', '--number', shared, '--account', 'other@example.com').code, 0);
  const otherHeaders = headers(other.keyId, other.secret);
  // Another account sends from the shared line (to a contact not verified yet: declined, but taken).
  const fromShared = () => gw.request('POST', '/api/send-message', { headers: otherHeaders, body: { number: '+12125550142', from_number: shared, content: 'hi' } });

  const set = run('accounts', 'set', '--email', 'dev@bluegate.local', '--plan', 'sapphire');
  assert.equal(set.code, 0, set.stderr);
  const planned = await eventually(() => sendAs(gw.headers(), { number: '+12125550143', content: 'plan' }),
    (r) => r.json?.plan === 'sapphire', { timeoutMs: 2000 });
  assert.equal(planned.json.plan, 'sapphire');
  assert.equal(run('accounts', 'set', '--email', 'dev@bluegate.local', '--plan', 'no spaces').code, 1);

  const disabled = run('accounts', 'disable', '--email', 'dev@bluegate.local');
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.match(disabled.stdout, /disabled: its keys are refused/);
  const refused = await eventually(() => gw.status(planned.json.message_handle), (r) => r.status === 401, { timeoutMs: 2000 });
  assert.equal(refused.json.message, 'Invalid API credentials: this account is disabled');
  const held = await eventually(fromShared, (r) => r.status === 409, { timeoutMs: 2000 });
  assert.match(held.text, /from_number \+12125550177 is on hold: the account that owns it is disabled/);
  assert.match(run('accounts', 'list').stdout, /dev@bluegate\.local\s+sapphire\s+disabled\s+1\s+2/);
  // Another account's own requests go on.
  assert.equal((await gw.request('GET', '/api/lines', { headers: otherHeaders })).status, 200);

  assert.equal(run('accounts', 'enable', '--email', 'dev@bluegate.local').code, 0);
  const back = await eventually(() => gw.status(planned.json.message_handle), (r) => r.status === 200, { timeoutMs: 2000 });
  assert.equal(back.json.message_handle, planned.json.message_handle, 'nothing was deleted');
  const again = await eventually(fromShared, (r) => r.status === 200, { timeoutMs: 2000 });
  assert.equal(again.status, 200, again.text);
});

test('an event stream open when its key is revoked ends within a few seconds; the account\'s other streams go on', async () => {
  const made = run('keys', 'create', '--account', 'dev@bluegate.local');
  assert.equal(made.code, 0, made.stderr);
  const doomed = credentials(made.stdout);
  const open = async (h) => {
    const res = await fetch(`${gw.baseURL}/api/v2/events`, { headers: { ...h, accept: 'text/event-stream' } });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /^: connected/);
    return reader;
  };
  const ended = async (reader) => {
    for (;;) {
      const { done } = await reader.read();  // frames until the server closes it
      if (done) return true;
    }
  };
  const kept = await open(gw.headers());
  const doomedStream = await open(headers(doomed.keyId, doomed.secret));
  assert.equal(run('keys', 'revoke', '--key-id', doomed.keyId).code, 0);
  const t0 = Date.now();
  assert.equal(await ended(doomedStream), true);
  assert.ok(Date.now() - t0 < 5000, `ended after ${Date.now() - t0} ms`);
  // The account's other key keeps its stream: a message's event still arrives on it.
  await sendAs(gw.headers(), { number: '+12125550142', content: 'still streaming' });
  let text = '';
  while (!/still streaming/.test(text)) {
    const { value, done } = await kept.read();
    assert.equal(done, false, 'the other key\'s stream stays open');
    text += new TextDecoder().decode(value);
  }
  await kept.cancel();
});

// SMS over SMPP 3.4 (issue #6) against a real SMPP peer: the test SMSC built on the npm `smpp`
// package (lib/smsc.mjs). The gateway binds as a transceiver, submits, follows receipts and hears
// phones' messages; the SMSC misbehaves on command.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, sendWithCallback, callbacksUntil } from './lib/stack.mjs';
import { cli, FAST_CONFIG } from './lib/gateway.mjs';
import { Smsc } from './lib/smsc.mjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Receipts and reconnects take real round trips: give messages time to resolve.
const CONFIG = { ...FAST_CONFIG, lines: { ...FAST_CONFIG.lines, resolve_timeout: '30s' } };
const ACCOUNT = 'dev@bluegate.local';

let stack;
let gw;
let rx;
let client;
let smsc;
let nextLine = 20;

before(async () => {
  smsc = await new Smsc().start();
  stack = await startStack({ config: CONFIG });
  ({ gw, rx, client } = stack);
  await client.webhooks.create({ type: 'receive', webhooks: [`${rx.url}/in`] });
  await client.webhooks.create({ type: 'line_blocked', webhooks: [`${rx.url}/blocked`] });
});
after(async () => {
  await stack.stop();
  await smsc.stop();
});

// Adds an SMPP line on the test SMSC and waits until the running server has bound it.
async function addLine(extra = {}, { waitBound = true } = {}) {
  const number = `+1415555${String(1000 + nextLine++).padStart(4, '0')}`;
  const before = smsc.binds.filter((b) => b.status === 0).length;
  const options = smsc.options({ address_range: number.slice(1), ...extra });
  const r = cli(['lines', 'add', '--account', ACCOUNT, '--number', number, '--carrier', 'smpp', ...options], { dataDir: gw.dataDir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /password=\*\*\*/, 'the password is never printed');
  if (waitBound) await smsc.waitFor((s) => s.binds.filter((b) => b.status === 0).length > before, 10000, `a bind for ${number}`);
  return number;
}

const send = (line, number, content, extra) => sendWithCallback(gw, rx, line, number, content, extra);
const callbacks = (handle, status, timeoutMs) => callbacksUntil(rx, handle, status, timeoutMs);

test('lines add --carrier smpp refuses unknown and missing keys, listing the valid ones', () => {
  const run = (args) => cli(['lines', 'add', '--account', ACCOUNT, '--number', '+14155559901', ...args], { dataDir: gw.dataDir });
  const unknown = run(['--carrier', 'smpp', ...smsc.options({ colour: 'blue' })]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown option "colour" for carrier smpp \(valid options: host, port, system_id, password, .*on_unknown\)/);
  const missing = run(['--carrier', 'smpp', '--option', 'host=127.0.0.1']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /carrier smpp needs option\(s\) system_id, password \(required: host, system_id, password;/);
  const badValue = run(['--carrier', 'smpp', ...smsc.options({ window: '0' })]);
  assert.equal(badValue.code, 1);
  assert.match(badValue.stderr, /option window must be a whole number from 1 to 1000, not "0"/);
  const malformed = run(['--carrier', 'smpp', '--option', 'host']);
  assert.match(malformed.stderr, /--option "host" must be KEY=VALUE/);
  const carrier = run(['--carrier', 'pigeon']);
  assert.match(carrier.stderr, /carrier "pigeon" is not available; valid carriers: sim, smpp, bluebubbles/);
  const simOption = run(['--option', 'host=x']);
  assert.match(simOption.stderr, /unknown option "host" for carrier sim \(valid options: none\)/);
  assert.doesNotMatch(cli(['lines', 'list'], { dataDir: gw.dataDir }).stdout, /\+14155559901/, 'nothing was added');
});

test('SDK send -> submit_sm -> receipt -> SENT and DELIVERED callbacks', async () => {
  const line = await addLine();
  const sent = await client.messages.send({ number: '+12125550601', from_number: line, content: 'Hello over SMPP @ £5', status_callback: `${rx.url}/cb` });
  assert.equal(sent.status, 'QUEUED');
  const statuses = await callbacks(sent.message_handle, 'DELIVERED');
  assert.deepEqual(statuses.slice(statuses.indexOf('ACCEPTED')), ['ACCEPTED', 'SENT', 'DELIVERED']);
  const submit = smsc.submits.find((s) => s.to === '+12125550601');
  assert.equal(submit.line, line);
  assert.equal(submit.text, 'Hello over SMPP @ £5');
  assert.equal(submit.data_coding, 0, 'GSM 03.38 when the text fits it');
  assert.equal(submit.registered_delivery, 1);
  const m = (await client.messages.retrieve(sent.message_handle)).data;
  assert.equal(m.status, 'DELIVERED');
  assert.equal(m.service, 'SMS');
  const cli2 = cli(['lines', 'list'], { dataDir: gw.dataDir });
  assert.match(cli2.stdout, new RegExp(`\\${line}\\s+smpp`));
  assert.match(cli2.stdout, /options: address_range=\d+, host=127\.0\.0\.1, password=\*\*\*, port=\d+, system_id=bluegate/);
});

test('long and non-GSM texts: UCS-2, concatenated segments, DELIVERED once every part is', async () => {
  const line = await addLine();
  const long = 'A'.repeat(200);
  // The second part's response comes late: the first part's receipt arrives before it.
  smsc.responseDelay = (rec) => (rec.udh && rec.udh[4] === 2 ? 300 : 0);
  const r = await send(line, '+12125550602', long);
  await callbacks(r.json.message_handle, 'DELIVERED');
  smsc.responseDelay = null;
  const parts = smsc.submits.filter((s) => s.to === '+12125550602');
  assert.equal(parts.length, 2);
  assert.ok(parts.every((p) => p.esm_class & 0x40), 'UDH indicator set');
  // The concatenation element: IEI 0x00, length 3, reference, total, index.
  const ref = parts[0].udh[2];
  assert.deepEqual(parts.map((p) => [...p.udh]), [[0, 3, ref, 2, 1], [0, 3, ref, 2, 2]]);
  assert.equal(parts.map((p) => p.text).join(''), long);

  const r2 = await send(line, '+12125550603', 'Привет 👋');
  await callbacks(r2.json.message_handle, 'DELIVERED');
  const ucs2 = smsc.submits.find((s) => s.to === '+12125550603');
  assert.equal(ucs2.data_coding, 8);
  assert.equal(ucs2.text, 'Привет 👋');
});

test('receipts: UNDELIV fails the message with the SMSC error; decimal ids and TLVs are matched', async () => {
  smsc.receiptStat = (s) => (s.to === '+12125550604' ? 'UNDELIV' : 'DELIVRD');
  smsc.receiptIdBase = 10;
  smsc.receiptTlvs = false;
  try {
    const line = await addLine();
    const r = await send(line, '+12125550604', 'will not arrive');
    await callbacks(r.json.message_handle, 'ERROR');
    const m = (await gw.status(r.json.message_handle)).json;
    assert.equal(m.error_code, 10001);
    assert.match(m.error_detail, /stat: UNDELIV err: 034/);
    const ok = await send(line, '+12125550605', 'decimal receipt id');
    await callbacks(ok.json.message_handle, 'DELIVERED');
    smsc.receiptIdBase = 16;
    smsc.receiptTlvs = true;
    const tlv = await send(line, '+12125550606', 'receipt with TLVs');
    await callbacks(tlv.json.message_handle, 'DELIVERED');
  } finally {
    smsc.receiptStat = () => 'DELIVRD';
    smsc.receiptIdBase = 16;
    smsc.receiptTlvs = false;
  }
});

test('a phone writes in: deliver_sm -> receive webhook; a long one is put back together', async () => {
  const line = await addLine();
  smsc.sendMo({ from: '+12125550607', to: line, text: 'Hi from a phone' });
  const got = await rx.waitFor((xs) => xs.some((x) => x.path === '/in' && x.json?.content === 'Hi from a phone'));
  const m = got.find((x) => x.json?.content === 'Hi from a phone').json;
  assert.equal(m.from_number, '+12125550607');
  assert.equal(m.to_number, line);
  assert.equal(m.service, 'SMS');
  assert.equal(m.status, 'RECEIVED');
  // Parts arrive out of order.
  const parts = [[2, ' second half.'], [1, 'First half,']];
  parts.total = 2;
  smsc.sendMo({ from: '+12125550608', to: line, parts });
  await rx.waitFor((xs) => xs.some((x) => x.path === '/in' && x.json?.content === 'First half, second half.'));
  assert.equal(rx.received.filter((x) => x.path === '/in' && x.json?.from_number === '+12125550608').length, 1);
});

test('throttling (0x58) and a full queue (0x14) slow the line down; nothing fails', async () => {
  const line = await addLine();
  smsc.throttleNext = 3;
  smsc.queueFullNext = 1;
  const handles = [];
  for (let i = 0; i < 5; i++) handles.push((await send(line, `+1212555061${i}`, `paced ${i}`)).json.message_handle);
  for (const h of handles) await callbacks(h, 'DELIVERED');
  const forLine = smsc.submits.filter((s) => s.line === line);
  assert.equal(forLine.filter((s) => s.status === 0x58).length, 3);
  assert.equal(forLine.filter((s) => s.status === 0x14).length, 1);
  assert.equal(forLine.filter((s) => s.status === 0).length, 5, 'each message accepted exactly once');
  const blocked = await rx.waitFor((xs) => xs.some((x) => x.path === '/blocked' && x.json?.sendblue_number === line));
  const b = blocked.find((x) => x.path === '/blocked' && x.json?.sendblue_number === line).json;
  assert.equal(b.status, 'DEGRADED');
  assert.match(b.reason, /ESME_RTHROTTLED|ESME_RMSGQFUL/);
  const state = (await gw.request('GET', '/api/v2/lines/state')).json.data.find((l) => l.sendblue_number === line);
  assert.equal(state.status, 'ONLINE', 'back to normal once the SMSC takes messages again');
});

test('a connection dropped mid-submit: the line reconnects and the unknown message is re-submitted', async () => {
  const line = await addLine();
  const metricsBefore = await gw.metrics();
  const resubmitsBefore = Number(metricsBefore.match(/bluegate_carrier_resubmits_total (\d+)/)[1]);
  smsc.dropOnSubmit = true;
  const r = await send(line, '+12125550620', 'through a dropped connection');
  await callbacks(r.json.message_handle, 'DELIVERED', 20000);
  const attempts = smsc.submits.filter((s) => s.to === '+12125550620');
  assert.equal(attempts.length, 2);
  assert.ok(attempts[0].dropped);
  const resubmits = Number((await gw.metrics()).match(/bluegate_carrier_resubmits_total (\d+)/)[1]);
  assert.equal(resubmits, resubmitsBefore + 1, 'the possible duplicate is counted');
  const blocked = await rx.waitFor((xs) => xs.some((x) => x.path === '/blocked' && x.json?.sendblue_number === line && x.json.status === 'OFFLINE'));
  assert.match(blocked.find((x) => x.json?.sendblue_number === line && x.json.status === 'OFFLINE').json.reason, /connection/);
});

test('on_unknown=fail: a submit with no response ends in ERROR 10002, never silently lost', async () => {
  const line = await addLine({ on_unknown: 'fail', response_timeout: '500ms' });
  smsc.withholdNext = 1;
  const r = await send(line, '+12125550621', 'no answer');
  await callbacks(r.json.message_handle, 'ERROR');
  const m = (await gw.status(r.json.message_handle)).json;
  assert.equal(m.error_code, 10002);
  assert.match(m.error_detail, /no submit_sm_resp/);
  assert.equal(smsc.submits.filter((s) => s.to === '+12125550621').length, 1, 'not sent twice');
});

test('a refused bind: the line is OFFLINE, messages wait, and fixing the password delivers them', async () => {
  const line = await addLine({ password: 'wrong' }, { waitBound: false });
  await smsc.waitFor((s) => s.binds.some((b) => b.password === 'wrong'), 10000, 'the refused bind');
  const blocked = await rx.waitFor((xs) => xs.some((x) => x.path === '/blocked' && x.json?.sendblue_number === line));
  const b = blocked.find((x) => x.path === '/blocked' && x.json?.sendblue_number === line).json;
  assert.equal(b.status, 'OFFLINE');
  assert.match(b.reason, /refused the bind: ESME_RBINDFAIL \(0xd\)/);
  assert.doesNotMatch(gw.output, /wrong/, 'passwords are never logged');
  const r = await send(line, '+12125550622', 'waiting for a bind');
  assert.equal(r.json.status, 'QUEUED');
  const waiting = (await gw.status(r.json.message_handle)).json;
  assert.ok(['QUEUED', 'ACCEPTED'].includes(waiting.status), 'it waits, it does not fail');

  const set = cli(['lines', 'set', '--number', line, '--option', `password=${smsc.password}`], { dataDir: gw.dataDir });
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /options now: .*password=\*\*\*/);
  await callbacks(r.json.message_handle, 'DELIVERED', 20000);
  const bad = cli(['lines', 'set', '--number', line, '--option', 'window=zero'], { dataDir: gw.dataDir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /option window must be a whole number/);
});

test('enquire_link keeps the bind checked; an SMSC unbind is answered and the line binds again', async () => {
  const line = await addLine({ enquire_link: '200ms' });
  const links = smsc.enquireLinks;
  await smsc.waitFor((s) => s.enquireLinks >= links + 2, 5000, 'enquire_links');
  const binds = smsc.binds.length;
  smsc.unbindAll();
  await smsc.waitFor((s) => s.binds.length > binds && s.boundCount() >= 1, 10000, 'a new bind');
  const r = await send(line, '+12125550623', 'after the unbind');
  await callbacks(r.json.message_handle, 'DELIVERED');
});

test('SMS lines: the lookup says SMS, typing indicators answer ERROR, groups fail clearly', async () => {
  const line = await addLine();
  const first = await send(line, '+12125550630', 'binds the contact to the SMPP line');
  await callbacks(first.json.message_handle, 'DELIVERED');
  const lookup = await gw.request('GET', `/api/evaluate-service?number=${encodeURIComponent('+12125550630')}`);
  assert.equal(lookup.status, 200, lookup.text);
  assert.equal(lookup.json.service, 'SMS');
  const typing = await gw.request('POST', '/api/send-typing-indicator', { body: { number: '+12125550630', from_number: line } });
  assert.equal(typing.json.status, 'ERROR');
  assert.match(typing.json.error_message, /SMS/);
  const group = await gw.request('POST', '/api/send-group-message', {
    body: { from_number: line, numbers: ['+12125550631', '+12125550632'], content: 'group over SMPP', status_callback: `${rx.url}/cb` },
  });
  assert.equal(group.status, 200, group.text);
  await callbacks(group.json.message_handle, 'ERROR');
  assert.match((await gw.status(group.json.message_handle)).json.error_detail, /no group messages/);
});

test('SMPP over TLS: the certificate is verified against ca_file, and a wrong one is refused', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bluegate-smpp-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore' });
  const secure = await new Smsc({ tls: { key: readFileSync(`${dir}/key.pem`), cert: readFileSync(`${dir}/cert.pem`) } }).start();
  try {
    const number = '+14155553001';
    const add = cli(['lines', 'add', '--account', ACCOUNT, '--number', number, '--carrier', 'smpp',
      ...secure.options({ host: 'localhost', tls: 'true', ca_file: `${dir}/cert.pem` })], { dataDir: gw.dataDir });
    assert.equal(add.code, 0, add.stderr);
    await secure.waitFor((s) => s.boundCount() === 1, 10000, 'a bind over TLS');
    const r = await send(number, '+12125550640', 'over TLS');
    await callbacks(r.json.message_handle, 'DELIVERED');
    assert.equal(secure.submits.find((x) => x.to === '+12125550640').text, 'over TLS');

    // Without the CA, the self-signed certificate is not trusted: no bind, the line is OFFLINE.
    const untrusted = '+14155553002';
    cli(['lines', 'add', '--account', ACCOUNT, '--number', untrusted, '--carrier', 'smpp',
      ...secure.options({ host: 'localhost', tls: 'true' })], { dataDir: gw.dataDir });
    const blocked = await rx.waitFor((xs) => xs.some((x) => x.path === '/blocked' && x.json?.sendblue_number === untrusted));
    assert.match(blocked.find((x) => x.json?.sendblue_number === untrusted).json.reason, /TLS handshake/);
    assert.equal(secure.boundCount(), 1);
  } finally {
    await secure.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// POST /api/send-message validation, authentication and the error envelope (SPEC.md §1, §4),
// against the real binary over HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway, cli } from './lib/gateway.mjs';

let gw;
before(async () => { gw = await new Gateway().start(); });
after(async () => { await gw.stop(); gw.cleanup(); });

function assertError(r, status, code, messagePattern) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.status, 'ERROR');
  assert.equal(r.json.error_code, code);
  assert.match(r.json.message, messagePattern);
  assert.deepEqual(Object.keys(r.json).sort(), ['error_code', 'error_message', 'message', 'status']);
  assert.equal(r.json.error_message, r.json.message, 'the same text, where Sendblue\'s docs point');
}

const validation = [
  ['number missing', { content: 'hi' }, 4000, /number is required/],
  ['number not E.164', { number: '4155550100', content: 'hi' }, 4000, /number must be a phone number in E\.164/],
  ['number invalid', { number: '+19998887777', content: 'hi' }, 4000, /number \+19998887777 is not a valid phone number/],
  ['number not a string', { number: 14155550100, content: 'hi' }, 4000, /number must be a string/],
  ['emergency 911', { number: '911', content: 'hi' }, 4002, /number 911 is blacklisted/],
  ['emergency +1911', { number: '+1911', content: 'hi' }, 4002, /blacklisted/],
  ['emergency 112', { number: '112', content: 'hi' }, 4002, /blacklisted/],
  ['emergency 999', { number: '+44999', content: 'hi' }, 4002, /blacklisted/],
  ['operator blocklist', { number: '+12125550188', content: 'hi' }, 4002, /blacklisted/],
  ['neither content nor media', { number: '+12125550100' }, 4000, /content or media_url is required/],
  ['content too long', { number: '+12125550100', content: 'x'.repeat(18996) }, 4000, /content is too long: 18996 characters/],
  ['media_url not http', { number: '+12125550100', media_url: 'ftp://x.com/a.png' }, 4000, /media_url must be an http or https URL/],
  ['media_url without extension', { number: '+12125550100', media_url: 'https://x.com/a' }, 4000, /media_url must end in a file extension/],
  ['send_style unknown', { number: '+12125550100', content: 'hi', send_style: 'boom' }, 4000, /send_style "boom" is not one of/],
  ['status_callback not a URL', { number: '+12125550100', content: 'hi', status_callback: 'not a url' }, 4000, /status_callback must be an http or https URL/],
  ['from_number not a line', { number: '+12125550100', content: 'hi', from_number: '+13125550199' }, 4000, /from_number \+13125550199 is not a line of this account/],
  ['app_card unsupported', { number: '+12125550100', content: 'hi', app_card: { url: 'x' } }, 4000, /app_card is not supported/],
];

for (const [name, body, code, pattern] of validation) {
  test(`send-message refuses: ${name}`, async () => {
    assertError(await gw.send(body), 400, code, pattern);
  });
}

test('content of exactly 18,995 characters (multi-byte counted as characters) is accepted', async () => {
  const r = await gw.send({ number: '+12125550100', content: 'é'.repeat(18995) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'QUEUED');
});

test('media only, every send_style field value and the legacy statusCallback are accepted', async () => {
  const r = await gw.send({ number: '+12125550100', media_url: 'https://cdn.example.com/cat.jpg?x=1', send_style: 'slam', statusCallback: 'http://127.0.0.1:9/cb' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.media_url, 'https://cdn.example.com/cat.jpg?x=1');
  assert.equal(r.json.send_style, 'slam');
});

test('the message object carries every key of SPEC §2', async () => {
  const r = await gw.send({ number: '+1 (212) 555-0100', content: 'shape' });
  assert.equal(r.status, 200);
  const keys = ['accountEmail', 'content', 'is_outbound', 'status', 'error_code', 'error_message', 'error_reason',
    'error_detail', 'message_handle', 'date_sent', 'date_updated', 'from_number', 'number', 'to_number',
    'was_downgraded', 'plan', 'media_url', 'message_type', 'group_id', 'participants', 'send_style', 'opted_out',
    'sendblue_number', 'service', 'group_display_name'];
  for (const k of keys) assert.ok(k in r.json, `missing ${k}`);
  const m = r.json;
  assert.equal(m.number, '+12125550100', 'numbers are normalised to E.164');
  assert.equal(m.to_number, '+12125550100');
  assert.equal(m.from_number, gw.line);
  assert.equal(m.sendblue_number, gw.line);
  assert.equal(m.is_outbound, true);
  assert.equal(m.message_type, 'message');
  assert.equal(m.media_url, '');
  assert.equal(m.group_id, '');
  assert.equal(m.send_style, '');
  assert.equal(m.error_code, null);
  assert.equal(m.was_downgraded, null);
  assert.match(m.message_handle, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(m.date_sent, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const status = await gw.status(m.message_handle);
  assert.equal(status.status, 200);
  assert.equal(status.json.message_handle, m.message_handle);
});

test('a form-encoded body is accepted, with a bare + decoded as a plus in numbers', async () => {
  const r = await gw.request('POST', '/api/send-message', {
    headers: gw.headers({ 'content-type': 'application/x-www-form-urlencoded' }),
    raw: `number=%2B12125550100&from_number=${gw.line.replace('+', '+')}&content=hello+form`,
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.content, 'hello form');
  assert.equal(r.json.from_number, gw.line);
});

test('malformed JSON is a 400 that says where', async () => {
  assertError(await gw.request('POST', '/api/send-message', { raw: '{"number": "+1212' }), 400, 4000, /Malformed JSON body: .* at offset 17/);
  assertError(await gw.request('POST', '/api/send-message', { raw: '[1,2]' }), 400, 4000, /must be a JSON object/);
});

test('missing or wrong credentials get 401 with the envelope', async () => {
  const none = await gw.request('POST', '/api/send-message', { headers: { 'content-type': 'application/json' }, body: {} });
  assert.equal(none.status, 401);
  assert.equal(none.json.status, 'ERROR');
  assert.match(none.json.message, /sb-api-key-id and sb-api-secret-key/);
  const wrong = await gw.request('GET', '/api/lines', { headers: { 'sb-api-key-id': gw.keyId, 'sb-api-secret-key': 'nope' } });
  assert.equal(wrong.status, 401);
  const unknown = await gw.request('GET', '/api/lines', { headers: { 'SB-API-KEY-ID': 'nobody', 'Sb-Api-Secret-Key': gw.secret } });
  assert.equal(unknown.status, 401);
});

test('header names are case-insensitive', async () => {
  const r = await gw.request('GET', '/api/lines', { headers: { 'SB-API-KEY-ID': gw.keyId, 'SB-API-SECRET-KEY': gw.secret } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'OK', numbers: [gw.line] });
});

test('unknown paths are 404, and so are Sendblue paths not served yet (saying so), both with the envelope', async () => {
  const a = await gw.request('GET', '/api/nothing-here');
  assert.equal(a.status, 404);
  assert.equal(a.json.status, 'ERROR');
  const b = await gw.request('GET', '/nowhere');
  assert.equal(b.status, 404);
  const c = await gw.request('POST', '/api/send-carousel', { body: {} });
  assert.equal(c.status, 404, 'clients read 404 as "feature absent"');
  assert.match(c.json.message, /not implemented by bluegate yet/);
});

test('a body over the 1 MiB cap is refused with 413', async () => {
  const r = await gw.request('POST', '/api/send-message', { raw: JSON.stringify({ content: 'x'.repeat(1100000) }) });
  assert.equal(r.status, 413);
  assert.equal(r.json.status, 'ERROR');
});

test('status of an unknown handle, or of another account\'s message, is 404', async () => {
  const mine = await gw.send({ number: '+12125550100', content: 'private' });
  const other = cli(['accounts', 'create', '--email', 'other@example.com', '--key-id', 'other-key', '--secret', 'other-secret'], { dataDir: gw.dataDir });
  assert.equal(other.code, 0, other.stderr);
  const r = await gw.request('GET', `/api/status?handle=${mine.json.message_handle}`, { headers: { 'sb-api-key-id': 'other-key', 'sb-api-secret-key': 'other-secret' } });
  assert.equal(r.status, 404);
  assert.equal(r.json.status, 'ERROR');
  const none = await gw.status('00000000-0000-4000-8000-000000000000');
  assert.equal(none.status, 404);
  const missing = await gw.request('GET', '/api/status');
  assertError(missing, 400, 4000, /handle is required/);
});

test('health, readiness and Prometheus metrics', async () => {
  assert.equal((await fetch(`${gw.baseURL}/healthz`)).status, 200);
  assert.equal((await fetch(`${gw.baseURL}/readyz`)).status, 200);
  await gw.send({ number: '+12125550100', content: 'count me' });
  const text = await gw.metrics();
  assert.match(text, /bluegate_http_requests_total\{route="\/api\/send-message",status="200"\} \d+/);
  assert.match(text, /bluegate_http_requests_total\{route="\/api\/send-message",status="400"\} \d+/);
  assert.match(text, /bluegate_messages_total\{status="QUEUED"\} \d+/);
  assert.match(text, /bluegate_line_queue_depth\{line="\+14155550100"\} \d+/);
  assert.match(text, /bluegate_webhook_deliveries_total|bluegate_webhook_backlog/);
  // The writer's group commit: every accept is a write, and writes share transactions.
  const counter = (t, name) => Number(t.match(new RegExp(`^${name} ([0-9.]+)$`, 'm'))[1]);
  const commits = counter(text, 'bluegate_store_commits_total');
  const writes = counter(text, 'bluegate_store_writes_total');
  assert.ok(commits >= 1 && writes >= commits, `${writes} writes in ${commits} commits`);
  assert.ok(counter(text, 'bluegate_store_writer_busy_seconds_total') > 0);
  assert.doesNotMatch(text, /bluegate_store_round_trips_total/, 'no database server on SQLite');
  await gw.send({ number: '+12125550100', content: 'and me' });
  const after = await gw.metrics();
  assert.ok(counter(after, 'bluegate_store_writes_total') > writes, 'the next accept is counted');
});

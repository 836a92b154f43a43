// log_format = "json" and the access log (issue #18, item 5): each log line is one JSON object;
// with [http] access_log each answer has a line carrying its x-request-id, method, route pattern,
// status, duration and account; text from a client cannot forge a field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway, FAST_CONFIG } from './lib/gateway.mjs';
import { eventually } from './lib/eventually.mjs';

const jsonLines = (output) => output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

test('JSON log lines, and an access line per answer with its request id, route, status and account', async () => {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, log_format: 'json', http: { access_log: true } } }).start();
  try {
    const sent = await gw.send({ number: '+12125550100', content: 'logged' }, { headers: gw.headers({ 'x-request-id': 'client-req-0001' }) });
    assert.equal(sent.status, 200);
    assert.equal(sent.headers.get('x-request-id'), 'client-req-0001');
    const denied = await gw.request('GET', '/api/status?handle=x', { headers: { 'sb-api-key-id': 'nobody', 'sb-api-secret-key': 'x', 'x-request-id': 'evil"\\id' } });
    assert.equal(denied.status, 401);
    const unsafeId = denied.headers.get('x-request-id');
    assert.notEqual(unsafeId, 'evil"\\id', 'an unsafe id is replaced');

    const lines = await eventually(() => jsonLines(gw.output), (ls) => ls.some((l) => l.request_id === unsafeId));
    for (const l of lines) {
      assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(['trace', 'debug', 'info', 'warning', 'error', 'critical'].includes(l.level), l.level);
      assert.equal(typeof l.message, 'string');
    }
    assert.ok(lines.some((l) => /^bluegate serving on /.test(l.message)), 'startup lines are JSON too');
    const ok = lines.find((l) => l.request_id === 'client-req-0001');
    assert.equal(ok.method, 'POST');
    assert.equal(ok.route, '/api/send-message');
    assert.equal(ok.status, 200);
    assert.equal(typeof ok.duration_ms, 'number');
    assert.equal(typeof ok.account, 'number', 'the account it answered');
    const refused = lines.find((l) => l.request_id === unsafeId);
    assert.equal(refused.status, 401);
    assert.equal(refused.route, 'unauthenticated');
    assert.equal(refused.account, undefined, 'no account for an unauthenticated request');
    const stderr = gw.output.split('\n').filter((l) => l.startsWith('['));
    assert.deepEqual(stderr, [], 'no text-format line');
  } finally {
    await gw.stop();
    gw.cleanup();
  }
});

test('without access_log there is no line per request, and a bad log_format stops the server', async () => {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, log_format: 'json' } }).start();
  try {
    await gw.request('GET', '/healthz');
    assert.equal(jsonLines(gw.output).filter((l) => l.route).length, 0);
  } finally {
    await gw.stop();
    gw.cleanup();
  }
  const bad = new Gateway({ config: { ...FAST_CONFIG, log_format: 'xml' } });
  await assert.rejects(bad.start(), /log_format.*expected "text" or "json"/s);
  bad.cleanup();
});

// HTTPS webhook targets: certificates verified (against webhooks.ca_file here), the host name
// checked, and an untrusted receiver refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Gateway, FAST_CONFIG } from './lib/gateway.mjs';
import { eventually } from './lib/eventually.mjs';

let dir;
let server;
let port;
const received = [];
before(async () => {
  // A self-signed certificate for localhost, made fresh for this run.
  dir = mkdtempSync(path.join(tmpdir(), 'bluegate-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore' });
  server = https.createServer({ key: readFileSync(`${dir}/key.pem`), cert: readFileSync(`${dir}/cert.pem`) }, (req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ path: req.url, json: JSON.parse(body), headers: req.headers });
      res.end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(predicate, ms = 10000) {
  if (!(await eventually(predicate, Boolean, { timeoutMs: ms }))) throw new Error('timed out');
}

test('callbacks reach an https receiver whose certificate is trusted through webhooks.ca_file', async () => {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, webhooks: { ...FAST_CONFIG.webhooks, ca_file: `${dir}/cert.pem` } } }).start();
  try {
    const r = await gw.send({ number: '+12125550100', content: 'over tls', status_callback: `https://localhost:${port}/secure` });
    const h = r.json.message_handle;
    await waitFor(() => received.filter((x) => x.json.message_handle === h).length === 6);
    assert.deepEqual(received.filter((x) => x.json.message_handle === h).map((x) => x.json.status),
      ['REGISTERED', 'PENDING', 'QUEUED', 'ACCEPTED', 'SENT', 'DELIVERED']);
    assert.equal(received.find((x) => x.json.message_handle === h).headers.host, `localhost:${port}`);
  } finally {
    await gw.stop();
    gw.cleanup();
  }
});

test('an https receiver with an untrusted certificate is not sent to', async () => {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, webhooks: { timeout: '1s', retry_schedule: ['0ms', '50ms'] } } }).start();
  try {
    const before = received.length;
    const r = await gw.send({ number: '+12125550100', content: 'untrusted', status_callback: `https://localhost:${port}/untrusted` });
    await gw.waitForStatus(r.json.message_handle, (m) => m.status === 'DELIVERED');
    // Each failed status gives way to a newer one; the newest (DELIVERED) is tried twice and
    // then given up: 1 failed and 5 superseded, nothing received.
    const count = (text, outcome) => Number((text.match(new RegExp(`outcome="${outcome}"\\} (\\d+)`)) ?? [0, 0])[1]);
    const text = await eventually(() => gw.metrics(),
      (t) => count(t, 'failed') + count(t, 'superseded') >= 6, { timeoutMs: 10000 });
    assert.equal(count(text, 'failed'), 1);
    assert.equal(count(text, 'superseded'), 5);
    assert.equal(received.length, before);
    assert.match(gw.output, /TLS handshake with localhost:\d+ failed: certificate verify failed/);
  } finally {
    await gw.stop();
    gw.cleanup();
  }
});

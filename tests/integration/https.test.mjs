// HTTPS on the listener (issue #18, item 1): [tls] cert_file and key_file make `listen` serve
// TLS 1.2 and 1.3 only; the official SDK trusting the test's certificate sends and reads over it;
// plain HTTP to the port is told to use https://; SIGHUP reloads the certificate without dropping
// open connections, and a bad new one is refused with the current one kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gateway, FAST_CONFIG, BINARY, makeDataDir } from './lib/gateway.mjs';
import { eventually } from './lib/eventually.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let dir;
let gw;
let port;

// A certificate for 127.0.0.1 and localhost, made fresh by this run; `name` tells them apart.
function makeCert(name) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', `${dir}/${name}.key`, '-out', `${dir}/${name}.pem`], { stdio: 'ignore' });
  return { cert: `${dir}/${name}.pem`, key: `${dir}/${name}.key` };
}

// The certificate a new connection is shown, and the protocol it negotiated.
function peer(options = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: [readFileSync(`${dir}/a.pem`), readFileSync(`${dir}/b.pem`)], ...options }, () => {
      const out = { subject: s.getPeerCertificate().subject.CN, protocol: s.getProtocol(), cipher: s.getCipher().name };
      s.end();
      resolve(out);
    });
    s.on('error', reject);
  });
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bluegate-https-'));
  makeCert('a');
  makeCert('b');
  copyFileSync(`${dir}/a.pem`, `${dir}/live.pem`);
  copyFileSync(`${dir}/a.key`, `${dir}/live.key`);
  gw = await new Gateway({ config: { ...FAST_CONFIG, tls: { cert_file: `${dir}/live.pem`, key_file: `${dir}/live.key` } } }).start();
  port = Number(gw.address.split(':').pop());
});
after(async () => {
  await gw.stop();
  gw.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('the official SDK, trusting the certificate, sends and follows a message over HTTPS', () => {
  assert.match(gw.output, /listening on 127\.0\.0\.1:\d+/, 'the startup line is unchanged');
  assert.match(gw.baseURL, /^https:\/\//);
  // The SDK runs as its users run it, in its own process, trusting the CA through Node's option.
  const script = `
    import Sendblue from 'sendblue';
    const c = new Sendblue({ apiKey: process.env.KEY, apiSecret: process.env.SECRET, baseURL: process.env.BASE });
    const sent = await c.messages.send({ number: '+12125550100', from_number: process.env.LINE, content: 'over https' });
    const got = await c.messages.getStatus({ handle: sent.message_handle });
    console.log(JSON.stringify({ sent: sent.status, handle: sent.message_handle, got: got.message_handle }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: here, encoding: 'utf8',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: `${dir}/a.pem`, KEY: gw.keyId, SECRET: gw.secret, BASE: gw.baseURL, LINE: gw.line },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.sent, 'QUEUED');
  assert.equal(out.got, out.handle);

  // Without trusting it, the same SDK refuses the connection: the certificate is what it checks.
  const untrusted = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: here, encoding: 'utf8', env: { ...process.env, KEY: gw.keyId, SECRET: gw.secret, BASE: gw.baseURL, LINE: gw.line },
  });
  assert.notEqual(untrusted.status, 0);
});

test('only TLS 1.2 and 1.3 are served, TLS 1.2 with forward-secret AEAD ciphers', async () => {
  const best = await peer();
  assert.equal(best.protocol, 'TLSv1.3');
  const twelve = await peer({ maxVersion: 'TLSv1.2' });
  assert.equal(twelve.protocol, 'TLSv1.2');
  assert.match(twelve.cipher, /^ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
  await assert.rejects(peer({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), 'TLS 1.1 is refused');
  await assert.rejects(peer({ maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA256:AES256-SHA256' }), 'no static-RSA or CBC suites');
});

test('plain HTTP to the HTTPS port is told to use https://', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(res.status, 400);
  assert.equal((await res.json()).message, 'This port serves HTTPS: use an https:// URL');
});

test('SIGHUP reloads the certificate; open connections stay, and a bad one is refused with the current kept', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: [readFileSync(`${dir}/a.pem`), readFileSync(`${dir}/b.pem`)] });
  const get = () => new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
      const cn = res.socket.getPeerCertificate().subject?.CN;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, reused: req.reusedSocket, cn }));
    });
    req.on('error', reject);
  });
  const first = await get();
  assert.equal(first.cn, 'a');

  copyFileSync(`${dir}/b.pem`, `${dir}/live.pem`);
  copyFileSync(`${dir}/b.key`, `${dir}/live.key`);
  gw.proc.kill('SIGHUP');
  await eventually(() => gw.output, (o) => /SIGHUP: reloaded the TLS certificate/.test(o), { timeoutMs: 5000 });
  assert.match(gw.output, /SIGHUP: reloaded the TLS certificate/);
  const kept = await get();
  assert.equal(kept.status, 200);
  assert.equal(kept.reused, true, 'the open connection was not dropped');
  assert.equal(kept.cn, 'a', 'and it keeps the certificate it began with');
  assert.equal((await peer()).subject, 'b', 'a new connection gets the new certificate');

  writeFileSync(`${dir}/live.key`, 'not a key\n');
  gw.proc.kill('SIGHUP');
  await eventually(() => gw.output, (o) => /SIGHUP: kept the current TLS certificate: cannot use the private key/.test(o), { timeoutMs: 5000 });
  assert.match(gw.output, /SIGHUP: kept the current TLS certificate: cannot use the private key \S+live\.key/);
  assert.equal((await peer()).subject, 'b', 'still served with the last good one');
  agent.destroy();
  assert.equal(gw.proc.exitCode, null, 'SIGHUP never ends the server');
});

test('over HTTPS the console\'s session cookie is Secure', async () => {
  const body = new URLSearchParams({ key_id: gw.keyId, secret: gw.secret }).toString();
  const res = await new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/console/login', method: 'POST', ca: [readFileSync(`${dir}/a.pem`), readFileSync(`${dir}/b.pem`)],
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), origin: `https://127.0.0.1:${port}` } }, (r) => {
      r.resume();
      r.on('end', () => resolve(r));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(res.statusCode, 303);
  const cookie = res.headers['set-cookie']?.[0] ?? '';
  assert.match(cookie, /^bluegate_session=[0-9a-f]{64}; .*HttpOnly; SameSite=Strict; .*; Secure$/);
});

test('a half or unreadable [tls] setting stops serve at start, naming the key or file', () => {
  const data = makeDataDir();
  try {
    const half = path.join(data, 'half.toml');
    writeFileSync(half, `[tls]\ncert_file = "${dir}/a.pem"\n`);
    const r1 = spawnSync(BINARY, ['serve', '--config', half, '--data-dir', data, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 10000 });
    assert.notEqual(r1.status, 0);
    assert.match(r1.stderr, /tls\.key_file.*HTTPS needs both tls\.cert_file and tls\.key_file/);
    const missing = path.join(data, 'missing.toml');
    writeFileSync(missing, `[tls]\ncert_file = "${dir}/nope.pem"\nkey_file = "${dir}/a.key"\n`);
    const r2 = spawnSync(BINARY, ['serve', '--config', missing, '--data-dir', data, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 10000 });
    assert.notEqual(r2.status, 0);
    assert.match(r2.stderr, /cannot use the certificate \S+nope\.pem/);
    const mismatched = path.join(data, 'mismatched.toml');
    writeFileSync(mismatched, `[tls]\ncert_file = "${dir}/a.pem"\nkey_file = "${dir}/b.key"\n`);
    const r3 = spawnSync(BINARY, ['serve', '--config', mismatched, '--data-dir', data, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 10000 });
    assert.notEqual(r3.status, 0);
    assert.match(r3.stderr, /(does not match the certificate|cannot use the private key)/);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

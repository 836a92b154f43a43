// Issue #13: each attack a hostile client or tenant could make, played against the real binary.
// The server must stay up, answer other clients promptly, keep memory bounded, and answer each bad
// input with the documented error.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { readFileSync, writeFileSync, mkdirSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Gateway, FAST_CONFIG, makeDataDir } from './lib/gateway.mjs';
import { eventually } from './lib/eventually.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function gateway(config = {}, opts = {}) {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, ...config }, ...opts }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  return gw;
}

function hostPort(gw) {
  const i = gw.address.lastIndexOf(':');
  return { host: gw.address.slice(0, i), port: Number(gw.address.slice(i + 1)) };
}

// Writes `bytes` on a fresh connection and collects everything the server sends until it closes
// the connection (or `timeoutMs` passes: then `timedOut`).
function exchange(gw, bytes, { timeoutMs = 5000, localAddress } = {}) {
  const { host, port } = hostPort(gw);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host, port, localAddress });
    let data = '';
    const timer = setTimeout(() => { socket.destroy(); resolve({ data, timedOut: true, ms: Date.now() - started }); }, timeoutMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d) => { data += d.toString('latin1'); });
    socket.on('error', () => {});
    socket.on('close', () => { clearTimeout(timer); resolve({ data, timedOut: false, ms: Date.now() - started }); });
  });
}

function statusOf(raw) {
  const m = raw.match(/^HTTP\/1\.[01] (\d{3})/);
  return m ? Number(m[1]) : 0;
}

// The kernel's queues of each TCP connection on this machine between `port` and another port:
// what the side on `port` has yet to send, and what the other side has yet to read (IPv4).
function tcpQueues(port) {
  const out = new Map();  // other port -> { tx (on `port`'s side), rx (on the other side) }
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const local = parseInt(f[1].split(':')[1], 16);
    const remote = parseInt(f[2].split(':')[1], 16);
    const [tx, rx] = f[4].split(':').map((x) => parseInt(x, 16));
    if (local === port) out.set(remote, { ...(out.get(remote) ?? {}), tx });
    if (remote === port) out.set(local, { ...(out.get(local) ?? {}), rx });
  }
  return out;
}

function rssKb(gw) {
  const m = readFileSync(`/proc/${gw.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]);
}

async function healthy(gw, withinMs = 1000) {
  const started = Date.now();
  const res = await fetch(`${gw.baseURL}/healthz`, { signal: AbortSignal.timeout(withinMs) });
  assert.equal(res.status, 200);
  return Date.now() - started;
}

test('a JSON body nested 150,000 levels deep is refused with 400 naming the limit, and the server stays up', async () => {
  const gw = await gateway();
  const deep = '{"a":' + '['.repeat(150000) + ']'.repeat(150000) + '}';
  for (const route of ['/api/send-message', '/api/mark-read', '/api/account/webhooks', '/api/v2/contacts']) {
    const r = await gw.request('POST', route, { raw: deep });
    assert.equal(r.status, 400, `${route}: ${r.text}`);
    assert.equal(r.json.error_code, 4000);
    assert.match(r.json.message, /nested deeper than 64 levels/);
  }
  // Unclosed, as well.
  const open = await gw.request('POST', '/api/send-message', { raw: '['.repeat(300000) });
  assert.equal(open.status, 400);
  await healthy(gw);
});

test('a carrier push nested deep is refused like any other failure, and the server stays up', async () => {
  const gw = await gateway();
  const deep = '['.repeat(200000);
  const unknown = await gw.request('POST', '/api/v2/carriers/bluebubbles/+14155550199?token=x', { raw: deep });
  const wrongToken = await gw.request('POST', `/api/v2/carriers/sim/${encodeURIComponent(gw.line)}?token=wrong`, { raw: '{}' });
  assert.equal(unknown.status, wrongToken.status);
  assert.equal(unknown.text, wrongToken.text, 'an unknown line and a wrong token answer alike');
  await healthy(gw);
});

test('a webhook secret or globalSecret holding CR LF is refused with 400 naming the field', async () => {
  const gw = await gateway();
  const inject = 'abc\r\nHost: evil.example\r\n\r\nPOST /smuggled HTTP/1.1';
  let r = await gw.request('POST', '/api/account/webhooks', {
    body: { type: 'receive', webhooks: [{ url: 'http://127.0.0.1:9/cb', secret: inject }] },
  });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.message, /webhooks\[0\]\.secret may not contain CR, LF/);
  r = await gw.request('POST', '/api/account/webhooks', {
    body: { type: 'receive', webhooks: ['http://127.0.0.1:9/cb'], globalSecret: 'a\nb' },
  });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.message, /globalSecret may not contain/);
  r = await gw.request('PUT', '/api/account/webhooks', { body: { webhooks: { receive: [], globalSecret: 'x\u0000y' } } });
  assert.equal(r.status, 400, r.text);
  const stored = await gw.request('GET', '/api/account/webhooks');
  assert.equal(stored.json.webhooks.globalSecret, undefined, 'nothing was stored');
});

test('an account holds at most webhooks.max_per_type webhooks of a type', async () => {
  const gw = await gateway({ webhooks: { ...FAST_CONFIG.webhooks, max_per_type: 2, max_per_account: 3 } });
  const add = (type, urls) => gw.request('POST', '/api/account/webhooks', { body: { type, webhooks: urls } });
  assert.equal((await add('receive', ['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b'])).status, 200);
  assert.equal((await add('receive', ['http://127.0.0.1:9/a'])).status, 200, 'the same URL again adds nothing');
  const third = await add('receive', ['http://127.0.0.1:9/c']);
  assert.equal(third.status, 400);
  assert.match(third.json.message, /at most 2 webhooks of type receive \(webhooks\.max_per_type\)/);
  assert.equal((await add('outbound', ['http://127.0.0.1:9/d'])).status, 200);
  const fourth = await add('outbound', ['http://127.0.0.1:9/e']);
  assert.match(fourth.json.message, /at most 3 webhooks in all/);
});

test('HTTP framing is read strictly: bad transfer codings, obs-fold, CL with TE and HTTP/1.0 with TE get 400 or 501 and the connection closes', async () => {
  const gw = await gateway();
  const body = '{"number":"+12125550100","content":"x"}';
  const cases = [
    ['TE chunked, identity', `POST /api/send-message HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n${body}`, 400],
    ['TE gzip, chunked', `POST /api/send-message HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501],
    ['obs-fold', `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n  b\r\n\r\n`, 400],
    ['CL with TE', `POST /api/send-message HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    ['HTTP/1.0 with TE', `POST /api/send-message HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 400],
    ['bare LF head', `GET /healthz HTTP/1.1\nHost: a\n\n`, 400],
    ['NUL in a header', `GET /healthz HTTP/1.1\r\nHost: a\r\nX: a\u0000b\r\n\r\n`, 400],
  ];
  for (const [name, raw, status] of cases) {
    const r = await exchange(gw, raw);
    assert.equal(r.timedOut, false, `${name}: answered and closed`);
    assert.equal(statusOf(r.data), status, `${name}: ${r.data}`);
    assert.equal((r.data.match(/^HTTP\/1\.[01] \d/gm) ?? []).length, 1, `${name}: one answer, no second request parsed`);
  }
  await healthy(gw);
});

test('every answer carries x-request-id: the client\'s when safe to repeat, else a new one (no client text reaches the header unchecked)', async () => {
  const gw = await gateway();
  const idOf = (res) => res.headers.get('x-request-id');
  const fresh = /^[0-9a-f]{16}$/;
  const ok = await fetch(`${gw.baseURL}/healthz`, { headers: { 'x-request-id': 'req-42.a_b:c' } });
  assert.equal(ok.status, 200);
  assert.equal(idOf(ok), 'req-42.a_b:c', 'a safe id is repeated');
  const a = await fetch(`${gw.baseURL}/healthz`);
  const b = await fetch(`${gw.baseURL}/healthz`);
  assert.match(idOf(a), fresh);
  assert.notEqual(idOf(a), idOf(b), 'each request its own');
  for (const unsafe of ['x'.repeat(129), 'two words', 'quote"d', '<script>', 'caf\u00e9']) {
    const res = await fetch(`${gw.baseURL}/healthz`, { headers: { 'x-request-id': Buffer.from(unsafe).toString('latin1') } });
    assert.match(idOf(res), fresh, `${unsafe} is replaced`);
  }
  const denied = await fetch(`${gw.baseURL}/api/v2/messages`);
  assert.equal(denied.status, 401);
  assert.match(idOf(denied), fresh, 'errors carry one too');
  const missing = await fetch(`${gw.baseURL}/no/such/route`, { headers: { 'x-request-id': 'trace-1' } });
  assert.equal(missing.status, 404);
  assert.equal(idOf(missing), 'trace-1');
  const sent = await fetch(`${gw.baseURL}/api/send-message`, {
    method: 'POST', headers: { ...gw.headers(), 'content-type': 'application/json', 'x-request-id': 'send-7' },
    body: JSON.stringify({ number: '+12125550100', content: 'hi' }),
  });
  assert.equal(sent.status, 200, await sent.clone().text());
  assert.equal(idOf(sent), 'send-7');
  // Refused before a request was read whole, and an event stream's head.
  const refused = await exchange(gw, 'GET /healthz HTTP/1.1\nHost: a\n\n');
  assert.equal(statusOf(refused.data), 400);
  assert.match(refused.data, /\r\nx-request-id: [0-9a-f]{16}\r\n/i);
  const { host, port } = hostPort(gw);
  const head = await new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => socket.write(
      `GET /api/v2/events HTTP/1.1\r\nHost: a\r\nx-request-id: events-1\r\nsb-api-key-id: ${gw.keyId}\r\nsb-api-secret-key: ${gw.secret}\r\n\r\n`));
    let data = '';
    socket.on('data', (d) => {
      data += d.toString('latin1');
      if (data.includes('\r\n\r\n')) { socket.destroy(); resolve(data); }
    });
    socket.on('error', () => resolve(data));
  });
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.match(head, /\r\nX-Request-Id: events-1\r\n/);
});

test('a request cut short is answered within the header or body timeout', async () => {
  const gw = await gateway({ http: { header_timeout: '500ms', body_timeout: '500ms' } });
  const head = await exchange(gw, 'GET /healthz HTTP/1.1\r\nHost: a\r\n', { timeoutMs: 4000 });
  assert.equal(head.timedOut, false);
  assert.equal(statusOf(head.data), 408, head.data);
  // Chunks framed with bare LF never complete; the body timeout answers them.
  const chunks = await exchange(gw, 'POST /api/send-message HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n', { timeoutMs: 4000 });
  assert.equal(chunks.timedOut, false);
  assert.ok([400, 408].includes(statusOf(chunks.data)), chunks.data);
});

test('form bodies get the JSON bodies\' validation: invalid UTF-8 and unsupported fields are refused alike', async () => {
  const gw = await gateway();
  const form = (text) => gw.request('POST', '/api/send-message', {
    raw: text, headers: gw.headers({ 'content-type': 'application/x-www-form-urlencoded' }),
  });
  const bad = await form(`number=%2B12125550100&from_number=${encodeURIComponent(gw.line)}&content=%FF%FE`);
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.json.message, /content is not valid UTF-8/);
  const viaForm = await form(`number=%2B12125550100&from_number=${encodeURIComponent(gw.line)}&content=hi&reply_to=x`);
  const viaJson = await gw.send({ number: '+12125550100', content: 'hi', reply_to: 'x' });
  assert.equal(viaForm.status, viaJson.status);
  assert.equal(viaForm.json.message, viaJson.json.message);
});

test('one address cannot take every connection: past its bound it gets 503, and other clients are answered promptly (1,500-connection slow-header flood)', async () => {
  const gw = await gateway({ http: { max_connections_per_address: 256, header_timeout: '30s' } });
  const { host, port } = hostPort(gw);
  const sockets = [];
  let refused = 0;
  await Promise.all(Array.from({ length: 1500 }, () => new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: '127.0.0.2' });
    sockets.push(s);
    let data = '';
    s.on('connect', () => { s.write('GET /healthz HTTP/1.1\r\nHost: a\r\n'); setTimeout(resolve, 200); });
    s.on('data', (d) => { data += d; });
    s.on('close', () => { if (statusOf(data) === 503) refused += 1; resolve(); });
    s.on('error', resolve);
  })));
  cleanups.push(() => sockets.forEach((s) => s.destroy()));
  assert.ok(refused >= 1500 - 256, `refused ${refused}`);
  const ms = await healthy(gw, 2000);
  assert.ok(ms < 1000, `another address was answered in ${ms} ms`);
  const r = await exchange(gw, 'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n', { localAddress: '127.0.0.2', timeoutMs: 2000 });
  assert.equal(statusOf(r.data), 503, 'the flooding address itself is refused');
  assert.match(r.data, /Retry-After: 1/);
});

test('media files are streamed from disk: 30 clients that do not read a large file leave memory flat', async () => {
  // A large file already stored when the server starts (uploading 64 MB would only slow the test).
  const dataDir = makeDataDir();
  mkdirSync(path.join(dataDir, 'media', 'a1'), { recursive: true });
  const name = '00000000-0000-4000-8000-000000000000.mp4';
  writeFileSync(path.join(dataDir, 'media', 'a1', name), Buffer.alloc(64 << 20, 7));
  const gw = await gateway({}, { dataDir });
  const before = rssKb(gw);
  const { host, port } = hostPort(gw);
  const sockets = await Promise.all(Array.from({ length: 30 }, () => new Promise((resolve) => {
    const s = net.connect({ host, port }, () => { s.write(`GET /media/${name} HTTP/1.1\r\nHost: a\r\n\r\n`); s.pause(); resolve(s); });
    s.on('error', () => {});
  })));
  cleanups.push(() => sockets.forEach((s) => s.destroy()));
  // The server has written until the kernel took no more: every reader's receive queue holds
  // data and the server's send queue to it is not empty (a server that held the file in memory
  // would hold it by now).
  const blocked = await eventually(() => {
    const queues = tcpQueues(port);
    return sockets.filter((s) => { const q = queues.get(s.localPort); return q && q.tx > 0 && q.rx > 0; }).length;
  }, (n) => n === sockets.length, { timeoutMs: 10000 });
  assert.equal(blocked, sockets.length, 'every reader\'s connection is full');
  const grown = rssKb(gw) - before;
  assert.ok(grown < 64 * 1024, `RSS grew by ${grown} kB for 30 readers of a 64 MB file`);
  // A reader that reads gets the whole file.
  const res = await fetch(`${gw.baseURL}/media/${name}`);
  assert.equal(res.status, 200);
  assert.equal((await res.arrayBuffer()).byteLength, 64 << 20);
});

// utime + stime of the server process, in seconds.
function cpuSeconds(gw) {
  const fields = readFileSync(`/proc/${gw.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

test('out of file descriptors, the server pauses accepting instead of spinning, and serves again once they are back', async () => {
  // prlimit runs the server with 64 descriptors; the flood takes what is left.
  const gw = await gateway({ http: { header_timeout: '30s' } }, { wrapper: ['prlimit', '--nofile=64:64', '--'] });
  const { host, port } = hostPort(gw);
  const flood = [];
  for (let i = 0; i < 120; i += 1) {
    const s = net.connect({ host, port, localAddress: '127.0.0.3' });
    s.on('error', () => {});
    s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\n'));
    flood.push(s);
  }
  cleanups.push(() => flood.forEach((s) => s.destroy()));
  await new Promise((r) => setTimeout(r, 500));
  const before = cpuSeconds(gw);
  await new Promise((r) => setTimeout(r, 1500));
  const used = cpuSeconds(gw) - before;
  assert.ok(used < 0.5, `the server used ${used} s of CPU in 1.5 s while out of descriptors`);
  flood.forEach((s) => s.destroy());
  const ms = await healthy(gw, 3000);
  assert.ok(ms < 1500, `answered ${ms} ms after the descriptors came back`);
  assert.match(gw.output, /cannot accept connections .*pausing 100 ms/);
});

test('an event stream that does not read is closed, and frees its place, instead of being buffered without end', async () => {
  const gw = await gateway({ events: { max_streams_per_account: 1, max_queued_frames: 50 }, http: { send_timeout: '1s' } });
  const { host, port } = hostPort(gw);
  const stalled = net.connect({ host, port }, () => {
    stalled.write(`GET /api/v2/events HTTP/1.1\r\nHost: a\r\nsb-api-key-id: ${gw.keyId}\r\nsb-api-secret-key: ${gw.secret}\r\n\r\n`);
    stalled.pause();  // never reads
  });
  stalled.on('error', () => {});
  cleanups.push(() => stalled.destroy());
  const open = () => fetch(`${gw.baseURL}/api/v2/events`, { headers: gw.headers() });
  // The stream holds the account's one place.
  let other;
  for (let i = 0; i < 100; i += 1) {
    other = await open();
    if (other.status === 429) break;
    await other.body?.cancel();
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(other.status, 429, 'the stalled stream holds the place');
  const before = rssKb(gw);
  // Large events (each message's content rides in several of them) until the stream is dropped.
  const content = 'x'.repeat(18000);
  const freed = await eventually(async () => {
    await Promise.all(Array.from({ length: 20 }, () => gw.send({ number: '+12125550100', content })));
    const r = await open();
    if (r.status === 200) return r;
    await r.body?.cancel();
    return undefined;
  }, Boolean, { timeoutMs: 20000, intervalMs: 0 });
  assert.ok(freed, 'the stalled stream was closed and its place freed');
  await freed.body.cancel();
  const grown = rssKb(gw) - before;
  assert.ok(grown < 100 * 1024, `RSS grew by ${grown} kB`);
});

test('an account holds at most events.max_streams_per_account event streams', async () => {
  const gw = await gateway({ events: { max_streams_per_account: 2 } });
  const open = () => fetch(`${gw.baseURL}/api/v2/events`, { headers: gw.headers() });
  const a = await open();
  const b = await open();
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  const c = await open();
  assert.equal(c.status, 429);
  assert.ok(c.headers.get('retry-after'));
  assert.match((await c.json()).message, /events\.max_streams_per_account/);
  await a.body.cancel();
  // The closed stream frees its place (the server notices the close at its next write).
  let d;
  for (let i = 0; i < 50; i += 1) {
    await gw.send({ number: '+12125550100', content: 'wake the streams' });
    d = await open();
    if (d.status === 200) break;
    await d.body?.cancel();
  }
  assert.equal(d.status, 200);
  await b.body.cancel();
  await d.body.cancel();
});

test('a bulk contacts request holds at most contacts.max_bulk_items entries, and one account\'s media at most media.max_account_bytes', async () => {
  const gw = await gateway({ contacts: { max_bulk_items: 2 }, media: { max_account_bytes: 10 } });
  const three = await gw.request('POST', '/api/v2/contacts/bulk', {
    body: { contacts: [{ phone: '+12125550601' }, { phone: '+12125550602' }, { phone: '+12125550603' }] },
  });
  assert.equal(three.status, 400, three.text);
  assert.match(three.json.message, /contacts\.max_bulk_items/);
  // A file server with a 10-byte and an 11-byte file; the account may keep 10 bytes.
  const files = http.createServer((req, res) => {
    const body = req.url.startsWith('/ten') ? '0123456789' : '0123456789A';
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length });
    res.end(body);
  });
  await new Promise((r) => files.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => files.close(r)));
  const base = `http://127.0.0.1:${files.address().port}`;
  const upload = (name) => gw.request('POST', '/api/upload-media-object', { body: { media_url: `${base}/${name}` } });
  const tooBig = await upload('eleven.jpg');
  assert.equal(tooBig.status, 400, 'an upload is capped at what the account has left');
  const ten = await upload('ten.jpg');
  assert.equal(ten.status, 201, ten.text);
  const full = await upload('ten-again.jpg');
  assert.equal(full.status, 413, full.text);
  assert.match(full.json.message, /media\.max_account_bytes/);
});

test('repeated wrong secrets from one address are answered 429 without checking, other keys are not', async () => {
  const gw = await gateway({ auth: { max_failures_per_minute: 5 } });
  const wrong = gw.headers({ 'sb-api-secret-key': 'wrong' });
  for (let i = 0; i < 5; i += 1) {
    assert.equal((await gw.request('GET', '/api/v2/messages', { headers: wrong })).status, 401);
  }
  const throttled = await gw.request('GET', '/api/v2/messages', { headers: wrong });
  assert.equal(throttled.status, 429);
  assert.ok(Number(throttled.headers.get('retry-after')) > 0);
  const right = await gw.request('GET', '/api/v2/messages');
  assert.equal(right.status, 429, 'the pair is refused without the secret being checked');
  const other = await gw.request('GET', '/api/v2/messages', { headers: gw.headers({ 'sb-api-key-id': 'another-key', 'sb-api-secret-key': 'x' }) });
  assert.equal(other.status, 401, 'another key id is not throttled');
});

test('/metrics names no line unless metrics.per_line, and asks for its token when one is set', async () => {
  const quiet = await gateway({ metrics: { per_line: false } });
  const text = await quiet.metrics();
  assert.doesNotMatch(text, /\+1415/);
  assert.match(text, /bluegate_queue_depth \d+/);
  const locked = await gateway({ metrics: { token: 's3cret-token' } });
  assert.equal((await fetch(`${locked.baseURL}/metrics`)).status, 401);
  const ok = await fetch(`${locked.baseURL}/metrics`, { headers: { authorization: 'Bearer s3cret-token' } });
  assert.equal(ok.status, 200);
});

test('listening beyond loopback refuses loopback webhook and media targets unless the config allows them', async () => {
  const gw = await gateway({}, { listen: '0.0.0.0:0' });
  assert.match(gw.output, /loopback refused/);
  const r = await gw.request('POST', '/api/upload-media-object', { body: { media_url: `http://127.0.0.1:${hostPort(gw).port}/metrics.jpg` } });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.message, /loopback/);
  const local = await gateway();
  assert.match(local.output, /loopback allowed/);
});

test('the data directory is 0700 and the database files 0600', async () => {
  const gw = await gateway();
  await gw.send({ number: '+12125550100', content: 'write something' });
  assert.equal(statSync(gw.dataDir).mode & 0o777, 0o700);
  for (const f of readdirSync(gw.dataDir).filter((n) => n.startsWith('bluegate.db'))) {
    assert.equal(statSync(path.join(gw.dataDir, f)).mode & 0o777, 0o600, f);
  }
});

// POST /api/upload-media-object (SPEC §4, issue #5): the file is fetched from a local file
// server (streamed to disk, size-capped, through the webhooks' address policy), stored under the
// data dir and served back at the returned media_url.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Gateway, FAST_CONFIG } from './lib/gateway.mjs';
import Sendblue from 'sendblue';

const bytes = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256));
const FILES = {
  '/pic.jpg': bytes(3000, 7),
  '/voice.caf': bytes(500, 3),
  '/big.jpg': bytes(5000, 1),
};

let files;
const heads = [];
let base;
let gw;
let client;
before(async () => {
  files = http.createServer((req, res) => {
    // /declared/<bytes>.mp4 declares a size without sending it (only HEAD is expected).
    const declared = req.url.match(/^\/declared\/(\d+)\.mp4$/);
    if (declared) {
      heads.push(req.method);
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': declared[1] });
      return res.end();
    }
    // /chunked/<bytes>.mp4 sends that many bytes without declaring a length.
    const chunked = req.url.match(/^\/chunked\/(\d+)\.mp4$/);
    if (chunked) {
      res.writeHead(200, { 'content-type': 'video/mp4', 'transfer-encoding': 'chunked' });
      if (req.method === 'HEAD') return res.end();
      let left = Number(chunked[1]);
      const piece = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, piece.length);
          left -= n;
          if (!res.write(piece.subarray(0, n))) return res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    if (req.url === '/slow.jpg') return;  // never answers
    const body = FILES[req.url];
    if (!body) {
      res.writeHead(404);
      return res.end('no such file');
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  await new Promise((r) => files.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${files.address().port}`;
  gw = await new Gateway({ config: { ...FAST_CONFIG, media: { max_upload_bytes: 4096 } } }).start();
  client = new Sendblue({ apiKey: gw.keyId, apiSecret: gw.secret, baseURL: gw.baseURL });
});
after(async () => {
  await gw.stop();
  gw.cleanup();
  files.close();
});

test('an uploaded file is stored and served back byte for byte, voice notes included', async () => {
  for (const [name, type] of [['/pic.jpg', 'image/jpeg'], ['/voice.caf', 'audio/x-caf']]) {
    const up = await client.mediaObjects.upload({ media_url: base + name });
    assert.equal(up.status, 'OK');
    assert.equal(up.message, 'File uploaded successfully');
    assert.match(up.mediaObjectId, /^[0-9a-f-]{36}$/);
    assert.ok(up.media_url.startsWith(`${gw.baseURL}/media/${up.mediaObjectId}.`), up.media_url);
    const served = await fetch(up.media_url);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), type);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), FILES[name]);
  }
  const raw = await gw.request('POST', '/api/upload-media-object', { body: { media_url: `${base}/pic.jpg` } });
  assert.equal(raw.status, 201);
});

test('bad media URLs are refused with 400 Invalid media URL, saying why', async () => {
  const cases = [
    [{ media_url: `${base}/big.jpg` }, /Invalid media URL: the file is over 4096 bytes/],
    [{ media_url: `${base}/missing.png` }, /Invalid media URL: the server answered HTTP 404/],
    [{ media_url: `${base}/noextension` }, /Invalid media URL: its path must end in a file extension/],
    [{ media_url: 'ftp://example.com/a.jpg' }, /Invalid media URL: .* is not an http or https URL/],
    [{}, /Invalid media URL: media_url is required/],
  ];
  for (const [body, message] of cases) {
    const r = await gw.request('POST', '/api/upload-media-object', { body });
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json.status, 'ERROR');
    assert.match(r.json.message, message);
  }
  const gone = await fetch(`${gw.baseURL}/media/00000000-0000-0000-0000-000000000000.jpg`);
  assert.equal(gone.status, 404);
  const sneaky = await fetch(`${gw.baseURL}/media/..%2Fbluegate.db`);
  assert.equal(sneaky.status, 404);
});

test('before hand-off an attachment must fit its service: SMS 5 MB, iMessage 100 MB (asked with HEAD)', async () => {
  const mb = 1024 * 1024;
  const sms = await client.messages.send({ number: '+12125550101', from_number: gw.line, content: 'video', media_url: `${base}/declared/${6 * mb}.mp4` });
  const failed = await gw.waitForStatus(sms.message_handle, (m) => m.status === 'ERROR');
  assert.equal(failed.error_code, 10001);
  assert.match(failed.error_message, /over the 5 MB SMS limit, and it could not be compressed to fit: it could not be fetched/);
  const imessage = await client.messages.send({ number: '+12125550100', from_number: gw.line, content: 'video', media_url: `${base}/declared/${6 * mb}.mp4` });
  await gw.waitForStatus(imessage.message_handle, (m) => m.status === 'DELIVERED');
  const huge = await client.messages.send({ number: '+12125550100', from_number: gw.line, content: 'film', media_url: `${base}/declared/${101 * mb}.mp4` });
  const tooBig = await gw.waitForStatus(huge.message_handle, (m) => m.status === 'ERROR');
  assert.match(tooBig.error_message, /over the 100 MB iMessage limit/);
  // Only the SMS one is fetched (to be compressed: this server declares a size it never sends).
  assert.deepEqual(heads.filter((m) => m !== 'HEAD'), ['GET'], `requests: ${heads}`);
  assert.ok(heads.length >= 4, `requests: ${heads}`);
});

test('a media URL that declares no size is measured by a streamed GET; a server that never answers times out', async () => {
  const mb = 1024 * 1024;
  const sms = await client.messages.send({ number: '+12125550101', from_number: gw.line, content: 'video', media_url: `${base}/chunked/${6 * mb}.mp4` });
  const failed = await gw.waitForStatus(sms.message_handle, (m) => m.status === 'ERROR');
  assert.match(failed.error_message, /over the 5 MB SMS limit/);
  const small = await client.messages.send({ number: '+12125550101', from_number: gw.line, content: 'clip', media_url: `${base}/chunked/${mb}.mp4` });
  await gw.waitForStatus(small.message_handle, (m) => m.status === 'SENT');
  const slow = await gw.request('POST', '/api/upload-media-object', { body: { media_url: `${base}/slow.jpg` } });
  assert.equal(slow.status, 400);
  assert.match(slow.json.message, /Invalid media URL: timed out/);
});

// POST /api/upload-file (issue #15, part 4): a multipart/form-data `file`, as the official CLI's
// `send --media` uploads it; its bounds (http.max_upload_bytes, http.max_concurrent_uploads).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Gateway, FAST_CONFIG } from './lib/gateway.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function gateway(http = {}) {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, http } }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  return gw;
}

function upload(gw, bytes, name = 'photo.png') {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  return fetch(`${gw.baseURL}/api/upload-file`, {
    method: 'POST',
    headers: { 'sb-api-key-id': gw.keyId, 'sb-api-secret-key': gw.secret },
    body: form,
  });
}

test('a file sent as a form comes back at its media_url, byte for byte, and can be sent', async () => {
  const gw = await gateway();
  const bytes = Buffer.alloc(3_000_000);  // larger than the 1 MiB bound of other requests
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
  const res = await upload(gw, bytes);
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  assert.equal(body.status, 'OK');
  assert.equal(body.bytes, bytes.length);
  assert.match(body.media_url, /\/media\/[0-9a-f-]+\.png$/);
  const back = Buffer.from(await (await fetch(body.media_url)).arrayBuffer());
  assert.ok(back.equals(bytes), 'the same bytes');
  const sent = await gw.send({ number: '+12125550100', content: 'look', media_url: body.media_url });
  assert.equal(sent.status, 200, sent.text);
  await gw.waitForStatus(sent.json.message_handle, (m) => m.status === 'DELIVERED');
});

test('a body that is not a form, or has no file field, is refused saying so', async () => {
  const gw = await gateway();
  const json = await gw.request('POST', '/api/upload-file', { body: { file: 'x' } });
  assert.equal(json.status, 400);
  assert.match(json.json.message, /multipart\/form-data/);
  const form = new FormData();
  form.append('other', 'x');
  const res = await fetch(`${gw.baseURL}/api/upload-file`, { method: 'POST', headers: { 'sb-api-key-id': gw.keyId, 'sb-api-secret-key': gw.secret }, body: form });
  assert.equal(res.status, 400);
  assert.match((await res.json()).message, /file is required/);
});

test('past http.max_upload_bytes the upload is refused with 413', async () => {
  const gw = await gateway({ max_upload_bytes: 100_000 });
  const res = await upload(gw, Buffer.alloc(200_000, 1));
  assert.equal(res.status, 413);
});

test('past http.max_concurrent_uploads another upload waits its turn: 503 with Retry-After', async () => {
  const gw = await gateway({ max_concurrent_uploads: 1, body_timeout: '30s' });
  const [host, port] = gw.address.split(':');
  // One upload whose body never finishes holds the only place.
  const slow = net.connect({ host, port: Number(port) }, () => {
    slow.write(`POST /api/upload-file HTTP/1.1\r\nHost: a\r\nsb-api-key-id: ${gw.keyId}\r\nsb-api-secret-key: ${gw.secret}\r\n` +
      'Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n--B\r\n');
  });
  slow.on('error', () => {});
  cleanups.push(() => slow.destroy());
  let res;
  for (let i = 0; i < 100; i++) {
    res = await upload(gw, Buffer.alloc(10, 1));
    if (res.status === 503) break;
    await new Promise((r) => setTimeout(r, 20));  // until the slow upload has its place
  }
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '1');
  assert.match((await res.json()).message, /http\.max_concurrent_uploads/);
  slow.destroy();
  // Its place is free again once it goes.
  let again;
  for (let i = 0; i < 100; i++) {
    again = await upload(gw, Buffer.alloc(10, 1));
    if (again.status === 200) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(again.status, 200);
});

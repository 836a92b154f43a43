// SMS fallback compresses large attachments (issue #15 part 2): real media made by the test with
// the ffmpeg command (a noisy photo, a noisy PNG, a six-second video with sound), sent to the
// simulator's SMS-only number; the gateway compresses each below 5 MB, serves the copy, sends its
// URL and keeps the app's URL as original_media_url.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Gateway, FAST_CONFIG } from './lib/gateway.mjs';
import Sendblue from 'sendblue';

const MB = 1024 * 1024;
const SMS_ONLY = '+12125550101';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluegate-compress-'));
const ffmpeg = (...args) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
const noise = (size) => `color=gray:s=${size},noise=alls=100:allf=t`;

let files;
const gets = new Map();
let base;
let gw;
let client;
before(async () => {
  ffmpeg('-f', 'lavfi', '-i', noise('3000x2000'), '-frames:v', '1', '-q:v', '1', path.join(dir, 'photo.jpg'));
  ffmpeg('-f', 'lavfi', '-i', noise('2000x1500'), '-frames:v', '1', path.join(dir, 'noise.png'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25,noise=alls=20:allf=t', '-f', 'lavfi', '-i',
    'sine=frequency=440', '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30', '-c:a', 'aac',
    '-shortest', path.join(dir, 'clip.mp4'));
  fs.writeFileSync(path.join(dir, 'report.pdf'), Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(6 * MB, 0x41)]));
  for (const name of ['photo.jpg', 'noise.png', 'clip.mp4', 'report.pdf']) {
    assert.ok(fs.statSync(path.join(dir, name)).size > 5 * MB, `${name} is over SMS's limit`);
  }
  files = http.createServer((req, res) => {
    const file = path.join(dir, path.basename(req.url));
    if (!fs.existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    // Under /chunked/ a file is sent with no declared size, and its GETs are counted.
    if (req.url.startsWith('/chunked/')) {
      if (req.method === 'GET') gets.set(req.url, (gets.get(req.url) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      if (req.method === 'HEAD') return res.end();
      return fs.createReadStream(file).pipe(res);
    }
    res.writeHead(200, { 'content-length': fs.statSync(file).size });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => files.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${files.address().port}`;
  gw = await new Gateway({ config: { ...FAST_CONFIG, media: { compress_threads: 1, max_pending_compressions: 4 } } }).start();
  client = new Sendblue({ apiKey: gw.keyId, apiSecret: gw.secret, baseURL: gw.baseURL });
});
after(async () => {
  await gw?.stop();
  gw?.cleanup();
  files?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const gone = (m) => m.status === 'SENT' || m.status === 'DELIVERED' || m.status === 'ERROR';

async function sendAndWait(name) {
  const sent = await client.messages.send({ number: SMS_ONLY, from_number: gw.line, content: name, media_url: `${base}/${name}` });
  return gw.waitForStatus(sent.message_handle, gone, 60000);
}

async function served(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return { type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
}

test('a 6 MB photo and an 8 MB PNG to an SMS-only number go as JPEGs under 5 MB', async () => {
  for (const name of ['photo.jpg', 'noise.png']) {
    const m = await sendAndWait(name);
    assert.notEqual(m.status, 'ERROR', `${name}: ${m.error_message}`);
    assert.equal(m.service, 'SMS');
    assert.equal(m.was_downgraded, true);
    assert.equal(m.original_media_url, `${base}/${name}`);
    assert.equal(m.media_url, `${gw.baseURL}/media/${m.message_handle}-sms.jpg`);
    const copy = await served(m.media_url);
    assert.equal(copy.type, 'image/jpeg');
    assert.ok(copy.body.length <= 5 * MB, `${name}: ${copy.body.length} bytes`);
    assert.deepEqual([...copy.body.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  }
});

test('a 9 MB video goes as an H.264 MP4 under 5 MB with its sound and length', async () => {
  const m = await sendAndWait('clip.mp4');
  assert.notEqual(m.status, 'ERROR', m.error_message);
  assert.equal(m.media_url, `${gw.baseURL}/media/${m.message_handle}-sms.mp4`);
  const copy = await served(m.media_url);
  assert.equal(copy.type, 'video/mp4');
  assert.ok(copy.body.length <= 5 * MB, `${copy.body.length} bytes`);
  const file = path.join(dir, 'copy.mp4');
  fs.writeFileSync(file, copy.body);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', file]));
  assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.ok(Math.abs(Number(probe.format.duration) - 6) < 0.3, probe.format.duration);
});

test('what cannot be compressed fails with 10001 saying why; iMessage is never compressed', async () => {
  const m = await sendAndWait('report.pdf');
  assert.equal(m.status, 'ERROR');
  assert.equal(m.error_code, 10001);
  assert.match(m.error_message, /over the 5 MB SMS limit, and it could not be compressed to fit: only images/);
  assert.equal(m.media_url, `${base}/report.pdf`);
  assert.equal(m.original_media_url, undefined);
  const imessage = await client.messages.send({ number: '+12125550100', from_number: gw.line, content: 'photo', media_url: `${base}/photo.jpg` });
  const done = await gw.waitForStatus(imessage.message_handle, (x) => x.status === 'DELIVERED');
  assert.equal(done.media_url, `${base}/photo.jpg`, 'iMessage takes 100 MB: sent as it is');
  const metrics = await gw.metrics();
  assert.match(metrics, /bluegate_media_compressions_total\{result="ok"\} 3/);
  assert.match(metrics, /bluegate_media_compressions_total\{result="failed"\} 1/);
});

test("an account whose media storage is full gets no copy, and the message says so", async () => {
  const small = await new Gateway({ config: { ...FAST_CONFIG, media: { max_account_bytes: 1 * MB } } }).start();
  try {
    const c = new Sendblue({ apiKey: small.keyId, apiSecret: small.secret, baseURL: small.baseURL });
    const sent = await c.messages.send({ number: SMS_ONLY, from_number: small.line, content: 'x', media_url: `${base}/photo.jpg` });
    const m = await small.waitForStatus(sent.message_handle, gone, 60000);
    assert.equal(m.status, 'ERROR');
    assert.match(m.error_message, /media storage is full \(media\.max_account_bytes\)/);
  } finally {
    await small.stop();
    small.cleanup();
  }
});

test('an attachment that declares no size is downloaded once: the size check\'s copy is what is compressed', async () => {
  const sent = await client.messages.send({ number: SMS_ONLY, from_number: gw.line, content: 'chunked', media_url: `${base}/chunked/photo.jpg` });
  const m = await gw.waitForStatus(sent.message_handle, gone, 60000);
  assert.notEqual(m.status, 'ERROR', m.error_message);
  assert.equal(m.media_url, `${gw.baseURL}/media/${m.message_handle}-sms.jpg`);
  assert.equal(m.original_media_url, `${base}/chunked/photo.jpg`);
  assert.equal(gets.get('/chunked/photo.jpg'), 1, 'one GET for the size and the compression');
  const scratch = fs.readdirSync(path.join(gw.dataDir, 'media')).filter((f) => f.startsWith('.'));
  assert.deepEqual(scratch, [], 'no download is left behind');
});

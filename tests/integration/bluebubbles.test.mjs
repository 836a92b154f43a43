// iMessage through BlueBubbles (issue #6) against a fake BlueBubbles server that follows the
// server's REST and webhook contract (lib/bluebubbles.mjs): the Mac is what cannot run here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, sendWithCallback, callbacksUntil } from './lib/stack.mjs';
import { cli, FAST_CONFIG } from './lib/gateway.mjs';
import { FakeBlueBubbles } from './lib/bluebubbles.mjs';

const CONFIG = { ...FAST_CONFIG, lines: { ...FAST_CONFIG.lines, resolve_timeout: '30s' } };
const ACCOUNT = 'dev@bluegate.local';

let stack;
let gw;
let rx;
let client;
let nextLine = 40;
const servers = [];

before(async () => {
  stack = await startStack({ config: CONFIG });
  ({ gw, rx, client } = stack);
  await client.webhooks.create({ type: 'receive', webhooks: [`${rx.url}/in`] });
  await client.webhooks.create({ type: 'typing_indicator', webhooks: [`${rx.url}/typing`] });
  await client.webhooks.create({ type: 'line_blocked', webhooks: [`${rx.url}/blocked`] });
});
after(async () => {
  await stack.stop();
  for (const s of servers) await s.stop().catch(() => {});
});

// A fake server and a line on it; waits until the running gateway has registered its webhook.
async function addLine(serverOptions = {}, extra = {}) {
  const bb = await new FakeBlueBubbles(serverOptions).start();
  servers.push(bb);
  const number = `+1415555${String(2000 + nextLine++)}`;
  const r = cli(['lines', 'add', '--account', ACCOUNT, '--number', number, '--carrier', 'bluebubbles',
    ...bb.options({ poll_interval: '300ms', send_timeout: '1s', ...extra })], { dataDir: gw.dataDir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /password=\*\*\*/);
  await bb.waitFor((s) => s.webhooks.length === 1, 10000, 'the webhook registration');
  return { bb, line: number };
}

const send = (line, number, content, extra) => sendWithCallback(gw, rx, line, number, content, extra);
const callbacks = (handle, status, timeoutMs) => callbacksUntil(rx, handle, status, timeoutMs);

test('lines add --carrier bluebubbles checks its options', () => {
  const run = (args) => cli(['lines', 'add', '--account', ACCOUNT, '--number', '+14155559902', '--carrier', 'bluebubbles', ...args], { dataDir: gw.dataDir });
  const missing = run(['--option', 'url=http://10.0.0.5:1234']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /carrier bluebubbles needs option\(s\) password \(required: url, password; valid options: url, password, private_api, webhook_url, poll_interval, send_timeout\)/);
  const badUrl = run(['--option', 'url=10.0.0.5:1234', '--option', 'password=x']);
  assert.match(badUrl.stderr, /option url must be the server's http:\/\/ or https:\/\/ address/);
  const badBool = run(['--option', 'url=http://h', '--option', 'password=x', '--option', 'private_api=maybe']);
  assert.match(badBool.stderr, /option private_api must be true or false, not "maybe"/);
});

test('SDK send -> POST /api/v1/message/text with tempGuid = handle -> SENT -> DELIVERED from its webhooks', async () => {
  const { bb, line } = await addLine();
  const w = bb.webhooks[0];
  assert.deepEqual(w.events, ['new-message', 'updated-message', 'message-send-error', 'typing-indicator']);
  assert.match(w.url, new RegExp(`/api/v2/carriers/bluebubbles/\\${line}\\?token=[0-9a-f]{32}$`));
  const sent = await client.messages.send({ number: '+12125550701', from_number: line, content: 'Hello from a Mac', status_callback: `${rx.url}/cb` });
  const statuses = await callbacks(sent.message_handle, 'DELIVERED');
  assert.deepEqual(statuses.slice(statuses.indexOf('ACCEPTED')), ['ACCEPTED', 'SENT', 'DELIVERED']);
  assert.equal(bb.sends.length, 1);
  assert.deepEqual(bb.sends[0], { chatGuid: 'iMessage;-;+12125550701', tempGuid: sent.message_handle, message: 'Hello from a Mac', method: 'apple-script' });
  assert.ok(bb.calls.every((c) => c.query.password === bb.password), 'the password goes as its API requires');
  assert.doesNotMatch(gw.output, new RegExp(bb.password), 'and is never logged');
  const m = (await client.messages.retrieve(sent.message_handle)).data;
  assert.equal(m.service, 'iMessage');
});

test('a send that times out but went through is found on the server before any re-send, even with webhooks lost', async () => {
  const { bb, line } = await addLine();
  bb.hangNext = 1;
  bb.loseWebhooks = true;
  const metricsBefore = Number((await gw.metrics()).match(/bluegate_carrier_resubmits_total (\d+)/)[1]);
  const r = await send(line, '+12125550702', 'slow but sent');
  await callbacks(r.json.message_handle, 'DELIVERED', 20000);
  assert.equal(bb.sends.length, 1, 'never sent twice');
  const resubmits = Number((await gw.metrics()).match(/bluegate_carrier_resubmits_total (\d+)/)[1]);
  assert.equal(resubmits, metricsBefore);
  assert.ok(bb.calls.some((c) => c.path === '/api/v1/message/query'), 'found by polling the query endpoint');
});

test('a send that never reached Messages is re-sent once nothing turns up', async () => {
  const { bb, line } = await addLine();
  // The server answers nothing and sends nothing: the gateway looks for it, then sends again.
  const original = bb.sendText.bind(bb);
  let first = true;
  bb.sendText = (data, json, res) => {
    if (first) { first = false; bb.sends.push(data); res.socket.setTimeout(0); return; }
    return original(data, json, res);
  };
  const r = await send(line, '+12125550703', 'lost on the way');
  await callbacks(r.json.message_handle, 'DELIVERED', 30000);
  assert.equal(bb.sends.length, 2);
  assert.equal(bb.rows.filter((x) => x.text === 'lost on the way').length, 1, 'the phone got it once');
});

test('lost webhooks: delivery is learnt from the query poll', async () => {
  const { bb, line } = await addLine();
  bb.loseWebhooks = true;
  const r = await send(line, '+12125550704', 'nobody tells');
  await callbacks(r.json.message_handle, 'DELIVERED');
  assert.ok(bb.webhookPosts >= 2, 'the server did try its webhooks');
});

test('a failed send is ERROR 10001 with what Messages said', async () => {
  const { bb, line } = await addLine();
  bb.failNext = 1;
  const r = await send(line, '+12125550705', 'will fail');
  await callbacks(r.json.message_handle, 'ERROR');
  const m = (await gw.status(r.json.message_handle)).json;
  assert.equal(m.error_code, 10001);
  assert.match(m.error_detail, /22/);
  assert.equal(bb.sends.length, 1);
});

test('inbound messages and typing come in through the webhook; a wrong token is refused', async () => {
  const { bb, line } = await addLine();
  bb.incoming({ from: '+12125550706', text: 'Hi from an iPhone' });
  const got = await rx.waitFor((xs) => xs.some((x) => x.path === '/in' && x.json?.content === 'Hi from an iPhone'));
  const m = got.find((x) => x.path === '/in' && x.json?.content === 'Hi from an iPhone').json;
  assert.equal(m.from_number, '+12125550706');
  assert.equal(m.to_number, line);
  assert.equal(m.service, 'iMessage');
  bb.typing({ from: '+12125550706', display: true });
  await rx.waitFor((xs) => xs.some((x) => x.path === '/typing' && x.json?.number === '+12125550706' && x.json?.is_typing === true));
  const forged = await fetch(`${gw.baseURL}/api/v2/carriers/bluebubbles/${encodeURIComponent(line)}?token=nope`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'new-message', data: { text: 'forged', isFromMe: false, handle: { address: '+12125550799' } } }),
  });
  assert.equal(forged.status, 401);
  // An unknown line answers as a wrong token does (issue #13): a caller cannot list the lines.
  const noLine = await fetch(`${gw.baseURL}/api/v2/carriers/bluebubbles/+19995550000?token=x`, { method: 'POST', body: '{}' });
  assert.equal(noLine.status, 401);
  assert.equal(await noLine.text(), await forged.text());
});

test('Private API: availability lookup, effects, typing and reactions; without it they say so', async () => {
  const { bb, line } = await addLine({ privateApi: true }, { private_api: 'true' });
  bb.available = (address) => address !== '+12125550708';
  const first = await send(line, '+12125550707', 'with confetti', { send_style: 'confetti' });
  await callbacks(first.json.message_handle, 'DELIVERED');
  assert.equal(bb.sends.at(-1).effectId, 'com.apple.messages.effect.CKConfettiEffect');
  assert.equal(bb.sends.at(-1).method, 'private-api');
  const imessage = await gw.request('GET', `/api/evaluate-service?number=${encodeURIComponent('+12125550707')}`);
  assert.equal(imessage.json.service, 'iMessage');
  const sms = await send(line, '+12125550708', 'goes green');
  await callbacks(sms.json.message_handle, 'SENT');  // SMS ends at SENT (SPEC)
  assert.equal(bb.sends.at(-1).chatGuid, 'SMS;-;+12125550708', 'the lookup chose SMS');
  const typing = await gw.request('POST', '/api/send-typing-indicator', { body: { number: '+12125550707', from_number: line } });
  assert.equal(typing.json.status, 'SENT', typing.text);
  assert.ok(bb.calls.some((c) => c.method === 'POST' && c.path === '/api/v1/chat/iMessage%3B-%3B%2B12125550707/typing'));
  const reaction = await gw.request('POST', '/api/send-reaction', { body: { message_handle: first.json.message_handle, reaction: 'love' } });
  assert.equal(reaction.status, 200, reaction.text);

  const plain = await addLine();
  const r = await send(plain.line, '+12125550709', 'plain');
  await callbacks(r.json.message_handle, 'DELIVERED');
  const noTyping = await gw.request('POST', '/api/send-typing-indicator', { body: { number: '+12125550709', from_number: plain.line } });
  assert.equal(noTyping.json.status, 'ERROR');
  assert.match(noTyping.json.error_message, /Private API/);
});

test('attachments go through the attachment endpoint, the text after them', async () => {
  const { bb, line } = await addLine();
  const picture = Buffer.alloc(1000, 7);
  picture[0] = 0x89;  // not UTF-8: the bytes must arrive as they are
  const media = (await import('node:http')).createServer((req, res) => {
    if (!req.url.startsWith('/pictures/')) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': picture.length });
    res.end(req.method === 'HEAD' ? undefined : picture);
  });
  await new Promise((r) => media.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${media.address().port}/pictures/pic.png?size=large`;
    const r = await send(line, '+12125550711', 'look at this', { media_url: url });
    await rx.waitFor((xs) => xs.some((x) => x.path === '/cb' && x.json?.message_handle === r.json.message_handle && ['DELIVERED', 'ERROR'].includes(x.json.status)));
    const done = (await gw.status(r.json.message_handle)).json;
    assert.equal(done.status, 'DELIVERED', done.error_detail);
    assert.equal(bb.attachments.length, 1);
    const a = bb.attachments[0];
    assert.equal(a.tempGuid, r.json.message_handle);
    assert.equal(a.chatGuid, 'iMessage;-;+12125550711');
    assert.equal(a.name, 'pic.png');
    assert.equal(a.attachment.filename, 'pic.png');
    assert.ok(a.attachment.bytes.equals(picture));
    await bb.waitFor((s) => s.sends.some((x) => x.message === 'look at this'), 5000, 'the text after the attachment');
    assert.equal(bb.sends.find((x) => x.message === 'look at this').tempGuid, `${r.json.message_handle}-text`);
    const gone = await send(line, '+12125550712', 'missing picture', { media_url: `http://127.0.0.1:${media.address().port}/gone.png` });
    assert.equal(gone.json.status, 'QUEUED', gone.text);
    await callbacks(gone.json.message_handle, 'ERROR');
    assert.match((await gw.status(gone.json.message_handle)).json.error_detail, /cannot fetch the attachment .*gone\.png: HTTP 404/);
    assert.equal(bb.attachments.length, 1, 'nothing sent without its file');
  } finally {
    media.close();
  }
});

test('a server that is down: the line goes OFFLINE, messages wait, and go once it is back', async () => {
  const { bb, line } = await addLine();
  const port = new URL(bb.url).port;
  await bb.stop();
  const r = await send(line, '+12125550710', 'while the Mac sleeps');
  const blocked = await rx.waitFor((xs) => xs.some((x) => x.path === '/blocked' && x.json?.sendblue_number === line));
  assert.match(blocked.find((x) => x.path === '/blocked' && x.json?.sendblue_number === line).json.reason, /cannot reach the BlueBubbles server/);
  assert.ok(['QUEUED', 'ACCEPTED'].includes((await gw.status(r.json.message_handle)).json.status));
  const back = new FakeBlueBubbles();
  servers.push(back);
  back.webhooks = bb.webhooks;
  back.server = (await import('node:http')).createServer((req, res) => back.handle(req, res));
  await new Promise((resolve) => back.server.listen(Number(port), '127.0.0.1', resolve));
  back.url = bb.url;
  await callbacks(r.json.message_handle, 'DELIVERED', 20000);
  assert.equal(back.sends.length, 1);
});

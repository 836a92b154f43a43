// The console (issue #17) in a real browser: Debian's chromium, headless, through puppeteer-core.
// It signs in with a key, sees the lines, sends to a test number and watches DELIVERED, retries a
// failed callback, adds a contact, shows hostile content as text, and the browser reports no
// error. Screenshots of each page go to docs/console/ (BLUEGATE_SCREENSHOTS=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { Gateway, FAST_CONFIG, cli } from './lib/gateway.mjs';
import { Receiver } from './lib/receiver.mjs';

const OPERATOR = 'operator-token-for-the-console-test';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const shots = process.env.BLUEGATE_SCREENSHOTS
  ? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/console') : null;
let gw, rx, browser, page;
const problems = [];  // console errors, page errors, failed requests

before(async () => {
  rx = await new Receiver().start();
  gw = await new Gateway({ config: { ...FAST_CONFIG, console: { operator_token: OPERATOR } } }).start();
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  if (shots) mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  gw?.cleanup();
  await rx?.stop();
});

async function shot(name) {
  if (shots) await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function textOf(selector) {
  return page.$eval(selector, (el) => el.textContent);
}

async function signIn() {
  await page.goto(`${gw.baseURL}/`);
  await page.waitForSelector('#signin:not([hidden]) input[name=key_id]');
  await page.type('input[name=key_id]', gw.keyId);
  await page.type('input[name=secret]', gw.secret);
  await Promise.all([page.waitForNavigation(), page.click('#signin button[type=submit]')]);
  await page.waitForSelector('#app:not([hidden])');
}

test('a wrong secret is told so and opens no session', async () => {
  await page.goto(`${gw.baseURL}/`);
  await page.waitForSelector('#signin:not([hidden])');
  await shot('signin');
  await page.type('input[name=key_id]', gw.keyId);
  await page.type('input[name=secret]', 'not-the-secret');
  await Promise.all([page.waitForNavigation(), page.click('#signin button[type=submit]')]);
  await page.waitForFunction(() => document.getElementById('signin-error').textContent.length > 0);
  assert.match(await textOf('#signin-error'), /do not match an API key/);
  assert.equal((await page.cookies()).filter((c) => c.name === 'bluegate_session').length, 0);
});

test('signed in, the overview and the lines page show the account\'s line', async () => {
  await signIn();
  const cookie = (await page.cookies()).find((c) => c.name === 'bluegate_session');
  assert.ok(cookie, 'a session cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  await page.waitForSelector('#rate-chart');
  assert.match(await textOf('#who'), /dev@bluegate\.local/);
  await shot('overview');
  await page.goto(`${gw.baseURL}/console/#/lines`);
  await page.waitForSelector(`#lines tr[data-line="${gw.line}"]`);
  assert.equal(await textOf(`#lines tr[data-line="${gw.line}"] .line-status`), 'ONLINE');
  await shot('lines');
});

test('a send to a test number reaches DELIVERED on the page', async () => {
  await page.goto(`${gw.baseURL}/console/#/send`);
  await page.waitForSelector('#send-form');
  await page.type('#send-form input[name=number]', '+12125550100');
  await page.type('#send-form input[name=content]', 'hello from the console');
  await page.click('#send-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('sent-status')?.textContent === 'DELIVERED', { timeout: 10000 });
  await shot('send');
});

test('hostile content is shown as text and runs nothing', async () => {
  const hostile = '<img src=x onerror=alert(1)>';
  const r = await gw.send({ number: '+12125550100', content: hostile });
  assert.equal(r.status, 200, r.text);
  await page.goto(`${gw.baseURL}/console/#/messages/${r.json.message_handle}`);
  await page.waitForSelector('#message-content');
  assert.equal(await textOf('#message-content'), hostile);
  assert.equal(await page.$$eval('#message-content img', (x) => x.length), 0, 'no element was made from the content');
  await page.goto(`${gw.baseURL}/console/#/messages`);
  await page.waitForSelector('#messages td.content a');
  assert.equal(await page.$$eval('#messages img', (x) => x.length), 0);
  await shot('messages');
});

test('a failed callback is retried from the message page', async () => {
  let fail = true;
  rx.behaviour = () => (fail ? { status: 500 } : undefined);
  const r = await gw.send({ number: '+12125550100', content: 'with a callback', status_callback: `${rx.url}/cb` });
  await gw.waitForStatus(r.json.message_handle, (m) => m.status === 'DELIVERED');
  await page.goto(`${gw.baseURL}/console/#/messages/${r.json.message_handle}`);
  await page.waitForSelector('#deliveries .outcome-failed', { timeout: 15000 });
  await shot('message');
  fail = false;
  const before = rx.received.length;
  await page.click('#deliveries .outcome-failed ~ td button.retry');
  await rx.waitFor(() => rx.received.length > before && rx.received.at(-1).answered === 200);
  await page.waitForFunction(() => [...document.querySelectorAll('#deliveries .outcome')].some((x) => x.textContent === 'delivered'), { timeout: 10000 });
  rx.behaviour = () => undefined;
});

test('a contact added on the page is stored', async () => {
  await page.goto(`${gw.baseURL}/console/#/contacts`);
  await page.waitForSelector('#add-contact');
  await page.type('#add-contact input[name=number]', '+14155550177');
  await page.type('#add-contact input[name=first_name]', 'Ada');
  await page.click('#add-contact button[type=submit]');
  await page.waitForSelector('#contacts tr[data-phone="+14155550177"]');
  const stored = await gw.request('GET', '/api/v2/contacts/+14155550177');
  assert.equal(stored.status, 200, stored.text);
  assert.equal(stored.json.contact.first_name, 'Ada');
  await shot('contacts');
});

test('a long conversation opens with one page of messages and loads older ones on scrolling up; read receipts show', async () => {
  const number = '+12125550107';  // delivered, then read
  for (let i = 0; i < 120; i++) assert.equal((await gw.send({ number, content: `line ${i}` })).status, 200);
  await page.goto(`${gw.baseURL}/console/#/conversations/${encodeURIComponent(number)}`);
  await page.waitForSelector('#thread .bubble');
  assert.equal(await page.$$eval('#thread .bubble', (x) => x.length), 50, 'one page, not the whole thread');
  assert.match(await page.$eval('#thread .bubble:last-of-type', (el) => el.textContent), /line 119/, 'the newest at the bottom');
  await page.$eval('#thread', (el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
  await page.waitForFunction(() => document.querySelectorAll('#thread .bubble').length === 100);
  await page.waitForFunction(() => [...document.querySelectorAll('#thread .bubble small')].some((x) => /read /.test(x.textContent)), { timeout: 10000 });
});

test('contacts import from a CSV file; a webhook is added; a file attached in a conversation is sent and shown', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bluegate-console-'));
  try {
    writeFileSync(path.join(dir, 'contacts.csv'), 'phone,first_name,last_name\n+14155550181,"Grace",Hopper\n+14155550182,Alan,"Turing, A."\n');
    await page.goto(`${gw.baseURL}/console/#/contacts`);
    await page.waitForSelector('input[name=csv]');
    await (await page.$('input[name=csv]')).uploadFile(path.join(dir, 'contacts.csv'));
    await page.click('input[name=csv] ~ button, form:has(input[name=csv]) button[type=submit]');
    await page.waitForSelector('#contacts tr[data-phone="+14155550182"]');
    const turing = await gw.request('GET', '/api/v2/contacts/+14155550182');
    assert.equal(turing.json.contact.last_name, 'Turing, A.', 'a quoted field with a comma');

    await page.goto(`${gw.baseURL}/console/#/webhooks`);
    await page.waitForSelector('#add-webhook');
    await page.select('#add-webhook select[name=type]', 'receive');
    await page.type('#add-webhook input[name=url]', `${rx.url}/inbound`);
    await page.click('#add-webhook button[type=submit]');
    await page.waitForFunction((u) => document.getElementById('webhooks')?.textContent.includes(u), {}, `${rx.url}/inbound`);
    const hooks = await gw.request('GET', '/api/account/webhooks');
    assert.deepEqual(hooks.json.webhooks.receive.map((e) => (typeof e === 'string' ? e : e.url)), [`${rx.url}/inbound`]);
    await page.type('#global-secret input[name=globalSecret]', 'console-set-secret');
    await page.click('#global-secret button[type=submit]');
    await page.waitForFunction(() => /Global secret: set/.test(document.getElementById('view').textContent));
    assert.equal((await gw.request('GET', '/api/account/webhooks')).json.webhooks.globalSecret, 'console-set-secret');

    // A 1x1 PNG.
    writeFileSync(path.join(dir, 'dot.png'), Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
    const number = '+12125550190';
    await page.goto(`${gw.baseURL}/console/#/conversations/${encodeURIComponent(number)}`);
    await page.waitForSelector('#compose');
    await page.type('#compose textarea[name=content]', 'a picture');
    await (await page.$('#compose input[name=file]')).uploadFile(path.join(dir, 'dot.png'));
    await page.click('#compose button[type=submit]');
    await page.waitForSelector('#thread .bubble.out img', { timeout: 10000 });
    const sent = await gw.request('GET', `/api/v2/messages?number=${encodeURIComponent(number)}`);
    assert.equal(sent.json.data[0].content, 'a picture');
    assert.match(sent.json.data[0].media_url, /\/media\//);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('in a conversation the contact\'s typing shows and its reply arrives live', async () => {
  const number = '+12125550105';  // types, then replies "Echo: <content>"
  await page.goto(`${gw.baseURL}/console/#/conversations/${encodeURIComponent(number)}`);
  await page.waitForSelector('#compose');
  await page.evaluate(() => {
    window.typingSeen = [];
    new MutationObserver(() => window.typingSeen.push(document.getElementById('typing').textContent))
      .observe(document.getElementById('typing'), { childList: true, characterData: true, subtree: true });
  });
  await page.type('#compose textarea[name=content]', 'are you there?');
  await page.click('#compose button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('#thread .bubble.in')].some((b) => b.textContent.includes('Echo: are you there?')), { timeout: 10000 });
  const seen = await page.evaluate(() => window.typingSeen);
  assert.ok(seen.some((t) => /is typing/.test(t)), `typing shown: ${JSON.stringify(seen)}`);
});

test('the conversation and webhooks pages render', async () => {
  await page.goto(`${gw.baseURL}/console/#/conversations/${encodeURIComponent('+12125550100')}`);
  await page.waitForSelector('#thread .bubble');
  await shot('conversation');
  await page.goto(`${gw.baseURL}/console/#/webhooks`);
  await page.waitForSelector('#delivery-log');
  await shot('webhooks');
});

test('signing out ends the session', async () => {
  await page.goto(`${gw.baseURL}/console/#/`);
  await page.waitForSelector('#signout');
  const cookie = (await page.cookies()).find((c) => c.name === 'bluegate_session');
  const asBrowser = { cookie: `bluegate_session=${cookie.value}` };
  assert.equal((await fetch(`${gw.baseURL}/api/v2/messages`, { headers: asBrowser })).status, 200);
  await Promise.all([page.waitForNavigation(), page.click('#signout')]);
  await page.waitForSelector('#signin:not([hidden])');
  assert.equal((await page.cookies()).filter((c) => c.name === 'bluegate_session').length, 0, 'the cookie is cleared');
  const after = await fetch(`${gw.baseURL}/api/v2/messages`, { headers: asBrowser });
  assert.equal(after.status, 401, 'the old cookie opens nothing');
  assert.match((await after.json()).message, /console session has ended/);
});

test('the operator sees every account and line and changes a line\'s limits', async () => {
  await page.goto(`${gw.baseURL}/`);
  await page.waitForSelector('#signin:not([hidden])');
  await page.click('#signin details summary');
  await page.type('#operator-signin input[name=operator_token]', OPERATOR);
  await Promise.all([page.waitForNavigation(), page.click('#operator-signin button[type=submit]')]);
  await page.waitForSelector(`#all-lines tr[data-line="${gw.line}"]`);
  assert.match(await textOf('#accounts'), /dev@bluegate\.local/);
  const row = `#all-lines tr[data-line="${gw.line}"]`;
  await page.$eval(`${row} input[name=queue_capacity]`, (el) => { el.value = ''; });
  await page.type(`${row} input[name=queue_capacity]`, '42');
  await page.click(`${row} button.save-limits`);
  await page.waitForFunction(() => /Saved the limits/.test(document.getElementById('operator-status')?.textContent ?? ''));
  await page.waitForFunction((sel) => document.querySelector(sel)?.value === '42', {}, `${row} input[name=queue_capacity]`);
  await shot('operator');
  const overview = await page.evaluate(() => fetch('/console/operator/overview').then((r) => r.json()));
  const line = overview.lines.find((l) => l.sendblue_number === gw.line);
  assert.equal(line.own.queue_capacity, 42, 'stored as the line\'s own setting');
  assert.equal(line.limits.queue_capacity, 42, 'and in force');
});

test('an account on a shared line adds a contact and the verification goes to it', async () => {
  const run = (args) => { const r = cli(args, { dataDir: gw.dataDir }); assert.equal(r.code, 0, r.stderr); };
  run(['accounts', 'create', '--email', 'owner@example.com']);
  run(['lines', 'add', '--account', 'owner@example.com', '--number', '+14155550160', '--shared']);
  run(['accounts', 'create', '--email', 'free@example.com', '--key-id', 'free-key', '--secret', 'free-secret-0123456789']);
  run(['lines', 'attach', '--number', '+14155550160', '--account', 'free@example.com']);
  await page.deleteCookie(...(await page.cookies()));
  await page.goto(`${gw.baseURL}/`);
  await page.waitForSelector('#signin:not([hidden]) input[name=key_id]');
  await page.type('input[name=key_id]', 'free-key');
  await page.type('input[name=secret]', 'free-secret-0123456789');
  await Promise.all([page.waitForNavigation(), page.click('#signin button[type=submit]')]);
  await page.goto(`${gw.baseURL}/console/#/contacts`);
  await page.waitForSelector('#shared-note', { timeout: 10000 });
  assert.match(await textOf('#shared-note'), /\+14155550160/);
  assert.equal(await page.$eval('#add-contact input[name=verify]', (el) => el.checked), true);
  await page.type('#add-contact input[name=number]', '+12125550177');
  await page.click('#add-contact button[type=submit]');
  await page.waitForSelector('#contacts tr[data-phone="+12125550177"]');
  const free = { 'sb-api-key-id': 'free-key', 'sb-api-secret-key': 'free-secret-0123456789' };
  const sent = await gw.request('GET', '/api/v2/messages?number=%2B12125550177', { headers: free });
  assert.equal(sent.json.data.length, 1, 'the verification message');
  assert.equal(sent.json.data[0].from_number, '+14155550160');
});

test('the browser reported no error', () => {
  assert.deepEqual(problems, []);
});

// The store is the queue (issue #16): each line keeps a window of what it sends next in memory
// and pages the rest in from the store, so memory does not grow with the backlog, a restart
// reads no queued message until its turn, and every acknowledged message is sent once, in order.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Gateway, FAST_CONFIG, cli } from './lib/gateway.mjs';
import { eventually } from './lib/eventually.mjs';
import { bulkSender } from './lib/bulk.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const WINDOW = 200;
// Each message carries this much text, so that holding the backlog in memory would show.
const PADDING = ' ' + 'x'.repeat(2000);

function metric(text, name) {
  const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  assert.ok(m, `metric ${name}`);
  return Number(m[1]);
}

function rssMb(gw) {
  const kb = Number(readFileSync(`/proc/${gw.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
  return kb / 1024;
}

async function countWithStatus(gw, status) {
  const r = await gw.request('GET', `/api/v2/messages?status=${status}&limit=1`);
  assert.equal(r.status, 200, r.text);
  return r.json.pagination.total;
}

// Sends `total` messages from `workers` concurrent senders, each in its own order: message i of
// worker w says "w i".
async function sendMany(gw, total, workers, from) {
  const bulk = bulkSender(gw, { connections: workers });
  let next = 0;
  const counts = new Array(workers).fill(0);
  try {
    await Promise.all(counts.map(async (_, w) => {
      while (next < total) {
        next++;
        const i = counts[w]++;
        const number = `+1212555${String(1000 + ((w * 7919 + i) % 8999)).padStart(4, '0')}`;
        const r = await bulk.send({ number, content: `${w} ${i}${PADDING}`, ...(from ? { from_number: from } : {}) });
        assert.equal(r.status, 200, r.text);
      }
    }));
  } finally {
    bulk.close();
  }
}

// The contents of the messages that reach ACCEPTED, in the order the stream tells them.
async function watchAccepted(gw, enough, timeoutMs = 30000) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const res = await fetch(`${gw.baseURL}/api/v2/events?types=message.updated`, { headers: gw.headers(), signal: ac.signal });
  assert.equal(res.status, 200);
  const seen = [];
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += Buffer.from(chunk).toString();
      let end;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const frame = text.slice(0, end);
        text = text.slice(end + 2);
        const data = frame.match(/^data: (.*)$/m);
        if (!data) continue;
        const e = JSON.parse(data[1]);
        if (e.data.status === 'ACCEPTED') seen.push(e.data.content);
      }
      if (seen.length >= enough) break;
    }
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return seen;
}

// Polls `count` until it reaches `target`, for as long as it keeps growing: a stall fails the
// test, a machine busy with other tests only makes it wait longer.
async function whileProgressing(count, target, stallMs = 15000) {
  let last = await count();
  let since = Date.now();
  while (last < target && Date.now() - since < stallMs) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await count();
    if (now > last) since = Date.now();
    last = now;
  }
  return last;
}

// Each worker's messages left in its own order, none skipped, none twice.
function assertInOrder(contents) {
  const last = new Map();
  for (const c of contents) {
    const [w, i] = c.split(' ').map(Number);
    if (last.has(w)) assert.equal(i, last.get(w) + 1, `worker ${w}: ${i} after ${last.get(w)}`);
    last.set(w, i);
  }
  assert.ok(last.size > 1, 'several workers seen');
}

test('50,000 queued messages wait in the store: memory stays flat, a restart pages them in order, and each goes once', async () => {
  const TOTAL = 50000;
  // (A resolve timeout long enough for a busy machine: this test is about order and memory.)
  const paced = {
    ...FAST_CONFIG,
    lines: { ...FAST_CONFIG.lines, burst_per_second: 200, queue_capacity: 60000, queue_window: WINDOW, resolve_timeout: '60s' },
  };
  const gw = await new Gateway({ config: paced }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  const rssAtStart = rssMb(gw);
  await sendMany(gw, TOTAL, 32);

  const before = await gw.metrics();
  assert.ok(metric(before, 'bluegate_queue_depth') > TOTAL - 10000, 'most still wait');
  assert.ok(metric(before, 'bluegate_queue_held') <= 2 * WINDOW, 'a window of each kind in memory, no more');
  // (The writer's page cache, up to 32 MB, fills as the database grows; 50,000 messages of 2 KB
  // held in memory would add about 100 MB more.)
  const grew = rssMb(gw) - rssAtStart;
  assert.ok(grew < 80, `the server grew ${grew.toFixed(1)} MB holding a backlog of ${TOTAL}`);

  await gw.kill9();
  await gw.start();
  const resumed = Number(gw.output.match(/resumed (\d+) queued or in-flight messages/)[1]);
  assert.ok(resumed > TOTAL - 10000, `resumed ${resumed}`);
  const restarted = await gw.metrics();
  assert.ok(metric(restarted, 'bluegate_queue_held') <= 2 * WINDOW);
  assert.ok(metric(restarted, 'bluegate_queue_depth') >= resumed - 1000);
  assert.ok(rssMb(gw) < rssAtStart + 80, `after the restart the server holds ${rssMb(gw).toFixed(1)} MB`);

  // Across several pages (of WINDOW / 2), each worker's messages go in the order it sent them.
  assertInOrder(await watchAccepted(gw, 3 * WINDOW));

  // Unpaced, the rest drains: every acknowledged message is delivered, none is left behind.
  await gw.stop();
  const fast = new Gateway({ config: { ...paced, lines: { ...paced.lines, burst_per_second: 0 } }, dataDir: gw.dataDir });
  Object.assign(fast, { keyId: gw.keyId, secret: gw.secret, line: gw.line });
  await fast.start();
  cleanups.push(async () => { await fast.stop(); });
  const delivered = await whileProgressing(() => countWithStatus(fast, 'DELIVERED'), TOTAL);
  if (delivered !== TOTAL) {
    const counts = {};
    for (const status of ['QUEUED', 'ACCEPTED', 'SENT', 'DELIVERED', 'ERROR']) counts[status] = await countWithStatus(fast, status);
    assert.fail(`the drain stopped at ${delivered} delivered: ${JSON.stringify(counts)}`);
  }
  assert.equal(await countWithStatus(fast, 'QUEUED'), 0);
  const m = await fast.metrics();
  assert.equal(metric(m, 'bluegate_carrier_resubmits_total'), 0, 'nothing in flight was sent twice');
  assert.equal(metric(m, 'bluegate_queue_depth'), 0);
});

test('a removed line\'s backlog moved to another line is found there and each message goes once', async () => {
  const gw = await new Gateway({ config: { ...FAST_CONFIG, lines: { ...FAST_CONFIG.lines, queue_capacity: 5000, queue_window: 100 } } }).start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  const admin = (args) => cli([...args, '--config', gw.configPath], { dataDir: gw.dataDir });
  const OTHER = '+13125550430';
  assert.equal(admin(['lines', 'add', '--account', 'dev@bluegate.local', '--number', OTHER]).code, 0);
  assert.equal(admin(['lines', 'set', '--number', OTHER, '--burst-per-second', '0.01']).code, 0);
  await eventually(() => gw.request('GET', '/api/v2/lines/usage'), (r) => r.json.data.some((l) => l.sendblue_number === OTHER), { intervalMs: 50 });
  // Paced at one message a minute, nearly all wait, most of them in the store behind the window.
  await eventually(async () => {
    const probe = await gw.send({ number: '+12125559999', content: 'probe', from_number: OTHER });
    return probe.status;
  }, (s) => s === 200, { intervalMs: 50 });
  await sendMany(gw, 2000, 16, OTHER);
  const held = metric(await gw.metrics(), 'bluegate_queue_held');
  assert.ok(held <= 200, `held ${held}`);

  const moved = admin(['lines', 'remove', '--number', OTHER, '--queued', 'move', '--move-to', gw.line]);
  assert.equal(moved.code, 0, moved.stderr);
  const delivered = await eventually(() => countWithStatus(gw, 'DELIVERED'), (n) => n === 2001, { timeoutMs: 30000, intervalMs: 100 });
  assert.equal(delivered, 2001, 'the probe and the 2,000, once each');
  assert.equal(await countWithStatus(gw, 'QUEUED'), 0);
  const m = await gw.metrics();
  assert.equal(m.match(/bluegate_messages_total\{status="ACCEPTED"\} (\d+)/)[1], '2001', 'each was accepted once');
  assert.equal(metric(m, 'bluegate_queue_depth'), 0, 'no place is left taken');
});

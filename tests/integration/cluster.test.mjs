// Scale-out: several bluegate nodes on one PostgreSQL database (the server `make test` starts).
// Lines are driven by the node holding their lease; the SMSC of each line (a real SMPP peer)
// checks from the carrier side that no two nodes ever drive a line at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAST_CONFIG, Gateway, cli } from './lib/gateway.mjs';
import { Receiver } from './lib/receiver.mjs';
import { Smsc } from './lib/smsc.mjs';
import { freshDatabase, serverCtl } from './lib/postgres.mjs';
import { sendWithCallback } from './lib/stack.mjs';
import { eventually } from './lib/eventually.mjs';

const KEY_ID = 'cluster-key';
const SECRET = 'cluster-secret';
const EMAIL = 'ops@example.com';
const FINAL = new Set(['DELIVERED', 'SENT', 'ERROR', 'DECLINED']);

function lineNumber(i) {
  return `+1212555${String(2001 + i)}`;
}

function contactFor(i) {
  return `+1415555${String(3001 + i)}`;
}

async function until(what, predicate, timeoutMs = 30000) {
  const last = await eventually(predicate, Boolean, { timeoutMs, intervalMs: 50 });
  if (!last) throw new Error(`timed out waiting for ${what}`);
  return last;
}

// A database with an account and `lines` lines (each on an SMSC of its own, or the simulator),
// and `nodes` nodes serving it.
async function startCluster({ nodes = 3, lines = 6, smpp = true } = {}) {
  const db = freshDatabase();
  const admin = (args) => {
    const r = cli([...args, '--database-url', db]);
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  admin(['accounts', 'create', '--email', EMAIL, '--key-id', KEY_ID, '--secret', SECRET]);
  const smscs = [];
  const numbers = [];
  for (let i = 0; i < lines; i++) {
    const number = lineNumber(i);
    numbers.push(number);
    if (smpp) {
      const smsc = await new Smsc({ systemId: `line${i}` }).start();
      smscs.push(smsc);
      admin(['lines', 'add', '--account', EMAIL, '--number', number, '--carrier', 'smpp',
        ...smsc.options({ address_range: number.slice(1) })]);
    } else {
      admin(['lines', 'add', '--account', EMAIL, '--number', number]);
    }
  }
  const config = {
    ...FAST_CONFIG,
    bootstrap: false,
    lines: { ...FAST_CONFIG.lines, resolve_timeout: '60s' },
    cluster: { lease_ttl: '3s', lease_renew: '500ms' },
  };
  const gws = [];
  for (let n = 0; n < nodes; n++) {
    const gw = new Gateway({ config, args: ['--database-url', db, '--node-id', `n${n + 1}`] });
    gw.keyId = KEY_ID;
    gw.secret = SECRET;
    gws.push(await gw.start());
  }
  const rx = await new Receiver().start();
  return {
    db, gws, smscs, numbers, rx,
    async stop() {
      const exits = await Promise.all(gws.map((g) => g.stop()));
      gws.forEach((g) => g.cleanup());
      await Promise.all(smscs.map((s) => s.stop()));
      await rx.stop();
      // A node that died on its own (not by kill9) is a failure, with its log to tell why.
      exits.forEach((e, n) => {
        if (e.signal !== 'SIGKILL' && e.code !== 0) {
          throw new Error(`node n${n + 1} exited with ${JSON.stringify(e)}:\n${gws[n].output.slice(-3000)}`);
        }
      });
    },
  };
}

// GET /api/v2/nodes from `gw`: node id → the lines it holds, for live nodes.
async function holdings(gw) {
  const r = await gw.request('GET', '/api/v2/nodes');
  assert.equal(r.status, 200, r.text);
  return Object.fromEntries(r.json.data.filter((n) => n.alive).map((n) => [n.node_id, n.lines]));
}

// Waits until the live nodes share every line evenly.
async function balanced(gw, { nodes, lines }) {
  return until(`${lines} lines shared by ${nodes} nodes`, async () => {
    const h = await holdings(gw);
    const counts = Object.values(h).map((ls) => ls.length);
    const total = counts.reduce((a, b) => a + b, 0);
    const share = Math.ceil(lines / nodes);
    return counts.length === nodes && total === lines && counts.every((c) => c <= share) ? h : null;
  });
}

// Every message of the account, by handle (one page: the tests send fewer than 1000).
async function messagesByHandle(gw) {
  const r = await gw.request('GET', '/api/v2/messages?limit=1000');
  assert.equal(r.status, 200, r.text);
  return new Map(r.json.data.map((m) => [m.message_handle, m]));
}

async function resubmits(gws) {
  let total = 0;
  for (const gw of gws) {
    const m = (await gw.metrics()).match(/^bluegate_carrier_resubmits_total (\d+)$/m);
    total += Number(m[1]);
  }
  return total;
}

test('three nodes share the lines, and each line is driven by exactly one node at a time', async () => {
  const c = await startCluster();
  try {
    const held = await balanced(c.gws[0], { nodes: 3, lines: 6 });
    assert.deepEqual(Object.keys(held).sort(), ['n1', 'n2', 'n3']);
    for (const lines of Object.values(held)) assert.equal(lines.length, 2, JSON.stringify(held));
    await until('one bind per line', () => c.smscs.every((s) => s.boundCount() === 1));

    // Every node takes messages for every line; each is sent by the line's node, once.
    const handles = [];
    for (let i = 0; i < 60; i++) {
      const gw = c.gws[i % 3];
      const line = i % 6;
      const r = await sendWithCallback(gw, c.rx, c.numbers[line], contactFor(line), `spread ${i}`);
      assert.equal(r.status, 200, r.text);
      handles.push(r.json.message_handle);
    }
    await c.rx.waitFor((xs) => handles.every((h) => xs.some((x) => x.path === '/cb'
      && x.json?.message_handle === h && x.json.status === 'DELIVERED')), 30000);
    const all = await messagesByHandle(c.gws[1]);
    for (const h of handles) assert.equal(all.get(h).status, 'DELIVERED', h);

    for (const [i, smsc] of c.smscs.entries()) {
      assert.equal(smsc.maxBound, 1, `line ${i}: two sessions were bound at once`);
      const texts = smsc.submits.map((s) => s.text);
      assert.equal(texts.length, 10, `line ${i} sent its 10 messages`);
      assert.equal(new Set(texts).size, 10, `line ${i} sent each message once`);
      assert.equal(new Set(smsc.submits.map((s) => s.session)).size, 1, `line ${i}: one session`);
    }
    // The callbacks of each message came in order, from whichever node told them.
    for (const h of handles) {
      const story = c.rx.forHandle(h).filter((x) => x.path === '/cb').map((x) => x.json.status);
      assert.deepEqual(story, ['REGISTERED', 'PENDING', 'QUEUED', 'ACCEPTED', 'SENT', 'DELIVERED'], h);
    }
    assert.equal(await resubmits(c.gws), 0);
    // A batch's writes are pipelined: a commit costs a handful of round trips to PostgreSQL,
    // not one per write.
    for (const gw of c.gws) {
      const text = await gw.metrics();
      const counter = (name) => Number(text.match(new RegExp(`^${name} (\\d+)$`, 'm'))[1]);
      const commits = counter('bluegate_store_commits_total');
      const trips = counter('bluegate_store_round_trips_total');
      assert.ok(commits > 0 && trips / commits < 20, `${trips} round trips in ${commits} commits`);
    }
  } finally {
    await c.stop();
  }
});

test('a node killed under load: its lines move, every accepted message ends, no callback is lost', async () => {
  const c = await startCluster();
  try {
    await balanced(c.gws[0], { nodes: 3, lines: 6 });
    await until('one bind per line', () => c.smscs.every((s) => s.boundCount() === 1));
    // Submits answered a little late, so that some are in flight when the node dies.
    for (const s of c.smscs) s.responseDelayMs = 20;

    const accepted = [];
    const sends = [];
    let killed = false;
    for (let i = 0; i < 240; i++) {
      const n = i % 3;
      if (n === 0 && killed) continue;
      const line = i % 6;
      sends.push(sendWithCallback(c.gws[n], c.rx, c.numbers[line], contactFor(line), `load ${i}`)
        .then((r) => {
          if (r.status === 200) accepted.push(r.json.message_handle);
          else assert.equal(r.status, 503, r.text);
        }, () => {}));  // the killed node's connections fail: those messages were never accepted
      if (i === 120) {
        await c.gws[0].kill9();
        killed = true;
      }
      if (i % 12 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(sends);
    assert.ok(accepted.length >= 160, `accepted ${accepted.length}`);

    // n1's lines go to the survivors once its leases lapse.
    const held = await balanced(c.gws[1], { nodes: 2, lines: 6 });
    assert.deepEqual(Object.keys(held).sort(), ['n2', 'n3']);

    // Every accepted message reaches a final state, and its callback says so.
    await until('every accepted message final', async () => {
      const all = await messagesByHandle(c.gws[1]);
      return accepted.every((h) => FINAL.has(all.get(h)?.status));
    }, 60000);
    // (An SMS whose receipt was on its way to the dead node's session stays SENT, which is final
    // for SMS: the SMSC's ids for it died with that node.)
    const all = await messagesByHandle(c.gws[1]);
    for (const h of accepted) assert.ok(['DELIVERED', 'SENT'].includes(all.get(h).status), h);
    await c.rx.waitFor((xs) => accepted.every((h) => xs.some((x) => x.path === '/cb'
      && x.json?.message_handle === h && x.json.status === all.get(h).status)), 30000);

    // Duplicates only where a message was in flight at the carrier when its node died, and
    // counted by the node that re-sent it.
    const texts = c.smscs.flatMap((s) => s.submits.filter((x) => x.status === 0).map((x) => x.text));
    const duplicates = texts.length - new Set(texts).size;
    assert.ok(duplicates <= await resubmits(c.gws.slice(1)),
      `${duplicates} duplicate submits, ${await resubmits(c.gws.slice(1))} counted`);
    for (const [i, smsc] of c.smscs.entries()) {
      assert.equal(smsc.maxBound, 1, `line ${i}: two sessions were bound at once`);
    }
  } finally {
    await c.stop();
  }
});

test('PostgreSQL restarted under load: 503 while it is down, then everything resumes, nothing lost', async () => {
  const c = await startCluster({ nodes: 2, lines: 4, smpp: false });
  try {
    await balanced(c.gws[0], { nodes: 2, lines: 4 });
    const accepted = [];
    const statuses = new Map();
    let i = 0;
    const sendSome = async (count) => {
      const batch = [];
      for (let k = 0; k < count; k++, i++) {
        const line = i % 4;
        batch.push(c.gws[i % 2].request('POST', '/api/send-message', {
          body: { from_number: c.numbers[line], number: contactFor(line), content: `restart ${i}` },
        }).then((r) => {
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 200) accepted.push(r.json.message_handle);
        }));
      }
      await Promise.all(batch);
    };
    await sendSome(40);
    serverCtl('stop');
    try {
      // While the database is down every node answers 503.
      await until('503s while the database is down', async () => {
        await sendSome(4);
        return statuses.get(503) >= 8;
      });
    } finally {
      serverCtl('start');
    }
    // Once it is back, sends succeed again.
    await until('sends succeed again', async () => {
      const before = accepted.length;
      await sendSome(4);
      return accepted.length === before + 4;
    });
    await sendSome(40);
    assert.deepEqual([...statuses.keys()].sort(), [200, 503], JSON.stringify([...statuses]));

    await until('every accepted message delivered', async () => {
      const all = await messagesByHandle(c.gws[1]);
      return accepted.every((h) => all.get(h)?.status === 'DELIVERED');
    }, 60000);
  } finally {
    await c.stop();
  }
});

test('the admin commands and migrate work against PostgreSQL, and say where they are', () => {
  const db = freshDatabase();
  const migrate = cli(['migrate', '--database-url', db]);
  assert.equal(migrate.code, 0, migrate.stderr);
  assert.match(migrate.stdout, /the schema of postgresql:\/\/\S+ is up to date/);
  const again = cli(['migrate', '--database-url', db]);
  assert.equal(again.code, 0, 'migrating twice changes nothing');
  assert.equal(cli(['accounts', 'create', '--email', EMAIL, '--database-url', db]).code, 0);
  assert.equal(cli(['lines', 'add', '--account', EMAIL, '--number', lineNumber(0), '--database-url', db]).code, 0);
  const list = cli(['lines', 'list', '--database-url', db]);
  assert.match(list.stdout, new RegExp(`\\${lineNumber(0)}\\s+sim\\s+${EMAIL}`));
  const deliveries = cli(['webhooks', 'list', '--database-url', db]);
  assert.equal(deliveries.code, 0, deliveries.stderr);

  const wrong = cli(['lines', 'list', '--database-url', 'mysql://db/x']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /database_url: expected a PostgreSQL URL/);
  const unreachable = cli(['lines', 'list', '--database-url', 'postgresql://ops:s3cret@127.0.0.1:1/x']);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot connect to postgresql:\/\/ops:\*\*\*@127\.0\.0\.1:1\/x/);
  assert.doesNotMatch(unreachable.stderr, /s3cret/, 'the password is never printed');
});

test('a call that needs a line\'s carrier is forwarded to the node driving the line', async () => {
  const c = await startCluster({ nodes: 2, lines: 2, smpp: false });
  try {
    const held = await balanced(c.gws[0], { nodes: 2, lines: 2 });
    for (const [n, gw] of c.gws.entries()) {
      // The line the other node drives, asked of this one.
      const other = held[`n${2 - n}`][0];
      const contact = contactFor(10 + n);
      const sent = await gw.request('POST', '/api/send-message', {
        body: { number: contact, from_number: other, content: 'hello' },
      });
      assert.equal(sent.status, 200, sent.text);  // the conversation the signals belong to
      const typing = await gw.request('POST', '/api/send-typing-indicator', {
        body: { number: contact, from_number: other },
      });
      assert.equal(typing.status, 200, typing.text);
      assert.equal(typing.json.status, 'SENT');
      const read = await gw.request('POST', '/api/mark-read', {
        body: { number: contact, from_number: other },
      });
      assert.equal(read.status, 200, read.text);
    }
    // evaluate-service asks through the account's first line, whichever node drives it.
    for (const gw of c.gws) {
      const sms = await gw.request('GET', '/api/evaluate-service?number=%2B12125550101');
      assert.equal(sms.status, 200, sms.text);
      assert.deepEqual(sms.json, { number: '+12125550101', service: 'SMS' });
    }
  } finally {
    await c.stop();
  }
});

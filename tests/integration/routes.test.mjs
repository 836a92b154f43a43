// Route mapping (SPEC.md §6): the first message between a contact and a line binds them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway, cli, FAST_CONFIG } from './lib/gateway.mjs';

let gw;
const OTHER = '+13125550190';
before(async () => {
  // New-contact limits on, so that the pool has capacity to compare.
  const config = { ...FAST_CONFIG, lines: { ...FAST_CONFIG.lines, new_contacts_per_day: 100, new_contacts_per_hour: 100 } };
  gw = await new Gateway({ config }).start();
  const added = cli(['lines', 'add', '--account', 'dev@bluegate.local', '--number', OTHER], { dataDir: gw.dataDir });
  assert.equal(added.code, 0, added.stderr);
});
after(async () => { await gw.stop(); gw.cleanup(); });

test('a contact stays with its first line: another line is refused, naming the bound one', async () => {
  const first = await gw.send({ number: '+12125550141', content: 'hello' });
  assert.equal(first.status, 200);
  const other = await gw.send({ number: '+12125550141', content: 'from elsewhere', from_number: OTHER });
  assert.equal(other.status, 400);
  assert.equal(other.json.error_code, 4000);
  assert.match(other.json.message, /number \+12125550141 is bound to line \+14155550100/);
  const again = await gw.send({ number: '+12125550141', content: 'same line again' });
  assert.equal(again.status, 200);
});

test('without from_number, a bound contact gets its line', async () => {
  const r = await gw.request('POST', '/api/send-message', { body: { number: '+12125550141', content: 'routed' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.from_number, gw.line);
  assert.equal(r.json.sendblue_number, gw.line);
});

test('without from_number, a new contact goes to the line with the most new-contact capacity left', async () => {
  // gw.line has taken +12125550141 today (99 left); OTHER none (100 left).
  const r = await gw.request('POST', '/api/send-message', { body: { number: '+12125550142', content: 'pooled' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.sendblue_number, OTHER);
  const next = await gw.request('POST', '/api/send-message', { body: { number: '+12125550143', content: 'pooled too' } });
  assert.equal(next.status, 200);
  assert.ok([gw.line, OTHER].includes(next.json.sendblue_number));
  const stays = await gw.send({ number: '+12125550142', content: 'x', from_number: gw.line });
  assert.equal(stays.status, 400, 'the pooled contact is now bound to the line it was given');
});

test('two first messages racing from different lines: exactly one binds', async () => {
  for (let i = 0; i < 10; i++) {
    const number = `+1212555016${i}`;
    const [a, b] = await Promise.all([
      gw.send({ number, content: 'a' }),
      gw.send({ number, content: 'b', from_number: OTHER }),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [200, 400], `${number}: ${a.text} / ${b.text}`);
  }
});

test('pooling spreads new contacts evenly over many lines, and each stays with its line', async () => {
  const many = await new Gateway({ config: { ...FAST_CONFIG, lines: { ...FAST_CONFIG.lines, new_contacts_per_day: 1000, new_contacts_per_hour: 1000 } } }).start();
  try {
    const lines = [many.line];
    for (let i = 0; i < 9; i++) {
      const number = `+1312555${String(3100 + i)}`;
      assert.equal(cli(['lines', 'add', '--account', 'dev@bluegate.local', '--number', number], { dataDir: many.dataDir }).code, 0);
      lines.push(number);
    }
    const first = new Map();
    for (let i = 0; i < 60; i++) {
      const number = `+1646555${String(1000 + i)}`;
      const r = await many.request('POST', '/api/send-message', { body: { number, content: `hello ${i}` } });
      assert.equal(r.status, 200, r.text);
      first.set(number, r.json.sendblue_number);
    }
    const perLine = new Map(lines.map((l) => [l, 0]));
    for (const line of first.values()) perLine.set(line, perLine.get(line) + 1);
    const counts = [...perLine.values()];
    // The line with the most capacity left takes the next new contact: 60 over 10 lines is 6 each.
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `per line: ${JSON.stringify(Object.fromEntries(perLine))}`);
    for (const [number, line] of first) {
      const again = await many.request('POST', '/api/send-message', { body: { number, content: 'again' } });
      assert.equal(again.json.sendblue_number, line, `${number} stays with ${line}`);
    }
  } finally {
    await many.stop();
    many.cleanup();
  }
});

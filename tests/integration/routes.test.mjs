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

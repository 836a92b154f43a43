// The admin command line: the contract of issue #2 (`bluegate accounts create`, `bluegate lines add`,
// `bluegate serve`), against a data directory with and without a running server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway, cli, makeDataDir, BINARY } from './lib/gateway.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

test('--help explains every command', () => {
  const top = cli(['--help']);
  assert.equal(top.code, 0);
  for (const cmd of ['serve', 'accounts', 'lines']) assert.match(top.stdout, new RegExp(cmd));
  const serve = cli(['serve', '--help']);
  assert.match(serve.stdout, /--listen/);
  assert.match(serve.stdout, /--data-dir/);
  assert.match(serve.stdout, /--config/);
  const create = cli(['accounts', 'create', '--help']);
  for (const f of ['--email', '--key-id', '--secret', '--plan', '--data-dir']) assert.match(create.stdout, new RegExp(f));
  const add = cli(['lines', 'add', '--help']);
  for (const f of ['--account', '--number', '--carrier', '--data-dir']) assert.match(add.stdout, new RegExp(f));
  const none = cli([]);
  assert.notEqual(none.code, 0);
});

test('--version names the release and the allocator: jemalloc, except in a sanitizer build', () => {
  const v = cli(['--version']);
  assert.equal(v.code, 0, v.stderr);
  const linked = spawnSync('ldd', [BINARY], { encoding: 'utf8' }).stdout;
  const expected = /libasan/.test(linked) ? 'system malloc' : 'jemalloc \\d+\\.\\d+\\.\\d+';
  assert.match(v.stdout, new RegExp(`^bluegate \\d+\\.\\d+\\.\\d+ \\(allocator: ${expected}\\)$`, 'm'));
});

test('admin commands work on a data directory with no server running', async () => {
  const dir = makeDataDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const made = cli(['accounts', 'create', '--email', 'ops@example.com', '--plan', 'sapphire'], { dataDir: dir });
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /key id:\s+[0-9a-f]{32}/);
  assert.match(made.stdout, /secret:\s+[0-9a-f]{48}/);
  const dup = cli(['accounts', 'create', '--email', 'ops@example.com'], { dataDir: dir });
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /already exists/);
  const bad = cli(['lines', 'add', '--account', 'ops@example.com', '--number', '555'], { dataDir: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--number must be a phone number in E\.164/);
  const noacct = cli(['lines', 'add', '--account', 'who@example.com', '--number', '+13125550150'], { dataDir: dir });
  assert.equal(noacct.code, 1);
  assert.match(noacct.stderr, /no account with email who@example\.com/);
  const carrier = cli(['lines', 'add', '--account', 'ops@example.com', '--number', '+13125550150', '--carrier', 'pigeon'], { dataDir: dir });
  assert.equal(carrier.code, 1);
  assert.match(carrier.stderr, /valid carriers: sim/);
  const ok = cli(['lines', 'add', '--account', 'ops@example.com', '--number', '+13125550150'], { dataDir: dir });
  assert.equal(ok.code, 0, ok.stderr);
  const again = cli(['lines', 'add', '--account', 'ops@example.com', '--number', '+13125550150'], { dataDir: dir });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
  const listed = cli(['lines', 'list'], { dataDir: dir });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /\+13125550150\s+sim\s+ops@example\.com/);
  assert.match(listed.stdout, /1 line\n/);
  const mine = cli(['lines', 'list', '--account', 'nobody@example.com'], { dataDir: dir });
  assert.equal(mine.code, 1);
  assert.match(mine.stderr, /no account with email nobody@example\.com/);
});

test('a running server sees accounts and lines added by admin commands, without restart', async () => {
  const gw = await new Gateway().start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  const made = cli(['accounts', 'create', '--email', 'live@example.com', '--key-id', 'live-key', '--secret', 'live-secret'], { dataDir: gw.dataDir });
  assert.equal(made.code, 0, made.stderr);
  const added = cli(['lines', 'add', '--account', 'live@example.com', '--number', '+13125550160'], { dataDir: gw.dataDir });
  assert.equal(added.code, 0, added.stderr);
  const headers = { 'sb-api-key-id': 'live-key', 'sb-api-secret-key': 'live-secret', 'content-type': 'application/json' };
  const lines = await gw.request('GET', '/api/lines', { headers });
  assert.deepEqual(lines.json, { status: 'OK', numbers: ['+13125550160'] });
  const sent = await gw.request('POST', '/api/send-message', { headers, body: { number: '+12125550100', from_number: '+13125550160', content: 'new line' } });
  assert.equal(sent.status, 200, sent.text);
  assert.equal(sent.json.accountEmail, 'live@example.com');
  // Another account's line is not usable.
  const foreign = await gw.request('POST', '/api/send-message', { headers, body: { number: '+12125550100', from_number: gw.line, content: 'x' } });
  assert.equal(foreign.status, 400);
});

test('serve refuses a bad configuration with a message naming the key', async () => {
  const dir = makeDataDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${dir}/bad.toml`, '[lines]\nburst_per_secnd = 5\n');
  const r = cli(['serve', '--config', `${dir}/bad.toml`, '--listen', '127.0.0.1:0'], { dataDir: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown key "burst_per_secnd"/);
  const port = cli(['serve', '--listen', 'nonsense'], { dataDir: dir });
  assert.equal(port.code, 1);
  assert.match(port.stderr, /must be HOST:PORT/);
});

test('SIGTERM stops the server gracefully: requests in flight are answered, exit code 0', async () => {
  const gw = await new Gateway().start();
  cleanups.push(async () => gw.cleanup());
  const inflight = Array.from({ length: 50 }, (_, i) => gw.send({ number: '+12125550100', content: `bye ${i}` }).catch((e) => e));
  const started = Date.now();
  const exit = await gw.stop();
  const results = await Promise.all(inflight);
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - started < 5000, 'stopped within a few seconds');
  // Every request either got its answer or was never accepted by the server; none got a broken one.
  for (const r of results) if (!(r instanceof Error)) assert.ok([200].includes(r.status), r.text);
  // Whatever was acknowledged is on disk.
  const after = new Gateway({ dataDir: gw.dataDir });
  Object.assign(after, { keyId: gw.keyId, secret: gw.secret, line: gw.line });
  await after.start();
  for (const r of results) {
    if (!(r instanceof Error)) assert.equal((await after.status(r.json.message_handle)).status, 200);
  }
  await after.stop();
});

test('the first start prints credentials and a curl command that works', async () => {
  const gw = await new Gateway().start();
  cleanups.push(async () => gw.cleanup());
  const m = gw.output.match(/curl -s (\S+) \\\n\s+-H '([^']+)' -H '([^']+)' \\\n\s+-H '([^']+)' \\\n\s+-d '([^']+)'/);
  assert.ok(m, gw.output);
  const [, url, h1, h2, h3, body] = m;
  const headers = Object.fromEntries([h1, h2, h3].map((h) => h.split(': ')));
  const r = await fetch(url, { method: 'POST', headers, body });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).status, 'QUEUED');
  // A second server on the same data directory is refused: both would resume the same queue.
  const second = cli(['serve', '--listen', '127.0.0.1:0'], { dataDir: gw.dataDir });
  assert.equal(second.code, 1);
  assert.match(second.stderr, /another `bluegate serve` is already running/);
  // A later start of the same data directory does not create another account.
  await gw.stop();
  const proc = spawn(BINARY, ['serve', '--data-dir', gw.dataDir, '--listen', '127.0.0.1:0']);
  let out = '';
  await new Promise((r) => proc.stdout.on('data', (d) => { out += d; if (out.includes('listening on')) r(); }));
  proc.kill('SIGTERM');
  assert.doesNotMatch(out, /Created the first account/);
  await new Promise((r) => proc.on('exit', r));
});

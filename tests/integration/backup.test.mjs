// bluegate backup | restore | check (issue #18, item 2): a backup taken while the server accepts
// holds every message acknowledged before it started and the media; a restore goes only into a new
// or empty data directory that no server runs on; a check says what it found.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Sendblue from 'sendblue';
import { Gateway, FAST_CONFIG, BINARY, cli, makeDataDir } from './lib/gateway.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

function scratch() {
  const dir = makeDataDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Runs a command without blocking the event loop, so the test's own senders keep going.
function run(args) {
  return new Promise((resolve) => {
    const p = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function upload(gw, bytes, name) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  const res = await fetch(`${gw.baseURL}/api/upload-file`, {
    method: 'POST', headers: { 'sb-api-key-id': gw.keyId, 'sb-api-secret-key': gw.secret }, body: form,
  });
  assert.equal(res.status, 200);
  return (await res.json()).media_url;
}

test('a backup under load holds every acknowledged message and the media; the restore serves them', async () => {
  const gw = await new Gateway().start();
  cleanups.push(async () => { await gw.stop(); gw.cleanup(); });
  const client = new Sendblue({ apiKey: gw.keyId, apiSecret: gw.secret, baseURL: gw.baseURL });
  const picture = Buffer.alloc(200_000);
  for (let i = 0; i < picture.length; i++) picture[i] = (i * 31) & 0xff;
  const mediaUrl = await upload(gw, picture, 'picture.png');

  // Eight senders keep accepting until told to stop; each acknowledged handle is kept.
  const acked = [];
  let stopping = false;
  const sender = async (n) => {
    for (let i = 0; !stopping; i++) {
      const sent = await client.messages.send({ number: `+1212555${String(1000 + ((n * 37 + i) % 90)).padStart(4, '0')}`, from_number: gw.line, content: `load ${n}.${i}` });
      acked.push(sent.message_handle);
    }
  };
  const senders = [0, 1, 2, 3, 4, 5, 6, 7].map(sender);
  while (acked.length < 400) await new Promise((r) => setTimeout(r, 10));

  const file = path.join(scratch(), 'bluegate.bgbackup');
  const before = acked.slice();  // acknowledged before the backup started
  const backup = await run(['backup', '--data-dir', gw.dataDir, '--to', file]);
  const during = acked.length;
  stopping = true;
  await Promise.all(senders);
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stdout, /^backed up .* to .*bluegate\.bgbackup in \d+\.\d+ s$/m);
  assert.match(backup.stdout, /^media: +1 files, 195\.3 KiB$/m);
  assert.ok(acked.length > before.length, `accepts went on (${before.length} → ${during} → ${acked.length})`);
  assert.ok(!existsSync(`${file}.partial`));
  assert.equal(statSync(file).mode & 0o077, 0, 'private, as the data directory is');

  const again = cli(['backup', '--data-dir', gw.dataDir, '--to', file]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists: back up to a new file/);

  const checked = cli(['check', '--from', file]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stdout, /: ok \(a backup\)/);
  assert.match(checked.stdout, /^media files 1$/m);

  // Never over a served or a non-empty data directory.
  const busy = cli(['restore', '--from', file, '--data-dir', gw.dataDir]);
  assert.equal(busy.code, 2);
  assert.match(busy.stderr, /a bluegate server is running on /);
  const full = scratch();
  writeFileSync(path.join(full, 'notes.txt'), 'mine');
  const refused = cli(['restore', '--from', file, '--data-dir', full]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /is not empty: restore into a new or empty data directory/);
  assert.equal(readFileSync(path.join(full, 'notes.txt'), 'utf8'), 'mine');

  const target = path.join(scratch(), 'restored');
  const restored = cli(['restore', '--from', file, '--data-dir', target]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /^media: +1 files, 195\.3 KiB$/m);
  assert.match(restored.stdout, /start it with: bluegate serve --data-dir /);
  const sound = cli(['check', '--data-dir', target]);
  assert.equal(sound.code, 0, sound.stderr);
  assert.match(sound.stdout, /bluegate\.db: ok\n/);
  const messages = Number(sound.stdout.match(/messages (\d+)/)[1]);
  assert.ok(messages >= before.length, `${messages} messages, ${before.length} acknowledged before`);

  await gw.stop();
  const copy = new Gateway({ dataDir: target });
  await copy.start();
  cleanups.push(async () => { await copy.stop(); });
  assert.doesNotMatch(copy.output, /key id:/, 'the restored accounts are there: no new bootstrap account');
  const restoredClient = new Sendblue({ apiKey: gw.keyId, apiSecret: gw.secret, baseURL: copy.baseURL });
  for (const handle of before) {
    const m = await restoredClient.messages.getStatus({ handle });
    assert.equal(m.message_handle, handle);
  }
  const late = acked.at(-1);  // acknowledged after the backup had finished
  assert.ok(acked.indexOf(late) >= during);
  await assert.rejects(restoredClient.messages.getStatus({ handle: late }), (err) => err.status === 404);
  const name = mediaUrl.slice(mediaUrl.lastIndexOf('/'));
  const served = Buffer.from(await (await fetch(`${copy.baseURL}/media${name}`)).arrayBuffer());
  assert.ok(served.equals(picture), 'the upload is served by the restored server');
});

test('a check reports a damaged database, and nothing damaged is restored', async () => {
  const dir = scratch();
  assert.equal(cli(['accounts', 'create', '--email', 'ops@example.com'], { dataDir: dir }).code, 0);
  const file = path.join(scratch(), 'b.bgbackup');
  assert.equal(cli(['backup', '--to', file], { dataDir: dir }).code, 0);
  const bytes = readFileSync(file);
  bytes.fill(0xff, 4096 * 2, 4096 * 6);
  writeFileSync(file, bytes);
  const checked = cli(['check', '--from', file]);
  assert.equal(checked.code, 1);
  assert.match(checked.stdout, /\d+ problems?\n/);
  assert.match(checked.stderr, /^error: the check of .* found \d+ problems; restore the latest sound backup/m);
  const target = path.join(scratch(), 'restored');
  const restored = cli(['restore', '--from', file, '--data-dir', target]);
  assert.equal(restored.code, 1);
  assert.match(restored.stderr, /damaged|malformed/);
  assert.ok(!existsSync(target), 'nothing is left behind');
});

test('backup, restore and check say what to do on PostgreSQL, and explain themselves', () => {
  for (const cmd of ['backup', 'restore', 'check']) {
    const args = cmd === 'backup' ? ['--to', '/tmp/x'] : cmd === 'restore' ? ['--from', '/tmp/x'] : [];
    const r = cli([cmd, ...args, '--database-url', 'postgresql://bg:secret@127.0.0.1:1/bg']);
    assert.equal(r.code, 1, cmd);
    assert.match(r.stderr, new RegExp(`${cmd} works on the embedded SQLite database; .*use pg_dump or point-in-time recovery`));
    assert.doesNotMatch(r.stderr, /secret/, 'the password is not printed');
  }
  const help = cli(['--help']);
  for (const cmd of ['backup', 'restore', 'check']) assert.match(help.stdout, new RegExp(`\\b${cmd}\\b`));
  assert.match(cli(['backup', '--help']).stdout, /--to/);
  assert.match(cli(['restore', '--help']).stdout, /--from/);
  const missing = cli(['check', '--data-dir', path.join(scratch(), 'none')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /there is no database at /);
});

// The Debian package and `make install` (issue #18, item 7): packaging/make-deb.sh builds
// bluegate_<version>_<arch>.deb from the build the tests run; its control fields, contents,
// conffile, maintainer scripts and hardened systemd unit (systemd-analyze verify and security)
// are checked, and the binary from the unpacked package serves with the package's own config.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BINARY } from './lib/gateway.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const buildDir = path.dirname(BINARY);
let work;
let deb;
let unpacked;
const version = /bluegate (\S+)/.exec(execFileSync(BINARY, ['--version'], { encoding: 'utf8' }))[1];

before(() => {
  work = mkdtempSync(path.join(tmpdir(), 'bluegate-package-'));
  deb = execFileSync(path.join(root, 'packaging/make-deb.sh'), [buildDir], { encoding: 'utf8', env: { ...process.env, TMPDIR: work } }).trim();
  unpacked = path.join(work, 'root');
  execFileSync('dpkg-deb', ['-x', deb, unpacked]);
});
after(() => rmSync(work, { recursive: true, force: true }));

test('the package is named for its version and architecture, with its control fields and conffile', () => {
  const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  assert.equal(path.basename(deb), `bluegate_${version}_${arch}.deb`);
  assert.equal(path.dirname(deb), buildDir);
  const field = (f) => execFileSync('dpkg-deb', ['-f', deb, f], { encoding: 'utf8' }).trim();
  assert.equal(field('Package'), 'bluegate');
  assert.equal(field('Version'), version);
  assert.equal(field('Architecture'), arch);
  const depends = field('Depends').split(', ');
  for (const p of ['adduser', 'libc6', 'libsqlite3-0', 'libssl3', 'libpq5']) assert.ok(depends.includes(p), `Depends: ${p}`);
  const control = path.join(work, 'control');
  execFileSync('dpkg-deb', ['-e', deb, control]);
  assert.equal(readFileSync(path.join(control, 'conffiles'), 'utf8'), '/etc/bluegate/bluegate.toml\n');
  for (const s of ['postinst', 'prerm', 'postrm']) {
    assert.equal(statSync(path.join(control, s)).mode & 0o777, 0o755, `${s} is executable`);
    assert.equal(spawnSync('sh', ['-n', path.join(control, s)]).status, 0, `${s} parses`);
  }
  const postinst = readFileSync(path.join(control, 'postinst'), 'utf8');
  assert.match(postinst, /adduser --system --group --home \/var\/lib\/bluegate --no-create-home/);
  assert.match(readFileSync(path.join(control, 'postrm'), 'utf8'), /never removed/, 'data is kept on purge');
});

test('the contents are owned by root, with the binary, the config and the unit where Debian keeps them', () => {
  const listing = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n');
  const entry = (p) => listing.find((l) => l.endsWith(` ${p}`));
  assert.match(entry('./'), /^drwxr-xr-x root\/root/);
  assert.match(entry('./usr/bin/bluegate'), /^-rwxr-xr-x root\/root/);
  assert.match(entry('./etc/bluegate/bluegate.toml'), /^-rw-r--r-- root\/root/);
  assert.match(entry('./usr/lib/systemd/system/bluegate.service'), /^-rw-r--r-- root\/root/);
  assert.ok(entry('./usr/share/doc/bluegate/docs/operations.md'), 'the docs');
  assert.ok(listing.every((l) => / root\/root /.test(l)), 'every file is root\'s');
  const size = statSync(path.join(unpacked, 'usr/bin/bluegate')).size;
  assert.ok(size < statSync(BINARY).size, 'the packaged binary is stripped');
});

test('the systemd unit is hardened and passes systemd-analyze', () => {
  const unit = readFileSync(path.join(unpacked, 'usr/lib/systemd/system/bluegate.service'), 'utf8');
  for (const line of ['User=bluegate', 'StateDirectory=bluegate', 'ProtectSystem=strict', 'NoNewPrivileges=yes',
    'CapabilityBoundingSet=', 'AmbientCapabilities=', 'PrivateTmp=yes', 'ExecReload=/bin/kill -HUP $MAINPID',
    'ExecStart=/usr/bin/bluegate serve --config /etc/bluegate/bluegate.toml --data-dir /var/lib/bluegate']) {
    assert.ok(unit.split('\n').includes(line), line);
  }
  // verify checks ExecStart's binary exists: point a copy at the unpacked one.
  const copy = path.join(work, 'bluegate.service');
  writeFileSync(copy, unit.replace('/usr/bin/bluegate', path.join(unpacked, 'usr/bin/bluegate')));
  const verify = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  const security = spawnSync('systemd-analyze', ['security', '--offline=true', copy], { encoding: 'utf8' });
  const exposure = Number(/Overall exposure level for bluegate\.service: ([\d.]+)/.exec(security.stdout + security.stderr)?.[1]);
  assert.ok(exposure <= 2.0, `exposure ${exposure} (0 is the most hardened, 10 none)`);
});

test('the packaged binary serves with the packaged configuration', async () => {
  const bin = path.join(unpacked, 'usr/bin/bluegate');
  assert.match(execFileSync(bin, ['--version'], { encoding: 'utf8' }), new RegExp(`^bluegate ${version.replace(/\./g, '\\.')}`));
  const data = path.join(work, 'data');
  const p = spawn(bin, ['serve', '--config', path.join(unpacked, 'etc/bluegate/bluegate.toml'), '--data-dir', data, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  try {
    const address = await new Promise((resolve, reject) => {
      p.stdout.on('data', () => { const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
      p.on('exit', () => reject(new Error(out)));
    });
    const res = await fetch(`http://${address}/healthz`);
    assert.equal(res.status, 200);
    assert.doesNotMatch(out, /Created the first account/, 'production: no bootstrap account');
    assert.ok(out.split('\n').filter((l) => l.startsWith('{')).length > 0, 'JSON logs');
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
  }
  assert.equal(statSync(data).mode & 0o777, 0o700, 'the data directory is private');
});

test('make install puts the same files under PREFIX', () => {
  const prefix = path.join(work, 'prefix');
  execFileSync('cmake', ['--install', buildDir, '--prefix', prefix], { stdio: 'ignore' });
  for (const f of ['bin/bluegate', 'etc/bluegate/bluegate.toml', 'lib/systemd/system/bluegate.service', 'share/doc/bluegate/README.md']) {
    assert.ok(existsSync(path.join(prefix, f)), f);
  }
});

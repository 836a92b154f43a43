// Starts the real bluegate binary on port 0 with a temporary data directory, and talks to it over
// HTTP. Used by every integration test.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BINARY = process.env.BLUEGATE_BIN ?? path.resolve(here, '../../../build/bluegate');

// Fast simulator and webhook settings so tests finish quickly; each test may override.
export const FAST_CONFIG = {
  blocked_numbers: ['+12125550188'],
  sim: { sent_delay: '20ms', delivered_delay: '30ms', read_delay: '30ms', slow_delay: '400ms', reply_delay: '20ms' },
  lines: { burst_per_second: 0, queue_capacity: 1500, resolve_timeout: '300ms', new_contacts_per_day: 0, new_contacts_per_hour: 0 },
  webhooks: { timeout: '2s', retry_schedule: ['0ms', '100ms', '200ms', '300ms'] },
  metrics: { per_line: true },
};

function toToml(obj) {
  const top = [];
  const tables = [];
  const value = (v) => (Array.isArray(v) ? `[${v.map(value).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v));
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const lines = [];
      const nested = [];
      for (const [k2, v2] of Object.entries(v)) {
        if (v2 && typeof v2 === 'object' && !Array.isArray(v2)) nested.push([k2, v2]);
        else lines.push(`${/^[A-Za-z0-9_-]+$/.test(k2) ? k2 : JSON.stringify(k2)} = ${value(v2)}`);
      }
      tables.push(`[${k}]\n${lines.join('\n')}`);
      for (const [k2, v2] of nested) {
        for (const [k3, v3] of Object.entries(v2)) {
          tables.push(`[${k}.${k2}.${JSON.stringify(k3)}]\n${Object.entries(v3).map(([a, b]) => `${a} = ${value(b)}`).join('\n')}`);
        }
      }
    } else {
      top.push(`${k} = ${value(v)}`);
    }
  }
  return [...top, ...tables].join('\n\n') + '\n';
}

export function makeDataDir() {
  return mkdtempSync(path.join(tmpdir(), 'bluegate-test-'));
}

// Runs an admin command to completion.
export function cli(args, { dataDir } = {}) {
  const full = dataDir ? [...args, '--data-dir', dataDir] : args;
  const r = spawnSync(BINARY, full, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export class Gateway {
  // `args`: more `serve` arguments (--database-url, --node-id for a scale-out node).
  // `listen`: the address to serve on (port 0: any free port). `wrapper`: a command (and its
  // arguments) the binary runs under, such as prlimit.
  constructor({ config = FAST_CONFIG, dataDir = makeDataDir(), args = [], listen = '127.0.0.1:0', wrapper = [] } = {}) {
    this.dataDir = dataDir;
    this.listen = listen;
    this.wrapper = wrapper;
    this.args = args;
    this.configPath = path.join(dataDir, 'bluegate.toml');
    this.scheme = config.tls ? 'https' : 'http';  // [tls]: the listener serves HTTPS
    writeFileSync(this.configPath, toToml(config));
    this.output = '';
  }

  // Writes another configuration file in place (for SIGHUP; a restart reads it too).
  writeConfig(config) {
    writeFileSync(this.configPath, toToml(config));
  }

  // Starts the server and waits for "listening on HOST:PORT". On the first start of a data dir the
  // bootstrap credentials are captured from the output.
  async start() {
    this.output = '';  // a restart reads its own address
    const argv = [BINARY, 'serve', '--config', this.configPath, '--data-dir', this.dataDir, '--listen', this.listen, ...this.args];
    this.proc = spawn(this.wrapper.length ? this.wrapper[0] : argv[0], [...this.wrapper.slice(1), ...(this.wrapper.length ? argv : argv.slice(1))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    const onData = (d) => { this.output += d.toString(); };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
    await new Promise((resolve, reject) => {
      const check = () => {
        const m = this.output.match(/listening on (\S+)/);
        if (m) {
          this.address = m[1];
          this.baseURL = `${this.scheme}://${m[1]}`;
          resolve();
        }
      };
      this.proc.stdout.on('data', check);
      this.proc.on('exit', () => reject(new Error(`bluegate exited before listening:\n${this.output}`)));
      check();
    });
    const key = this.output.match(/key id:\s+(\S+)/);
    const secret = this.output.match(/secret:\s+(\S+)/);
    const line = this.output.match(/line:\s+(\S+)/);
    if (key && !this.keyId) {
      this.keyId = key[1];
      this.secret = secret[1];
      this.line = line[1];
    }
    return this;
  }

  headers(extra = {}) {
    return { 'sb-api-key-id': this.keyId, 'sb-api-secret-key': this.secret, 'content-type': 'application/json', ...extra };
  }

  async request(method, urlPath, { body, headers, raw } = {}) {
    const res = await fetch(this.baseURL + urlPath, {
      method,
      headers: headers ?? this.headers(),
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, json, text };
  }

  send(body, opts = {}) {
    return this.request('POST', '/api/send-message', { body: { from_number: this.line, ...body }, ...opts });
  }

  status(handle) {
    return this.request('GET', `/api/status?handle=${encodeURIComponent(handle)}`);
  }

  // Polls GET /api/status until `predicate(message)` holds (event-driven wait with a deadline, no
  // fixed sleeps deciding outcomes).
  async waitForStatus(handle, predicate, timeoutMs = 10000) {
    const last = await eventually(async () => (await this.status(handle)).json,
      (m) => m && predicate(m), { timeoutMs });
    if (last && predicate(last)) return last;
    throw new Error(`timed out waiting on ${handle}; last seen: ${JSON.stringify(last)}`);
  }

  async metrics() {
    const res = await fetch(`${this.baseURL}/metrics`);
    return res.text();
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return this.exited;
    this.proc.kill('SIGTERM');
    return this.exited;
  }

  async kill9() {
    this.proc.kill('SIGKILL');
    return this.exited;
  }

  cleanup() {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// A real webhook receiver on loopback that records what arrives and can fail on command.
import http from 'node:http';

export class Receiver {
  constructor() {
    this.received = [];  // { path, headers, body, json, at }
    this.waiters = [];
    // (req, record) => { status, headers, delayMs } | undefined for 200
    this.behaviour = () => undefined;
  }

  async start() {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        let json;
        try { json = JSON.parse(body); } catch { json = undefined; }
        const record = { path: req.url, headers: req.headers, body, json, at: Date.now() };
        const plan = this.behaviour(req, record) ?? {};
        const finish = () => {
          if (plan.destroy) {
            req.socket.destroy();
          } else {
            res.writeHead(plan.status ?? 200, { 'content-type': 'application/json', ...(plan.headers ?? {}) });
            res.end('{}');
          }
          record.answered = plan.destroy ? 0 : plan.status ?? 200;
          this.received.push(record);
          this.notify();
        };
        if (plan.delayMs) setTimeout(finish, plan.delayMs); else finish();
      });
    });
    this.server.keepAliveTimeout = 30000;
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  notify() {
    for (const w of [...this.waiters]) {
      if (w.predicate(this.received)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(this.received);
      }
    }
  }

  // Resolves once predicate(received) holds; rejects after timeoutMs.
  waitFor(predicate, timeoutMs = 10000) {
    if (predicate(this.received)) return Promise.resolve(this.received);
    return new Promise((resolve, reject) => {
      const w = { predicate, resolve: (v) => { clearTimeout(w.timer); resolve(v); } };
      this.waiters.push(w);
      w.timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new Error(`receiver timed out; got ${this.received.length}: ${JSON.stringify(this.received.map((r) => r.json?.status))}`));
        }
      }, timeoutMs);
    });
  }

  forHandle(handle) {
    return this.received.filter((r) => r.json?.message_handle === handle && r.answered >= 200 && r.answered < 300);
  }

  async stop() {
    this.server.closeAllConnections?.();
    await new Promise((r) => this.server.close(r));
  }
}

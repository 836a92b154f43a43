// A fake BlueBubbles server: what cannot run here is the Mac, so this follows the server's
// published REST contract (/api/v1, the password as the `password` query parameter, the
// {status, message, data} envelope, synchronous sends answered once Messages has sent, webhooks
// as {type, data} POSTs) and misbehaves on command: slow sends, sends that go through after the
// caller gave up, failed sends, lost webhooks, a server that is down.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Waitable } from './waitable.mjs';

export class FakeBlueBubbles extends Waitable {
  constructor({ password = 'bb-secret', privateApi = false } = {}) {
    super();
    this.password = password;
    this.privateApi = privateApi;
    this.rows = [];        // the Messages database: { guid, text, isFromMe, dateCreated, ... }
    this.sends = [];       // every POST /api/v1/message/text body, as received (attachments too)
    this.attachments = []; // every POST /api/v1/message/attachment: its fields and the file
    this.calls = [];       // every request: { method, path, query }
    this.webhooks = [];    // registered: { id, url, events }
    this.webhookPosts = 0; // webhook deliveries attempted
    // Behaviour, changed by tests between steps.
    this.sendDelayMs = 20;      // how long Messages takes to send
    this.hangNext = 0;          // sends that go through but are never answered
    this.failNext = 0;          // sends that fail (Messages error 22)
    this.loseWebhooks = false;  // webhooks are not delivered (the caller must poll)
    this.deliverAfterMs = 30;   // the phone confirms delivery this long after the send (-1: never)
    this.available = () => true;  // iMessage availability of an address
  }

  async start() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  options(extra = {}) {
    const o = { url: this.url, password: this.password, ...extra };
    return Object.entries(o).flatMap(([k, v]) => ['--option', `${k}=${v}`]);
  }

  handle(req, res) {
    const url = new URL(req.url, this.url);
    const chunks = [];
    req.on('data', (c) => { chunks.push(c); });
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString();
      const json = (status, payload) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status, ...payload }));
      };
      const q = Object.fromEntries(url.searchParams);
      this.calls.push({ method: req.method, path: url.pathname, query: q });
      this.notify();
      const token = q.guid ?? q.password ?? q.token;
      if (!token) return json(401, { message: 'Unauthorized', error: { type: 'Authentication Error', error: 'Missing server password!' } });
      if (token !== this.password) return json(401, { message: 'Unauthorized', error: { type: 'Authentication Error', error: 'Invalid password!' } });
      let data = {};
      const type = req.headers['content-type'] ?? '';
      if (type.startsWith('multipart/form-data')) {
        data = parseMultipart(raw, type.split('boundary=')[1]);
      } else {
        try { data = body ? JSON.parse(body) : {}; } catch { return json(400, { message: 'Bad Request' }); }
      }
      const p = url.pathname;
      const m = req.method;
      if (m === 'GET' && p === '/api/v1/ping') return json(200, { message: 'Ping received!', data: 'pong' });
      if (m === 'GET' && p === '/api/v1/webhook') {
        return json(200, { message: 'Successfully fetched webhooks!', data: this.webhooks.filter((w) => !q.url || w.url === q.url) });
      }
      if (m === 'POST' && p === '/api/v1/webhook') {
        const w = { id: this.webhooks.length + 1, url: data.url, events: data.events };
        this.webhooks.push(w);
        this.notify();
        return json(200, { message: 'Successfully created webhook!', data: w });
      }
      if (m === 'POST' && p === '/api/v1/message/text') return this.sendText(data, json, res);
      if (m === 'POST' && p === '/api/v1/message/attachment') {
        if (!data.attachment) return json(400, { message: 'Bad Request', error: { error: 'No attachment provided!' } });
        this.attachments.push(data);
        return this.sendText({ ...data, message: '', attachment: undefined }, json, res);
      }
      if (m === 'POST' && p === '/api/v1/message/query') {
        const after = Number(data.after ?? 0);
        let rows = this.rows.filter((r) => r.dateCreated > after);
        if (data.sort === 'DESC') rows = [...rows].reverse();
        rows = rows.slice(Number(data.offset ?? 0), Number(data.offset ?? 0) + Number(data.limit ?? 100));
        // Rows come from the Messages database: they carry no tempGuid.
        const out = rows.map(({ tempGuid, ...r }) => r);
        return json(200, { message: 'Successfully fetched messages!', data: out, metadata: { count: out.length } });
      }
      if (m === 'GET' && p === '/api/v1/handle/availability/imessage') {
        if (!this.privateApi) return json(500, { message: 'iMessage Private API Helper is not connected!' });
        return json(200, { message: 'Successfully determined iMessage availability!', data: { available: this.available(q.address) } });
      }
      const chat = p.match(/^\/api\/v1\/chat\/([^/]+)\/(typing|read)$/);
      if (chat || (m === 'POST' && p === '/api/v1/message/react')) {
        if (!this.privateApi) return json(500, { message: 'iMessage Private API Helper is not connected!' });
        return json(200, { message: 'Success', data: chat ? { chat: decodeURIComponent(chat[1]), action: `${m} ${chat[2]}` } : data });
      }
      return json(404, { message: 'Not Found' });
    });
  }

  async sendText(data, json, res) {
    this.sends.push(data);
    this.notify();
    const fail = this.failNext > 0 && this.failNext--;
    const hang = !fail && this.hangNext > 0 && this.hangNext--;
    await new Promise((r) => setTimeout(r, this.sendDelayMs));
    const address = data.chatGuid.split(';-;')[1];
    const row = {
      guid: randomUUID().toUpperCase(),
      tempGuid: data.tempGuid,
      text: data.message,
      isFromMe: true,
      dateCreated: Date.now(),
      dateDelivered: 0,
      dateRead: 0,
      error: fail ? 22 : 0,
      handle: { address },
      chats: [{ guid: data.chatGuid }],
      expressiveSendStyleId: data.effectId ?? null,
    };
    this.rows.push(row);
    this.notify();
    if (fail) {
      this.emit('message-send-error', row);
      return json(500, { message: 'Message Send Error', error: { type: 'iMessage Error', error: 'Failed to send message! See attached message error code.' }, data: row });
    }
    this.emit('new-message', row);
    if (this.deliverAfterMs >= 0) {
      setTimeout(() => {
        row.dateDelivered = Date.now();
        const { tempGuid, ...update } = row;
        this.emit('updated-message', update);
      }, this.deliverAfterMs);
    }
    if (hang) {
      res.socket.setTimeout(0);
      return;  // never answered: the caller gives up, the message went anyway
    }
    return json(200, { message: 'Message sent!', data: row });
  }

  emit(type, data) {
    for (const w of this.webhooks) {
      if (!w.events.includes(type)) continue;
      this.webhookPosts++;
      if (this.loseWebhooks) continue;
      fetch(w.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, data }) }).catch(() => {});
    }
  }

  // A contact writes to the Mac.
  incoming({ from, text }) {
    const row = {
      guid: randomUUID().toUpperCase(), text, isFromMe: false, dateCreated: Date.now(), dateDelivered: 0, dateRead: 0,
      error: 0, handle: { address: from, service: 'iMessage' }, chats: [{ guid: `iMessage;-;${from}` }],
    };
    this.rows.push(row);
    this.emit('new-message', row);
  }

  typing({ from, display }) {
    this.emit('typing-indicator', { display, guid: `iMessage;-;${from}` });
  }

  describe() {
    return `sends: ${this.sends.length}, webhooks: ${this.webhooks.length}`;
  }

  async stop() {
    this.server.closeAllConnections?.();
    await new Promise((r) => this.server.close(r));
  }
}

// multipart/form-data as the server's form parser reads it: fields as strings, the file part as
// { filename, bytes }.
function parseMultipart(raw, boundary) {
  const out = {};
  const text = raw.toString('latin1');
  for (const part of text.split(`--${boundary}`)) {
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    const head = part.slice(0, sep);
    const name = head.match(/name="([^"]+)"/)?.[1];
    if (!name) continue;
    const value = part.slice(sep + 4, part.endsWith('\r\n') ? -2 : undefined);
    const filename = head.match(/filename="([^"]+)"/)?.[1];
    out[name] = filename ? { filename, bytes: Buffer.from(value, 'latin1') } : Buffer.from(value, 'latin1').toString();
  }
  return out;
}

// A small SMSC for tests, built on the npm `smpp` package: a real SMPP 3.4 peer on a free
// loopback port. It accepts binds, answers submit_sm, sends delivery receipts and phones'
// messages (deliver_sm), and misbehaves on command: refuses binds, throttles, delays or withholds
// responses, drops connections, unbinds.
import smpp from 'smpp';
import { Waitable } from './waitable.mjs';

export class Smsc extends Waitable {
  // `tls`: { key, cert } (PEM) for SMPP over TLS.
  constructor({ systemId = 'bluegate', password = 'secret', tls = null } = {}) {
    super();
    this.tls = tls;
    this.systemId = systemId;
    this.password = password;
    this.sessions = new Set();
    this.submits = [];      // { line, to, text, esm_class, data_coding, udh, id, at, session }
    this.binds = [];        // { system_id, password, status, at }
    this.maxBound = 0;      // the most sessions ever bound at once
    this.enquireLinks = 0;
    this.nextId = 0x1000;
    // Behaviour, changed by tests between steps.
    this.refuseBinds = false;
    this.throttleNext = 0;        // answer this many submits with ESME_RTHROTTLED
    this.queueFullNext = 0;       // answer this many with ESME_RMSGQFUL
    this.rejectNext = 0;          // answer this many with ESME_RSUBMITFAIL (0x45)
    this.responseDelayMs = 0;     // wait before each submit_sm_resp
    this.responseDelay = null;    // (submit) => ms, instead of responseDelayMs
    this.withholdNext = 0;        // never answer this many submits (they still "go out")
    this.dropOnSubmit = false;    // close the connection instead of answering the next submit
    this.receipts = true;         // send a receipt for each accepted segment
    this.receiptDelayMs = 10;
    this.receiptStat = () => 'DELIVRD';  // (submit) => 'DELIVRD' | 'UNDELIV' | ...
    this.receiptIdBase = 16;      // ids in submit_sm_resp are hex; receipts use this base
    this.receiptTlvs = false;     // also receipted_message_id and message_state TLVs
    this.keepRecords = true;      // false: keep no per-submit records (benchmarks)
  }

  async start() {
    this.server = smpp.createServer(this.tls ?? {}, (session) => this.accept(session));
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }

  // The --option arguments of `bluegate lines add` for a line on this SMSC.
  options(extra = {}) {
    const o = { host: '127.0.0.1', port: this.port, system_id: this.systemId, password: this.password, ...extra };
    return Object.entries(o).flatMap(([k, v]) => ['--option', `${k}=${v}`]);
  }

  accept(session) {
    session.on('error', () => {});
    session.on('close', () => { this.sessions.delete(session); this.notify(); });
    const bind = (pdu) => {
      const ok = !this.refuseBinds && pdu.system_id === this.systemId && pdu.password === this.password;
      const status = ok ? 0 : smpp.ESME_RBINDFAIL;
      this.binds.push({ system_id: pdu.system_id, password: pdu.password, status, at: Date.now() });
      session.send(pdu.response({ command_status: status, system_id: 'test-smsc' }));
      if (ok) {
        session.bound = true;
        session.addressRange = pdu.address_range;
        this.sessions.add(session);
        this.maxBound = Math.max(this.maxBound, this.boundCount());
      } else {
        setTimeout(() => session.close(), 10);
      }
      this.notify();
    };
    session.on('bind_transceiver', bind);
    session.on('enquire_link', (pdu) => { this.enquireLinks++; session.send(pdu.response()); this.notify(); });
    session.on('unbind', (pdu) => { session.send(pdu.response()); session.close(); });
    session.on('submit_sm', (pdu) => this.onSubmit(session, pdu));
    session.on('deliver_sm_resp', () => {});
  }

  onSubmit(session, pdu) {
    const sm = pdu.short_message;
    const record = {
      line: `+${pdu.source_addr}`,
      to: `+${pdu.destination_addr}`,
      text: typeof sm === 'string' ? sm : sm.message,
      udh: typeof sm === 'object' && sm.udh ? Buffer.concat(sm.udh) : null,
      esm_class: pdu.esm_class,
      data_coding: pdu.data_coding,
      registered_delivery: pdu.registered_delivery,
      at: Date.now(),
      session,
    };
    if (this.dropOnSubmit) {
      this.dropOnSubmit = false;
      record.dropped = true;
      this.submits.push(record);
      session.destroy();
      this.notify();
      return;
    }
    let status = 0;
    if (this.throttleNext > 0) { this.throttleNext--; status = smpp.ESME_RTHROTTLED; }
    else if (this.queueFullNext > 0) { this.queueFullNext--; status = smpp.ESME_RMSGQFUL; }
    else if (this.rejectNext > 0) { this.rejectNext--; status = 0x45; }
    record.status = status;
    if (status === 0) record.id = (this.nextId++).toString(16).toUpperCase();
    if (this.keepRecords) this.submits.push(record);
    this.notify();
    if (status === 0 && this.withholdNext > 0) {
      this.withholdNext--;
      record.withheld = true;
      return;
    }
    const answer = () => {
      session.send(pdu.response(status === 0 ? { message_id: record.id } : { command_status: status }));
      if (status === 0 && this.receipts && pdu.registered_delivery) {
        setTimeout(() => this.sendReceipt(session, record), this.receiptDelayMs);
      }
    };
    const delay = this.responseDelay?.(record) ?? this.responseDelayMs;
    if (delay > 0) setTimeout(answer, delay); else answer();
  }

  sendReceipt(session, record, stat = this.receiptStat(record)) {
    const id = this.receiptIdBase === 10 ? String(parseInt(record.id, 16)) : record.id;
    const err = stat === 'DELIVRD' ? '000' : '034';
    const params = {
      source_addr: record.to.slice(1),
      destination_addr: record.line.slice(1),
      esm_class: 0x04,
      short_message: `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:2611231200 done date:2611231201 stat:${stat} err:${err} text:`,
    };
    if (this.receiptTlvs) {
      params.receipted_message_id = record.id;
      params.message_state = stat === 'DELIVRD' ? 2 : 5;
    }
    session.deliver_sm(params);
  }

  // A phone's message to a line; long texts go in concatenated parts (UDH, 8-bit reference).
  // It goes to the bind whose address_range is the line's number (as SMSCs route MO traffic).
  sendMo({ from, to, text, parts }) {
    const digits = to.replace(/^\+/, '');
    const session = [...this.sessions].find((s) => s.addressRange === digits) ?? [...this.sessions][0];
    if (!session) throw new Error('no bound session');
    if (!parts) {
      session.deliver_sm({ source_addr: from.replace(/^\+/, ''), source_addr_ton: 1, destination_addr: to.replace(/^\+/, ''), short_message: text });
      return;
    }
    const ref = 0x42;
    parts.forEach(([index, chunk]) => {
      session.deliver_sm({
        source_addr: from.replace(/^\+/, ''),
        source_addr_ton: 1,
        destination_addr: to.replace(/^\+/, ''),
        short_message: { udh: Buffer.from([0x05, 0x00, 0x03, ref, parts.total ?? parts.length, index]), message: chunk },
      });
    });
  }

  // Ends every connection abruptly (as a crashed SMSC or a lost network would).
  dropAll() {
    for (const s of this.sessions) s.destroy();
  }

  // Asks every bound ESME to unbind (as an SMSC going down for maintenance does).
  unbindAll() {
    for (const s of this.sessions) s.unbind();
  }

  boundCount() {
    return [...this.sessions].filter((s) => s.bound).length;
  }

  describe() {
    return `submits: ${JSON.stringify(this.submits.map((s) => [s.to, s.status, s.text?.slice(0, 20)]))}, binds: ${JSON.stringify(this.binds.map((b) => b.status))}`;
  }

  async stop() {
    for (const s of this.sessions) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

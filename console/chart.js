// A small live line chart on a canvas: one series per status, a point per second, the last
// `span` seconds. Drawn by hand so that the console needs no library at run time.
export const COLORS = { QUEUED: '#7a869a', ACCEPTED: '#a36bd6', SENT: '#1468d8', DELIVERED: '#067647', READ: '#2f9e8f', ERROR: '#b42318', RECEIVED: '#c77c02' };

export class LiveChart {
  constructor(canvas, span = 60) {
    this.canvas = canvas;
    this.span = span;
    this.buckets = new Map();  // second → { status: count }
  }

  count(status, at = Date.now()) {
    const s = Math.floor(at / 1000);
    const b = this.buckets.get(s) ?? {};
    b[status] = (b[status] ?? 0) + 1;
    this.buckets.set(s, b);
  }

  draw() {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    c.width = c.clientWidth * ratio;
    c.height = c.clientHeight * ratio;
    const g = c.getContext('2d');
    g.scale(ratio, ratio);
    const w = c.clientWidth, hgt = c.clientHeight, pad = 28;
    const now = Math.floor(Date.now() / 1000);
    for (const s of this.buckets.keys()) if (s < now - this.span) this.buckets.delete(s);
    let max = 1;
    for (const b of this.buckets.values()) for (const v of Object.values(b)) max = Math.max(max, v);
    g.clearRect(0, 0, w, hgt);
    g.strokeStyle = '#d9dee4';
    g.fillStyle = '#5d6b7a';
    g.font = '11px system-ui';
    g.beginPath(); g.moveTo(pad, 4); g.lineTo(pad, hgt - pad); g.lineTo(w - 4, hgt - pad); g.stroke();
    g.fillText(`${max}/s`, 2, 12);
    g.fillText(`${this.span} s ago`, pad, hgt - 10);
    g.fillText('now', w - 30, hgt - 10);
    for (const [status, color] of Object.entries(COLORS)) {
      g.strokeStyle = color;
      g.lineWidth = 2;
      g.beginPath();
      for (let i = 0; i <= this.span; i++) {
        const s = now - this.span + i;
        const v = this.buckets.get(s)?.[status] ?? 0;
        const x = pad + (i / this.span) * (w - pad - 6);
        const y = hgt - pad - (v / max) * (hgt - pad - 8);
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      }
      g.stroke();
    }
  }
}

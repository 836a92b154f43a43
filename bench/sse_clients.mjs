// SSE fan-out benchmark client: opens N streams on GET /api/v2/events?types=message.created and
// reports, once every stream has received `expect` events, how long that took from `start`.
// Usage: node bench/sse_clients.mjs URL KEY SECRET N EXPECT
import http from 'node:http';

const [url, key, secret, n, expect] = process.argv.slice(2);
const streams = Number(n);
const want = Number(expect);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
let connected = 0;
let done = 0;
let first = 0;
const target = new URL('/api/v2/events?types=message.created', url);
for (let i = 0; i < streams; i++) {
  let got = 0;
  const req = http.get(target, { agent, headers: { 'sb-api-key-id': key, 'sb-api-secret-key': secret } }, (res) => {
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (chunk) => {
      if (buf === '' && got === 0 && chunk.startsWith(': connected')) {
        if (++connected === streams) console.log(JSON.stringify({ connected }));
      }
      buf += chunk;
      let at;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, at);
        buf = buf.slice(at + 2);
        if (frame.startsWith('id:')) {
          if (!first) first = Date.now();
          if (++got === want && ++done === streams) {
            console.log(JSON.stringify({ done, ms: Date.now() - first, events: streams * want }));
            process.exit(0);
          }
        }
      }
    });
  });
  req.on('error', (e) => { console.error(e.message); process.exit(1); });
}

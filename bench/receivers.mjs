// Many webhook receivers in one process, for benchmarks: ports BASE..BASE+N-1 answer 200 at once;
// with SLOW_PORT set, that port answers after SLOW_MS. GET /count on any port reports the counts
// of the fast ports together and of the slow one.
import http from 'node:http';

const base = Number(process.argv[2]);
const n = Number(process.argv[3] ?? 1);
const slowPort = Number(process.env.SLOW_PORT ?? 0);
const slowMs = Number(process.env.SLOW_MS ?? 10000);
const stats = { fast: 0, slow: 0, first: 0, last: 0 };

function handler(port) {
  return (req, res) => {
    if (req.method === 'GET') {
      res.end(JSON.stringify(stats));
      return;
    }
    req.resume();
    req.on('end', () => {
      if (port === slowPort) {
        stats.slow++;
        setTimeout(() => res.end(), slowMs);
        return;
      }
      const now = Date.now();
      if (!stats.first) stats.first = now;
      stats.last = now;
      stats.fast++;
      res.end();
    });
  };
}

const ports = Array.from({ length: n }, (_, i) => base + i);
if (slowPort) ports.push(slowPort);
let listening = 0;
for (const port of ports) {
  const server = http.createServer(handler(port));
  server.keepAliveTimeout = 60000;
  server.listen(port, '127.0.0.1', () => {
    if (++listening === ports.length) console.log(`receivers on ${base}..${base + n - 1}${slowPort ? ` and slow ${slowPort}` : ''}`);
  });
}

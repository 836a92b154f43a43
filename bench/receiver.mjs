// A fast webhook receiver for benchmarks: answers 200 at once and counts. GET /count reports.
import http from 'node:http';
let count = 0;
let first = 0;
let last = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.end(JSON.stringify({ count, first, last }));
    return;
  }
  req.resume();
  req.on('end', () => {
    const now = Date.now();
    if (!first) first = now;
    last = now;
    count++;
    res.end();
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`receiver on ${server.address().port}`);
});

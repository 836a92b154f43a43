// For the media benchmark: answers HEAD (and GET) for any path with a 1 MiB video's headers.
// Usage: node bench/media_server.mjs PORT
import http from 'node:http';

let heads = 0;
http.createServer((req, res) => {
  if (req.url === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ heads }));
  }
  if (req.method === 'HEAD') heads++;
  res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': 1048576 });
  res.end(req.method === 'HEAD' ? undefined : Buffer.alloc(1048576));
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('media server ready'));

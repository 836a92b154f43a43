// Many sends, fast: POST /api/send-message over a pool of kept-alive connections (node:http),
// which a test uses to build a backlog of tens of thousands of messages in seconds.
import http from 'node:http';

export function bulkSender(gw, { connections = 32 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const [host, port] = gw.address.split(':');
  const send = (body) => new Promise((resolve, reject) => {
    const data = JSON.stringify({ from_number: gw.line, ...body });
    const req = http.request({
      host, port, path: '/api/send-message', method: 'POST', agent,
      headers: { ...gw.headers(), 'content-length': Buffer.byteLength(data) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(data);
  });
  return { send, close: () => agent.destroy() };
}

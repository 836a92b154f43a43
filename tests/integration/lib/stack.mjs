// The usual test setup: a webhook receiver, a gateway, and the official SDK pointed at it.
import Sendblue from 'sendblue';
import { Gateway } from './gateway.mjs';
import { Receiver } from './receiver.mjs';

export async function startStack(options = {}) {
  const rx = await new Receiver().start();
  const gw = await new Gateway(options).start();
  const client = new Sendblue({ apiKey: gw.keyId, apiSecret: gw.secret, baseURL: gw.baseURL });
  return {
    gw,
    rx,
    client,
    async stop() {
      const exit = await gw.stop();
      gw.cleanup();
      await rx.stop();
      return exit;
    },
  };
}

// The error an SDK call fails with; fails the test when the call succeeds.
export async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the SDK call to fail');
}

// POST /api/send-message from `line` with a status_callback to the receiver's /cb.
export function sendWithCallback(gw, rx, line, number, content, extra = {}) {
  return gw.request('POST', '/api/send-message', {
    body: { from_number: line, number, content, status_callback: `${rx.url}/cb`, ...extra },
  });
}

// Waits until the receiver's /cb got `status` for `handle`; returns every status it got for it.
export async function callbacksUntil(rx, handle, status, timeoutMs = 15000) {
  await rx.waitFor((xs) => xs.some((x) => x.path === '/cb' && x.json?.message_handle === handle && x.json.status === status), timeoutMs);
  return rx.forHandle(handle).filter((x) => x.path === '/cb').map((x) => x.json.status);
}

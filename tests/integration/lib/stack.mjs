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

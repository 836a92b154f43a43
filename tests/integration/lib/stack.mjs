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

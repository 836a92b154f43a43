// The test SMSC (tests/integration/lib/smsc.mjs) as a standalone process for bench/run.sh smpp:
// prints "ready PORT", answers every submit at once and sends its receipt.
import { Smsc } from '../tests/integration/lib/smsc.mjs';

const smsc = await new Smsc().start();
smsc.receiptDelayMs = 0;
smsc.keepRecords = false;
console.log(`ready ${smsc.port}`);
setInterval(() => {}, 1 << 30);

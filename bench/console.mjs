// The console's speed (issue #17): time to interactive of the first page after sign-in, and a
// conversation of 10,000 messages against one of 100 (the same page, the same run), in Debian's
// chromium through puppeteer-core. Usage: node bench/console.mjs BASE_URL KEY SECRET LINE
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/integration/package.json', import.meta.url));
const puppeteer = require('puppeteer-core');
const [base, key, secret, line] = process.argv.slice(2);
const headers = { 'sb-api-key-id': key, 'sb-api-secret-key': secret, 'content-type': 'application/json' };

async function seed(number, count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const r = await fetch(`${base}/api/send-message`, { method: 'POST', headers, body: JSON.stringify({ number, from_number: line, content: `message ${i} of ${count}` }) });
      if (!r.ok) throw new Error(`seed: HTTP ${r.status} ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const t0 = Date.now();
await seed('+12125550171', 100);
await seed('+12125550172', 10_000);
console.log(`seeded 10,100 messages in ${Date.now() - t0} ms`);

const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 800 });
await page.goto(`${base}/console/`);
await page.waitForSelector('input[name=key_id]');
await page.type('input[name=key_id]', key);
await page.type('input[name=secret]', secret);
await Promise.all([page.waitForNavigation(), page.click('#signin button[type=submit]')]);
await page.waitForSelector('#rate-chart');

const rounds = 5;
const first = [];
for (let i = 0; i < rounds; i++) {
  await page.goto('about:blank');  // each round loads the page afresh (the cache is off: no-store)
  const start = Date.now();
  await page.goto(`${base}/console/#/`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#rate-chart');
  await page.waitForFunction(() => document.querySelectorAll('table tr').length > 1);
  first.push(Date.now() - start);
}
console.log(`first page (overview) interactive after sign-in: median ${median(first)} ms of ${rounds} (${first.join(', ')})`);

async function conversation(number) {
  const times = [];
  let bubbles = 0, heap = 0, older = 0;
  for (let i = 0; i < rounds; i++) {
    await page.goto('about:blank');
    const start = Date.now();
    await page.goto(`${base}/console/#/conversations/${encodeURIComponent(number)}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#thread .bubble');
    times.push(Date.now() - start);
    bubbles = await page.$$eval('#thread .bubble', (x) => x.length);
    heap = (await page.metrics()).JSHeapUsedSize;
  }
  const t = Date.now();
  await page.$eval('#thread', (el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
  await page.waitForFunction((n) => document.querySelectorAll('#thread .bubble').length > n || n >= 100, {}, bubbles);
  older = Date.now() - t;
  const after = await page.$$eval('#thread .bubble', (x) => x.length);
  return { median: median(times), times, bubbles, after, older, heapMB: (heap / 1048576).toFixed(1) };
}
const small = await conversation('+12125550171');
const large = await conversation('+12125550172');
for (const [name, r] of [['100 messages', small], ['10,000 messages', large]]) {
  console.log(`conversation of ${name}: shown in median ${r.median} ms (${r.times.join(', ')}); ${r.bubbles} bubbles in the page, ${r.after} after one scroll to the top (${r.older} ms); JS heap ${r.heapMB} MB`);
}
console.log(`ratio 10,000 / 100 messages (time to show): ${(large.median / small.median).toFixed(2)}`);
await browser.close();

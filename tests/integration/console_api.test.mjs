// The console's sign-in and session over plain HTTP (issue #17), without a browser: the cookie's
// attributes, CSRF on every change, the page's security headers, isolation between accounts,
// revocation, the bound on sessions, and sign-in refused from another site.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway, FAST_CONFIG, cli } from './lib/gateway.mjs';

let gw;
before(async () => { gw = await new Gateway({ config: { ...FAST_CONFIG, console: { max_sessions: 3 } } }).start(); });
after(async () => { await gw.stop(); gw.cleanup(); });

async function signIn(keyId = gw.keyId, secret = gw.secret, headers = {}) {
  const res = await fetch(`${gw.baseURL}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ key_id: keyId, secret }).toString(),
  });
  const setCookie = res.headers.get('set-cookie') ?? '';
  const m = setCookie.match(/bluegate_session=([0-9a-f]+)/);
  const cookie = m ? `bluegate_session=${m[1]}` : '';
  let csrf = '';
  if (cookie) csrf = (await (await fetch(`${gw.baseURL}/console/session`, { headers: { cookie } })).json()).csrf_token;
  return { res, setCookie, cookie, csrf };
}

function send(cookie, csrf, body = { number: '+12125550100', content: 'from the console' }) {
  const headers = { cookie, 'content-type': 'application/json' };
  if (csrf !== undefined) headers['x-csrf-token'] = csrf;
  return fetch(`${gw.baseURL}/api/send-message`, { method: 'POST', headers, body: JSON.stringify(body) });
}

test('/ leads to the console, served with a CSP that allows no inline script and no framing', async () => {
  const root = await fetch(`${gw.baseURL}/`, { redirect: 'manual' });
  assert.equal(root.status, 303);
  assert.equal(root.headers.get('location'), '/console/');
  const page = await fetch(`${gw.baseURL}/console/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  const csp = page.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const html = await page.text();
  assert.match(html, /<input name="key_id"/);
  assert.match(html, /<input name="secret"/);
  assert.doesNotMatch(html, /<script>(?!<)/, 'no inline script');
  assert.equal((await fetch(`${gw.baseURL}/console/nope.js`)).status, 404);
});

test('signing in sets an HttpOnly, SameSite=Strict cookie (not Secure over plain HTTP)', async () => {
  const { res, setCookie, csrf } = await signIn();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/console/');
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.match(setCookie, /Path=\//);
  assert.doesNotMatch(setCookie, /Secure/);
  assert.match(csrf, /^[0-9a-f]{64}$/);
  const wrong = await signIn(gw.keyId, 'wrong');
  assert.equal(wrong.res.headers.get('location'), '/console/?error=credentials');
  assert.equal(wrong.setCookie, '');
});

test('a change through the cookie needs the session\'s CSRF token; reads do not', async () => {
  const { cookie, csrf } = await signIn();
  assert.equal((await fetch(`${gw.baseURL}/api/v2/messages`, { headers: { cookie } })).status, 200);
  const none = await send(cookie, undefined);
  assert.equal(none.status, 403);
  assert.match((await none.json()).message, /x-csrf-token/);
  const other = await signIn();
  assert.equal((await send(cookie, other.csrf)).status, 403, 'another session\'s token');
  const ok = await send(cookie, csrf);
  assert.equal(ok.status, 200, await ok.text());
  const logout = await fetch(`${gw.baseURL}/console/logout`, { method: 'POST', headers: { cookie } });
  assert.equal(logout.status, 403, 'signing out needs the token too');
});

test('sign-in posted from another site is refused', async () => {
  const { res, setCookie } = await signIn(gw.keyId, gw.secret, { origin: 'https://evil.example' });
  assert.equal(res.status, 403);
  assert.equal(setCookie, '');
  const same = await signIn(gw.keyId, gw.secret, { origin: gw.baseURL });
  assert.equal(same.res.status, 303);
});

test('a session sees only its own account, and ends when its key is revoked', async () => {
  assert.equal(cli(['accounts', 'create', '--email', 'b@example.com', '--key-id', 'b-key', '--secret', 'b-secret'], { dataDir: gw.dataDir }).code, 0);
  const mine = await gw.send({ number: '+12125550100', content: 'the first account only' });
  const a = await signIn();
  const b = await signIn('b-key', 'b-secret');
  const url = `${gw.baseURL}/api/v2/messages/${mine.json.message_handle}`;
  assert.equal((await fetch(url, { headers: { cookie: a.cookie } })).status, 200);
  assert.equal((await fetch(url, { headers: { cookie: b.cookie } })).status, 404, 'another account\'s message');
  const list = await (await fetch(`${gw.baseURL}/api/v2/messages`, { headers: { cookie: b.cookie } })).json();
  assert.equal(list.data.length, 0);
  assert.equal(cli(['keys', 'revoke', '--key-id', 'b-key'], { dataDir: gw.dataDir }).code, 0);
  let status = 200;
  for (let i = 0; i < 40 && status === 200; i++) {
    status = (await fetch(`${gw.baseURL}/api/v2/messages`, { headers: { cookie: b.cookie } })).status;
    if (status === 200) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(status, 401, 'a revoked key\'s session is refused');
  assert.equal((await (await fetch(`${gw.baseURL}/console/session`, { headers: { cookie: b.cookie } })).json()).signed_in, false);
});

test('past console.max_sessions the least recently used session ends', async () => {
  const first = await signIn();
  await signIn();
  await signIn();
  await signIn();
  const r = await fetch(`${gw.baseURL}/api/v2/messages`, { headers: { cookie: first.cookie } });
  assert.equal(r.status, 401);
  assert.match((await r.json()).message, /console session has ended/);
});

test('with console.enabled = false, / and /console/ answer 404 and the API is unchanged', async () => {
  const off = await new Gateway({ config: { ...FAST_CONFIG, console: { enabled: false } } }).start();
  try {
    for (const p of ['/', '/console/', '/console/app.js']) {
      const r = await fetch(`${off.baseURL}${p}`, { redirect: 'manual' });
      assert.equal(r.status, 404, p);
      assert.match((await r.json()).message, /the console is off/);
    }
    assert.equal((await off.request('GET', '/api/v2/messages')).status, 200);
  } finally {
    await off.stop();
    off.cleanup();
  }
});

test('the operator token opens the all-accounts view only; changes need the CSRF token and valid limits', async () => {
  const token = 'operator-token-0123456789abcdef';
  const op = await new Gateway({ config: { ...FAST_CONFIG, console: { operator_token: token } } }).start();
  try {
    const login = (t) => fetch(`${op.baseURL}/console/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ operator_token: t }).toString() });
    const wrong = await login('operator-token-0123456789abcdeX');
    assert.equal(wrong.headers.get('location'), '/console/?error=operator');
    assert.equal(wrong.headers.get('set-cookie'), null);
    const res = await login(token);
    const cookie = res.headers.get('set-cookie').match(/bluegate_session=[0-9a-f]+/)[0];
    const session = await (await fetch(`${op.baseURL}/console/session`, { headers: { cookie } })).json();
    assert.equal(session.operator, true);
    const api = await fetch(`${op.baseURL}/api/v2/messages`, { headers: { cookie } });
    assert.equal(api.status, 403, 'an operator session is no account');
    const overview = await (await fetch(`${op.baseURL}/console/operator/overview`, { headers: { cookie } })).json();
    assert.equal(overview.lines[0].sendblue_number, op.line);
    const set = (body, csrf = session.csrf_token) => fetch(`${op.baseURL}/console/operator/lines/limits`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
    assert.equal((await set({ number: op.line, queue_capacity: 5 }, '')).status, 403);
    const bad = await set({ number: op.line, queue_capacity: 0 });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).message, /queue_capacity: must be between 1/);
    const notInt = await set({ number: op.line, new_contacts_per_day: 1.5 });
    assert.match((await notInt.json()).message, /new_contacts_per_day: expected a whole number/);
    assert.equal((await set({ number: '+19995550000' })).status, 404);
    assert.equal((await set({ number: op.line, queue_capacity: 5 })).status, 200);
    const after = await (await fetch(`${op.baseURL}/console/operator/overview`, { headers: { cookie } })).json();
    assert.equal(after.lines[0].limits.queue_capacity, 5);
    const asAccount = await fetch(`${op.baseURL}/console/operator/overview`, { headers: { cookie: 'bluegate_session=00' } });
    assert.equal(asAccount.status, 401);
  } finally {
    await op.stop();
    op.cleanup();
  }
  const none = await fetch(`${gw.baseURL}/console/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'operator_token=anything-at-all-here-123456' });
  assert.equal(none.headers.get('location'), '/console/?error=no_operator', 'no token configured: no operator sign-in');
});

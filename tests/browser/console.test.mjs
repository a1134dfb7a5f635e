// The console on the admin listener, in Chromium: the sign-in page without a session, the
// security headers (CSP: no inline script runs), a cross-site form POST refused, and the whole
// administrator's path: create a JWT virtual proxy with a pasted certificate, allocate a user,
// sign a token in the workbench, 200 through the new prefix; change its inactivity timeout and
// see it applied; field errors next to their field; the workbench explaining an expired token and
// one signed by another key; ending a session. Screenshots of each page: $JOTGATE_TEST_OUTPUT/console.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { eventually, PREFIX, recordNavigations, REPO, startEnvironment } from './harness.mjs';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const NEW_PREFIX = 'sales';
const BOB = { directory: 'ACME', id: 'bob' };

test('console', { timeout: 240_000 }, async (t) => {
  const env = await startEnvironment(t, 'console', { admin: true });
  const consoleUrl = `${env.adminUrl}/console/`;
  const admin = await env.newContext();
  admin.setDefaultTimeout(10_000);
  const page = await admin.newPage();
  // Calls from Node (which does not trust the test CA; Chromium does, and checks it).
  const node = await env.newContext({ ignoreHTTPSErrors: true });
  const api = (method, path, data) => node.request.fetch(`${env.adminUrl}/api/v1${path}`, {
    method, headers: { Authorization: `Bearer ${env.adminToken}` }, ...(data ? { data } : {}) });
  const shot = (name) => env.screenshot(page, name);
  const show = async (name) => {
    // Cleared first: only the page shown after this click can set it again.
    await page.evaluate(() => { document.body.dataset.page = ''; });
    await page.click(`[data-testid=nav-${name}]`);
    await page.waitForSelector(`body[data-page="${name}"]`);
  };

  await t.test('without a session the console shows its sign-in page, with the security headers', async () => {
    const redirect = await node.request.get(`${env.adminUrl}/console`, { maxRedirects: 0 });
    assert.equal(redirect.status(), 301);
    assert.equal(redirect.headers().location, '/console/');
    const response = await page.goto(`${env.adminUrl}/console`);
    assert.equal(page.url(), consoleUrl);
    assert.equal(response.status(), 200);
    const headers = response.headers();
    assert.equal(headers['content-security-policy'], CSP);
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    assert.equal(headers['cache-control'], 'no-store');
    await page.waitForSelector('[data-testid=sign-in-form]', { state: 'visible' });
    assert.equal(await page.isVisible('[data-testid=navigation]'), false);
    await shot('sign-in.png');
    const missing = await node.request.get(`${env.adminUrl}/console/nope.html`);
    assert.equal(missing.status(), 404);
    assert.deepEqual(await missing.json(), { error: 'NOT_FOUND', message: 'no such page of the console' });
    assert.equal(missing.headers()['content-security-policy'], CSP);
  });

  await t.test('a wrong token is refused; the admin token signs in with a __Host- cookie', async () => {
    await page.fill('[data-testid=sign-in-token]', 'not-the-token');
    await page.click('[data-testid=sign-in-button]');
    await eventually(async () => (await page.textContent('[data-testid=sign-in-error]')) === 'That is not the admin token.', 'the refusal');
    assert.deepEqual(await admin.cookies(env.adminUrl), []);
    await page.fill('[data-testid=sign-in-token]', env.adminToken);
    await page.click('[data-testid=sign-in-button]');
    await page.waitForSelector('body[data-page="overview"]');
    assert.equal(await page.textContent('[data-testid=signed-in-as]'), 'Signed in as token');
    const cookies = await admin.cookies(env.adminUrl);
    assert.equal(cookies.length, 1);
    const [cookie] = cookies;
    assert.equal(cookie.name, '__Host-jotgate-console');
    assert.match(cookie.value, /^[0-9a-f]{64}$/);
    assert.deepEqual([cookie.path, cookie.secure, cookie.httpOnly, cookie.sameSite], ['/', true, true, 'Strict']);
    const log = env.gatewayLog();
    assert.match(log, /event=console_sign_in result=refused admin=- client=127\.0\.0\.1/);
    assert.match(log, /event=console_sign_in result=ok admin=token client=127\.0\.0\.1/);
    assert.ok(!log.includes(cookie.value), 'the session id is never logged');
    assert.ok(!log.includes(env.adminToken), 'the token is never logged');
  });

  await t.test('the CSP is present and no inline script runs', async () => {
    const violations = await page.evaluate(() => new Promise((done) => {
      const seen = [];
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective));
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true;';
      document.body.append(script);
      const image = document.createElement('img');
      image.setAttribute('onerror', 'window.handlerRan = true');
      image.src = 'data:,broken';
      document.body.append(image);
      setTimeout(() => {
        script.remove();
        image.remove();  // not left in the screenshots of the pages
        done({ seen, inline: window.inlineRan ?? false, handler: window.handlerRan ?? false });
      }, 500);
    }));
    assert.equal(violations.inline, false);
    assert.equal(violations.handler, false);
    assert.ok(violations.seen.some((d) => d.startsWith('script-src')), JSON.stringify(violations));
  });

  await t.test('a cross-site form POST to the console API is refused', async () => {
    const attacker = await env.newPage();
    const origin = 'https://attacker.test';
    await attacker.route(`${origin}/**`, (route) => route.fulfill({
      contentType: 'text/html',
      body: `<form id=f method=post enctype=text/plain action="${env.adminUrl}/api/v1/virtual-proxies">
        <input name='{"name":"evil","prefix":"evil","listeners":["https"],"upstreams":["${env.upstreamUrl}"],"x":"' value='"}'>
        </form><script>document.getElementById('f').submit()</script>`,
    }));
    const navigations = recordNavigations(attacker);
    await attacker.goto(`${origin}/`);
    await eventually(async () => (await navigations.settled()).some((n) => n.url.startsWith(env.adminUrl)), 'the form POST');
    const post = (await navigations.settled()).find((n) => n.url === `${env.adminUrl}/api/v1/virtual-proxies`);
    assert.equal(post.status, 403, JSON.stringify(navigations));
    assert.deepEqual(JSON.parse(post.text),
      { error: 'CSRF_REJECTED', message: 'a change sent from another site (Origin, Sec-Fetch-Site) is refused' });
    const evil = await api('GET', '/virtual-proxies/evil');
    assert.equal(evil.status(), 404);
    // The console's own page without the CSRF token: refused too.
    const forged = await page.evaluate(async () => {
      const r = await fetch('/api/v1/config/reload', { method: 'POST' });
      return { status: r.status, body: await r.json() };
    });
    assert.deepEqual(forged, { status: 403, body: { error: 'CSRF_REJECTED',
      message: "a change from the console needs the session's X-CSRF-Token header" } });
  });

  await t.test('the API refuses a prefix owned by the configuration file', async () => {
    const answer = await api('POST', '/virtual-proxies', {
      name: 'Shadow', prefix: PREFIX, listeners: ['https'], upstreams: [env.upstreamUrl],
      auth: { method: 'jwt', jwt: { key_pem: readFileSync(join(env.pki, 'signer.pem'), 'utf8') } } });
    assert.equal(answer.status(), 409);
    const body = await answer.json();
    assert.equal(body.error, 'PREFIX_CONFLICT');
    assert.equal(body.errors[0].field, 'prefix');
    await show('virtual-proxies');
    const row = page.locator(`[data-testid=vp-row][data-prefix="${PREFIX}"]`);
    assert.equal(await row.locator('[data-testid=vp-read-only]').textContent(), 'read-only');
  });

  await t.test('a bad prefix and a bad duration show their errors next to their fields', async () => {
    await show('virtual-proxies');
    await page.click('[data-testid=vp-new]');
    await page.fill('[data-testid=vp-field-name]', 'Broken');
    await page.fill('[data-testid=vp-field-prefix]', 'bad prefix?');
    await page.fill('[data-testid=vp-field-session-inactivity-timeout]', 'soon');
    await page.fill('[data-testid=vp-field-upstreams]', env.upstreamUrl);
    await page.fill('[data-testid=vp-field-auth-jwt-key-pem]', readFileSync(join(env.pki, 'signer.pem'), 'utf8'));
    await page.click('[data-testid=vp-save]');
    const prefixError = page.locator('[data-testid="vp-error-prefix"]');
    await prefixError.waitFor({ state: 'visible' });
    assert.match(await prefixError.textContent(), /\S/);
    assert.match(await page.locator('[data-testid="vp-error-session.inactivity_timeout"]').textContent(), /\S/);
    assert.equal(await page.locator('[data-testid="vp-error-name"]').textContent(), '');
    await shot('virtual-proxy-errors.png');
    await page.fill('[data-testid=vp-field-prefix]', PREFIX);
    await page.fill('[data-testid=vp-field-session-inactivity-timeout]', '30m');
    await page.click('[data-testid=vp-save]');
    await eventually(async () => (await page.textContent('[data-testid="vp-error-prefix"]')) !== '', 'the conflict');
    assert.equal((await api('GET', '/virtual-proxies/broken')).status(), 404);
  });

  let token;
  await t.test('create a JWT virtual proxy with a pasted certificate, allocate, sign, 200 through it', async () => {
    await show('virtual-proxies');
    await page.click('[data-testid=vp-new]');
    await page.fill('[data-testid=vp-field-name]', 'Sales app');
    await page.fill('[data-testid=vp-field-prefix]', NEW_PREFIX);
    await page.selectOption('[data-testid=vp-field-auth-method]', 'jwt');
    await page.fill('[data-testid=vp-field-auth-jwt-key-pem]', readFileSync(join(env.pki, 'signer.pem'), 'utf8'));
    await page.fill('[data-testid=vp-field-auth-jwt-user-id-claim]', 'userId');
    await page.fill('[data-testid=vp-field-auth-jwt-user-directory-claim]', 'userDirectory');
    await page.fill('[data-testid=vp-field-auth-jwt-algorithms]', 'RS256');
    await page.fill('[data-testid=vp-field-upstreams]', env.upstreamUrl);
    await page.fill('[data-testid=vp-field-session-cookie-name]', 'X-Sales-Session');
    await page.fill('[data-testid=vp-field-session-inactivity-timeout]', '30m');
    await page.check('[data-testid=vp-listener-https]');
    await shot('virtual-proxy-form.png');
    await page.click('[data-testid=vp-save]');
    await page.waitForSelector(`[data-testid=vp-row][data-prefix="${NEW_PREFIX}"]`);
    assert.equal(await page.textContent('[data-testid=vp-notice]'), `Saved /${NEW_PREFIX}.`);
    await shot('virtual-proxies.png');
    const stored = await (await api('GET', `/virtual-proxies/${NEW_PREFIX}`)).json();
    assert.deepEqual([stored.source, stored.readOnly, stored.session.cookie_name], ['database', false, 'X-Sales-Session']);

    await show('access');
    await page.fill('[data-testid=grant-directory]', BOB.directory);
    await page.fill('[data-testid=grant-user]', BOB.id);
    await page.click('[data-testid=grant-submit]');
    await page.waitForSelector(`[data-testid=allocation-row][data-user="${BOB.directory}\\\\${BOB.id}"]`);
    await shot('access.png');

    await show('workbench');
    await page.selectOption('[data-testid=workbench-vp]', NEW_PREFIX);
    assert.match(await page.textContent('[data-testid=sign-privacy]'), /never leaves this browser/);
    // Every request the page sends from here on, to check that the private key is in none.
    const sent = [];
    const record = (request) => sent.push(`${request.url()}\n${request.postData() ?? ''}`);
    page.on('request', record);
    const privateKey = readFileSync(join(env.pki, 'signer_key.pem'), 'utf8');
    await page.fill('[data-testid=sign-key]', privateKey);
    await page.fill('[data-testid=sign-user-id]', BOB.id);
    await page.fill('[data-testid=sign-user-directory]', BOB.directory);
    await page.click('[data-testid=sign-submit]');
    await eventually(async () => (await page.inputValue('[data-testid=sign-output]')).split('.').length === 3, 'a signed token');
    token = await page.inputValue('[data-testid=sign-output]');
    await page.click('[data-testid=sign-use]');
    await page.waitForSelector('[data-testid=workbench-verdict]');
    assert.equal(await page.textContent('[data-testid=workbench-verdict]'), 'Accepted (200) – signed in as ACME\\bob');
    assert.equal(await page.getAttribute('[data-testid=check-signature]', 'data-passed'), 'true');
    page.off('request', record);
    assert.ok(sent.some((request) => request.includes('/token-check') && request.includes(token)), 'the check was recorded');
    for (const line of privateKey.split('\n').filter((l) => l && !l.startsWith('-----'))) {
      for (const form of [line, JSON.stringify(line).slice(1, -1), encodeURIComponent(line)]) {
        assert.ok(!sent.some((request) => request.includes(form)), 'a line of the private key left the browser');
      }
    }
    await shot('workbench.png');

    const user = await env.newContext({ ignoreHTTPSErrors: true });
    const answer = await user.request.get(`${env.gatewayUrl}/${NEW_PREFIX}/whoami`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(answer.status(), 200, await answer.text());
    assert.match(await answer.text(), /bob/);
    await user.close();
  });

  await t.test('the workbench explains an expired token and a token signed by another key', async () => {
    await show('workbench');
    await page.selectOption('[data-testid=workbench-vp]', NEW_PREFIX);
    await page.fill('[data-testid=sign-key]', readFileSync(join(env.pki, 'signer_key.pem'), 'utf8'));
    await page.fill('[data-testid=sign-lifetime]', '-600');
    await page.click('[data-testid=sign-submit]');
    await page.click('[data-testid=sign-use]');
    await page.waitForSelector('[data-testid=check-exp]');
    assert.equal(await page.getAttribute('[data-testid=check-exp]', 'data-passed'), 'false');
    assert.equal(await page.textContent('[data-testid=check-exp] [data-testid=check-reason]'), 'TOKEN_EXPIRED');
    assert.match(await page.textContent('[data-testid=workbench-verdict]'), /^Refused: 401 TOKEN_EXPIRED/);
    await shot('workbench-expired.png');

    await page.fill('[data-testid=sign-key]', readFileSync(join(REPO, 'tests', 'data', 'keys', 'rsa_other_private.pem'), 'utf8'));
    await page.fill('[data-testid=sign-lifetime]', '3600');
    await page.click('[data-testid=sign-submit]');
    await page.click('[data-testid=sign-use]');
    await eventually(async () => (await page.getAttribute('[data-testid=check-signature]', 'data-passed')) === 'false', 'the failed signature');
    assert.equal(await page.textContent('[data-testid=check-signature] [data-testid=check-reason]'), 'SIGNATURE_MISMATCH');
    // The claims are still checked, so every problem shows at once; this token's are fine.
    assert.equal(await page.getAttribute('[data-testid=check-exp]', 'data-passed'), 'true');
    assert.match(await page.textContent('[data-testid=workbench-verdict]'), /^Refused: 401 SIGNATURE_MISMATCH/);
    await shot('workbench-other-key.png');
  });

  await t.test('end a session in the console and the user is refused', async () => {
    const user = await env.newContext({ ignoreHTTPSErrors: true });
    const url = `${env.gatewayUrl}/${NEW_PREFIX}/whoami`;
    assert.equal((await user.request.get(url, { headers: { Authorization: `Bearer ${token}` } })).status(), 200);
    assert.equal((await user.request.get(url)).status(), 200, 'the session cookie works');
    await show('sessions');
    await page.selectOption('[data-testid=sessions-vp]', NEW_PREFIX);
    await page.fill('[data-testid=sessions-user]', `${BOB.directory}\\${BOB.id}`);
    await page.click('[data-testid=sessions-show]');
    await page.waitForSelector('[data-testid=session-row]');
    await shot('sessions.png');
    assert.equal(await page.locator('[data-testid=session-row]').count(), 1);
    await page.click('[data-testid=session-end]');
    await eventually(async () => (await page.textContent('[data-testid=sessions-notice]')) === 'Session ended.', 'the session ended');
    assert.equal((await user.request.get(url)).status(), 401);
    await user.close();
  });

  await t.test('change the inactivity timeout in the console and see it applied', async () => {
    await show('virtual-proxies');
    await page.click(`[data-testid=vp-row][data-prefix="${NEW_PREFIX}"] [data-testid=vp-open]`);
    await page.fill('[data-testid=vp-field-session-inactivity-timeout]', '2s');
    await page.click('[data-testid=vp-save]');
    await page.waitForSelector('[data-testid=vp-notice]');
    const stored = await (await api('GET', `/virtual-proxies/${NEW_PREFIX}`)).json();
    assert.equal(stored.session.inactivity_timeout, '2s');
    const user = await env.newContext({ ignoreHTTPSErrors: true });
    const url = `${env.gatewayUrl}/${NEW_PREFIX}/whoami`;
    assert.equal((await user.request.get(url, { headers: { Authorization: `Bearer ${token}` } })).status(), 200);
    assert.equal((await user.request.get(url)).status(), 200);
    await sleep(3500);
    assert.equal((await user.request.get(url)).status(), 401, 'the session ended after 2 s idle');
    await user.close();
  });

  await t.test('overview and audit pages', async () => {
    await show('overview');
    await page.waitForSelector(`[data-testid=overview-vp-prefix]:text("/${NEW_PREFIX}")`);
    await shot('overview.png');
    await show('audit');
    await page.fill('[data-testid=audit-vp]', NEW_PREFIX);
    await page.fill('[data-testid=audit-event]', 'virtual_proxy_created');
    await page.click('[data-testid=audit-apply]');
    await page.waitForSelector('[data-testid=audit-row][data-event=virtual_proxy_created]');
    await page.fill('[data-testid=audit-event]', '');
    await page.click('[data-testid=audit-apply]');
    await page.waitForSelector('[data-testid=audit-row]');
    await shot('audit.png');
  });

  await t.test('sign-out ends the console session', async () => {
    await page.click('[data-testid=sign-out]');
    await page.waitForSelector('[data-testid=sign-in-form]', { state: 'visible' });
    const after = await page.evaluate(async () => (await fetch('/api/v1/virtual-proxies')).status);
    assert.equal(after, 401);
    await page.reload();
    await page.waitForSelector('[data-testid=sign-in-form]', { state: 'visible' });
  });
});

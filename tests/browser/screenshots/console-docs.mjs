// The README's console screenshots (docs/images/console-*.png): the real console on the real
// binary, signed in for real, with the API answers replaced by representative sample data (an
// hour of decisions, two virtual proxies, a refused token), so the pictures show a busy gateway.
// Not part of the suite (not *.test.mjs); run it after changing the pages:
//   cd tests/browser && JOTGATE_BIN=... node --test screenshots/console-docs.mjs
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { copyFileSync } from 'node:fs';
import { REPO, startEnvironment } from '../harness.mjs';

test('console screenshots for the README', { timeout: 120_000 }, async (t) => {
  const env = await startEnvironment(t, 'console-docs', { admin: true });
  const ctx = await env.newContext();
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const start = Math.floor(Date.now() / 1000) - 3600;
  const series = (f) => Array.from({ length: 60 }, (_, i) => Math.max(0, Math.round(f(i))));
  const vps = [{ name: 'Embedded app', prefix: 'jwt', source: 'file', readOnly: true, listeners: ['https'], upstreams: ['http://127.0.0.1:1'], auth: { method: 'jwt', jwt: { key: '/etc/k.pem', algorithms: ['RS256'] } }, session: { inactivity_timeout: '30m' } },
    { name: 'Sales app', prefix: 'sales', source: 'database', readOnly: false, listeners: ['https'], upstreams: ['http://127.0.0.1:2'], auth: { method: 'jwt', jwt: { key_pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', algorithms: ['RS256'], user_id_claim: 'userId' } }, session: { inactivity_timeout: '30m', cookie_name: 'X-Sales' } }];
  await page.route('**/api/v1/overview', (r) => r.fulfill({ json: {
    version: '0.1.0', startedAt: start, listeners: [{ name: 'https', address: '127.0.0.1:8443', tls: true }],
    virtualProxies: [{ name: 'Embedded app', prefix: 'jwt', source: 'file', listeners: ['https'], sessions: 12, upstreams: [{ url: 'http://127.0.0.1:1', healthy: true }], keys: [{ source: 'file', location: '/etc/k.pem', count: 1, fetchedAt: null, ageSeconds: null, nextRefreshAt: null, problem: '' }] },
      { name: 'Sales app', prefix: 'sales', source: 'database', listeners: ['https'], sessions: 3, upstreams: [{ url: 'http://127.0.0.1:2', healthy: false }], keys: [{ source: 'jwks', location: 'https://idp/jwks', count: 2, fetchedAt: start, ageSeconds: 300, nextRefreshAt: start + 4000, problem: '' }] }],
    decisions: { bucketSeconds: 60, start, reasons: { SIGNED_IN: series((i) => 20 + 10 * Math.sin(i / 5)), TOKEN_EXPIRED: series((i) => 3 + 2 * Math.cos(i / 3)), ACCESS_DENIED: series((i) => i % 7 === 0 ? 4 : 0) } },
    lastReload: { at: start + 1200, result: 'ok', problems: [], warnings: [] } } }));
  await page.route('**/api/v1/virtual-proxies', (r) => r.request().method() === 'GET' ? r.fulfill({ json: { virtualProxies: vps } })
    : r.fulfill({ status: 400, json: { error: 'VALIDATION_FAILED', errors: [{ field: 'prefix', message: '"bad prefix?" is not a valid prefix' }, { field: 'session.inactivity_timeout', message: '"soon" is not a duration' }] } }));
  await page.route('**/api/v1/virtual-proxies/sales/token-check', (r) => r.fulfill({ json: { virtualProxy: 'sales', header: { alg: 'RS256', typ: 'JWT' }, claims: { userId: 'bob', exp: 1 },
    checks: [{ check: 'format', passed: true, reason: null, detail: 'three parts' }, { check: 'signature', passed: true, reason: null, detail: 'ok' }, { check: 'exp', passed: false, reason: 'TOKEN_EXPIRED', detail: 'expired 10 minutes ago' }, { check: 'allocation', passed: null, reason: null, detail: 'not reached' }],
    result: { accepted: false, status: 401, reason: 'TOKEN_EXPIRED', message: 'the token has expired' } } }));
  await page.route('**/api/v1/allocations*', (r) => r.fulfill({ json: { mode: 'allocated', seats: { total: 10, used: 2, left: 8 }, allocations: [{ userDirectory: 'ACME', userId: 'alice', grantedAt: start, lastUse: start + 100, auto: false }, { userDirectory: 'ACME', userId: 'bob', grantedAt: start, lastUse: null, auto: true }] } }));
  await page.route('**/api/v1/audit*', (r) => r.fulfill({ json: { events: [{ time: '2026-12-02T07:00:00Z', event: 'virtual_proxy_created', vp: 'sales', user: null, reason: null, admin: 'token', fields: { event: 'virtual_proxy_created', vp: 'sales', admin: 'token' } }, { time: '2026-12-02T07:01:00Z', event: 'sign_in_refused', vp: 'jwt', user: 'ACME\\bob', reason: 'TOKEN_EXPIRED', admin: null, fields: { client: '127.0.0.1' } }] } }));
  await page.route('**/api/v1/virtual-proxies/sales/sessions*', (r) => r.fulfill({ json: { sessions: [{ sessionId: 'abcdef0123456789', cookieName: 'X-Sales', expiresAt: start + 5000, virtualProxy: 'sales', userDirectory: 'ACME', userId: 'bob', attributes: { role: 'x' } }] } }));
  await page.goto(`${env.adminUrl}/console/`);
  await page.fill('[data-testid=sign-in-token]', env.adminToken);
  await page.click('[data-testid=sign-in-button]');
  await page.waitForSelector('body[data-page="overview"]');
  await page.setViewportSize({ width: 1280, height: 800 });
  await env.screenshot(page, 'overview.png');
  for (const name of ['virtual-proxies', 'access', 'audit', 'workbench']) {
    await page.click(`[data-testid=nav-${name}]`); await page.waitForSelector(`body[data-page="${name}"]`);
    await env.screenshot(page, `${name}.png`);
  }
  await page.click('[data-testid=nav-virtual-proxies]'); await page.waitForSelector('body[data-page="virtual-proxies"]');
  await page.click('[data-testid=vp-new]');
  await page.click('[data-testid=vp-save]');
  await page.waitForSelector('[data-testid="vp-error-prefix"]:visible');
  await env.screenshot(page, 'vp-errors.png');
  await page.click('[data-testid=vp-row][data-prefix=sales] [data-testid=vp-open]');
  await env.screenshot(page, 'vp-edit.png');
  await page.click('[data-testid=nav-workbench]'); await page.waitForSelector('body[data-page="workbench"]');
  await page.selectOption('[data-testid=workbench-vp]', 'sales');
  for (const [file, alg] of [['signer_key.pem', 'RS256'], ['signer_key.pem', 'PS384']]) {
    await page.fill('[data-testid=sign-key]', readFileSync(join(env.pki, file), 'utf8'));
    await page.selectOption('[data-testid=sign-alg]', alg);
    await page.click('[data-testid=sign-submit]');
    await page.waitForFunction(() => document.querySelector('[data-testid=sign-output]').value.length > 0 || document.querySelector('[data-testid=sign-error]'));
    console.log(alg, (await page.inputValue('[data-testid=sign-output]')).slice(0, 40), await page.textContent('[data-testid=sign-message]'));
  }
  await page.fill('[data-testid=sign-key]', readFileSync(join(REPO, 'tests', 'data', 'keys', 'ec_p256_private.pem'), 'utf8'));
  await page.selectOption('[data-testid=sign-alg]', 'ES256');
  await page.click('[data-testid=sign-submit]');
  await page.waitForTimeout(500);
  console.log('ES256', (await page.inputValue('[data-testid=sign-output]')).slice(0, 40), await page.textContent('[data-testid=sign-message]'));
  await page.click('[data-testid=sign-use]');
  await page.waitForSelector('[data-testid=workbench-verdict]');
  await env.screenshot(page, 'workbench-result.png');
  await page.click('[data-testid=nav-sessions]'); await page.waitForSelector('body[data-page="sessions"]');
  await page.selectOption('[data-testid=sessions-vp]', 'sales');
  await page.fill('[data-testid=sessions-user]', 'ACME\\bob');
  await page.click('[data-testid=sessions-show]');
  await page.waitForSelector('[data-testid=session-row]');
  await env.screenshot(page, 'sessions.png');
  for (const [from, to] of [['overview.png', 'console-overview.png'], ['workbench-result.png', 'console-workbench.png'], ['vp-edit.png', 'console-virtual-proxy.png']]) {
    copyFileSync(join(env.outDir, from), join(REPO, 'docs', 'images', to));
  }
  assert.deepEqual(errors.filter((e) => !/status of (401|400)/.test(e)), []);
});

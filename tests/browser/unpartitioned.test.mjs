// Why the session cookie is Partitioned when same_site is none: with `partitioned: false`,
// Chromium drops the `SameSite=None; Secure` cookie that the cross-site iframe's gateway sets
// through fetch(credentials: 'include'), so the iframe is never signed in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, PREFIX, recordNavigations, recordResponses, startEnvironment } from './harness.mjs';

test('unpartitioned cookie: Chromium drops it, the iframe stays signed out', async (t) => {
  const env = await startEnvironment(t, 'unpartitioned', { vpOverrides: { session: { partitioned: false } } });
  const context = await env.newContext();
  const page = await context.newPage();
  const navigations = recordNavigations(page);
  const signIns = recordResponses(page, `/${PREFIX}/.auth/session`);

  await page.goto(`${env.siteUrl}/?watch=60`);
  await eventually(async () => (await page.locator('#log').textContent()).includes('did not keep the session cookie'),
    'the page to notice the missing cookie');

  // The gateway did sign in and set the cookie, without Partitioned...
  assert.equal(signIns.length, 1);
  assert.equal(signIns[0].status(), 204);
  const cookie = await signIns[0].headerValue('set-cookie');
  assert.match(cookie, /^X-Jotgate-Session-jwt=[^;]+; /);
  assert.match(cookie, /; Secure/);
  assert.match(cookie, /; SameSite=None/);
  assert.doesNotMatch(cookie, /Partitioned/);
  // ...but the browser did not keep it: an iframe opened now arrives without a session.
  assert.deepEqual(await context.cookies(env.appUrl), []);
  await page.locator('#app').evaluate((frame, url) => { frame.src = url; }, env.appUrl);
  await eventually(() => navigations.some((n) => n.frame === 'iframe'), 'the iframe to load');
  const [load] = (await navigations.settled()).filter((n) => n.frame === 'iframe');
  assert.equal(load.status, 401, JSON.stringify(load));
  assert.match(load.text, /Could not authenticate the request: Expected an authentication header/);
  await page.frameLocator('#app').locator('text=Could not authenticate').waitFor();
  await env.screenshot(page, 'unpartitioned.png');
});

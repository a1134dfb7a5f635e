// The embedding page on http://localhost:<port> shows the virtual proxy (https://127.0.0.1:<port>,
// another site) in an iframe, signs it in with a minted JWT, and, when the session has ended from
// inactivity, notices it through .auth/me and signs the iframe back in: no user action, and the
// iframe never shows the gateway's 401.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, PREFIX, recordNavigations, recordResponses, startEnvironment, USER } from './harness.mjs';

const IDENTITY = `UserDirectory=${USER.directory}; UserId=${USER.id}`;

test('iframe flow: signed in through fetch, back in after the session expired, never a 401', async (t) => {
  const env = await startEnvironment(t, 'iframe', { vpOverrides: { session: { inactivity_timeout: '3s' } } });
  const context = await env.newContext();
  const page = await context.newPage();
  const navigations = recordNavigations(page);
  const signIns = recordResponses(page, `/${PREFIX}/.auth/session`);
  const looks = recordResponses(page, `/${PREFIX}/.auth/me`);

  // watch=5 with a 3 s inactivity timeout: the first look at .auth/me comes after the end.
  await page.goto(`${env.siteUrl}/?watch=5&renewBefore=0`);
  const app = page.frameLocator('#app');
  await eventually(async () => (await app.locator('#user').textContent()) === IDENTITY, 'the app in the iframe');
  const firstCount = Number(await app.locator('#count').textContent());
  await env.screenshot(page, '1-signed-in.png');

  // The cookie the gateway set through fetch, and the one the browser kept: Partitioned.
  assert.equal(signIns.length, 1);
  const cookie = await signIns[0].headerValue('set-cookie');
  assert.match(cookie, /^X-Jotgate-Session-jwt=[^;]+;/);
  assert.match(cookie, /; Secure/);
  assert.match(cookie, /; SameSite=None/);
  assert.match(cookie, /; Partitioned/);
  const [kept] = await context.cookies(env.appUrl);
  assert.equal(kept?.name, `X-Jotgate-Session-${PREFIX}`);
  assert.equal(kept.partitionKey, 'http://localhost', 'the cookie is kept in the embedding site\'s partition');
  // A tab on the gateway's own site is another partition: it does not share the iframe's session.
  const tab = await context.newPage();
  assert.equal((await tab.goto(env.appUrl)).status(), 401);
  await tab.close();

  // Past the inactivity timeout the page's watcher gets a 401 from .auth/me, signs in again and
  // reloads the iframe.
  await eventually(async () => (await page.locator('#log').textContent()).includes('signed in again, app reloaded'),
    'the page to sign in again', 20_000);
  await eventually(async () => Number(await app.locator('#count').textContent()) > firstCount,
    'the iframe to show the app again');
  assert.equal(await app.locator('#user').textContent(), IDENTITY);
  await env.screenshot(page, '2-signed-in-again.png');

  const meStatuses = looks.map((r) => r.status());
  assert.ok(meStatuses.includes(401), `.auth/me answered ${meStatuses}: the expiry was never seen`);
  assert.deepEqual(signIns.map((r) => r.status()), [204, 204], 'signed in twice');
  const frames = (await navigations.settled()).filter((n) => n.frame === 'iframe');
  assert.equal(frames.length, 2, `two iframe loads: ${JSON.stringify(frames)}`);
  for (const load of frames) {
    assert.equal(load.url, env.appUrl);
    assert.equal(load.status, 200, `iframe load ${JSON.stringify(load)}`);
    assert.ok(load.text.includes(IDENTITY), `iframe showed: ${load.text}`);
    assert.ok(!load.text.includes('Could not authenticate'));
  }

  // Chromium checked the gateway's certificate: one whose HOME does not trust the test CA refuses it.
  const untrusting = await env.launchUntrustingBrowser();
  const stranger = await (await untrusting.newContext()).newPage();
  await assert.rejects(stranger.goto(env.appUrl), /net::ERR_CERT_AUTHORITY_INVALID/);
});

// Signing out from the embedding page: a form POST of .auth/logout into the iframe ends the
// session, expires the cookie, and shows the virtual proxy's logout_redirect_uri in the iframe;
// afterwards the gateway answers .auth/me and the app with 401, until the page signs in again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, PREFIX, recordNavigations, startEnvironment, USER } from './harness.mjs';

test('logout: the iframe lands on logout_redirect_uri and the session is gone', async (t) => {
  const env = await startEnvironment(t, 'logout');
  const context = await env.newContext();
  const page = await context.newPage();
  const navigations = recordNavigations(page);

  await page.goto(`${env.siteUrl}/?watch=60`);
  const app = page.frameLocator('#app');
  await eventually(async () => (await app.locator('#user').textContent()).includes(`UserId=${USER.id}`), 'the app');
  assert.equal((await context.cookies(env.appUrl)).length, 1);

  await page.click('#sign-out');
  await eventually(async () => (await app.locator('#signed-out').textContent()).includes('You have signed out'),
    'the signed-out page in the iframe');
  await env.screenshot(page, 'signed-out.png');

  await navigations.settled();
  const logout = navigations.find((n) => n.url === `${env.gatewayUrl}/${PREFIX}/.auth/logout`);
  assert.equal(logout?.status, 303, JSON.stringify(navigations));
  const last = navigations.at(-1);
  assert.deepEqual([last.frame, last.url, last.status], ['iframe', `${env.siteUrl}/signed-out`, 200]);
  assert.deepEqual(await context.cookies(env.appUrl), [], 'the cookie is expired');

  // Asked from the embedding page, with credentials: no session any more.
  const after = await page.evaluate(async ({ me, appUrl }) => {
    const answer = async (url) => {
      const response = await fetch(url, { credentials: 'include' });
      return { status: response.status, text: await response.text() };
    };
    return { me: await answer(me), app: await answer(appUrl) };
  }, { me: `${env.gatewayUrl}/${PREFIX}/.auth/me`, appUrl: env.appUrl });
  assert.equal(after.me.status, 401);
  assert.equal(after.app.status, 401);
  assert.match(after.app.text, /Could not authenticate the request: Expected an authentication header/);
  assert.doesNotMatch(after.app.text, /UserId=/);

  // And back in with one click.
  await page.click('#sign-in');
  await eventually(async () => (await app.locator('#user').textContent()).includes(`UserId=${USER.id}`),
    'the app after signing in again');
});

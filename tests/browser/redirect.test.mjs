// A browser without a session opens a proxied page top-level: the gateway redirects it to the
// virtual proxy's auth.redirect_uri (the example site's login page) with returnTo; the login
// page posts a minted token to .auth/session, which sends the browser back, signed in. The same
// works inside a cross-site iframe (the cookie lands in the embedding site's partition).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, PREFIX, recordNavigations, startEnvironment, USER } from './harness.mjs';

test('redirect flow: no session -> login page -> back at the original URL, signed in', async (t) => {
  const env = await startEnvironment(t, 'redirect',
    { vpOverrides: ({ siteUrl }) => ({ auth: { redirect_uri: `${siteUrl}/login` } }) });
  const context = await env.newContext();
  const page = await context.newPage();
  const navigations = recordNavigations(page);

  const original = `${env.appUrl}?tab=2&x=a%20b`;
  await page.goto(original);
  await eventually(async () => page.url() === original &&
                   (await page.locator('#user').textContent()).includes(`UserId=${USER.id}`),
                   'the original page, signed in');
  await env.screenshot(page, 'back-signed-in.png');

  const chain = (await navigations.settled()).map(({ url, status, location }) => ({ url, status, location }));
  const [away, login, signIn, back] = chain;
  assert.equal(chain.length, 4, JSON.stringify(chain, null, 1));
  assert.deepEqual([away.url, away.status], [original, 302]);
  const loginUrl = new URL(away.location);
  assert.equal(`${loginUrl.origin}${loginUrl.pathname}`, `${env.siteUrl}/login`);
  assert.equal(loginUrl.searchParams.get('returnTo'), original, 'returnTo is the whole original URL');
  assert.deepEqual([login.url, login.status], [away.location, 200]);
  assert.deepEqual([signIn.url, signIn.status], [`${env.gatewayUrl}/${PREFIX}/.auth/session`, 303]);
  assert.equal(new URL(signIn.location, signIn.url).href, original);
  assert.deepEqual([back.url, back.status], [original, 200]);
  assert.equal(await page.locator('#user').textContent(), `UserDirectory=${USER.directory}; UserId=${USER.id}`);

  // Not a navigation (a script's fetch, in another browser profile): still the 401, no redirect
  // (a redirect would be an 'opaqueredirect' with status 0).
  const other = await env.newPage();
  await other.goto(`${env.gatewayUrl}/`); // any page of the gateway's origin
  const api = await other.evaluate(async (url) => {
    const response = await fetch(url, { headers: { Accept: 'application/json' }, redirect: 'manual' });
    return { status: response.status, type: response.type, location: response.headers.get('location') };
  }, env.appUrl);
  assert.deepEqual(api, { status: 401, type: 'basic', location: null });
});

test('redirect flow in a cross-site iframe: an iframe opened without a session signs in by itself', async (t) => {
  const env = await startEnvironment(t, 'redirect-iframe',
    { vpOverrides: ({ siteUrl }) => ({ auth: { redirect_uri: `${siteUrl}/login` } }) });
  const page = await env.newPage();
  const navigations = recordNavigations(page);
  await page.goto(`${env.siteUrl}/signed-out`); // a page of the site without the sign-in script
  await page.evaluate((src) => {
    document.body.innerHTML = '<h1>A page that only embeds the app</h1>';
    const frame = document.createElement('iframe');
    frame.id = 'app';
    frame.src = src;
    document.body.append(frame);
  }, env.appUrl);
  const app = page.frameLocator('#app');
  await eventually(async () => (await app.locator('#user').textContent()).includes(`UserId=${USER.id}`),
    'the app in the iframe, signed in through the login page');
  await env.screenshot(page, 'iframe-signed-in.png');

  const frames = (await navigations.settled()).filter((n) => n.frame === 'iframe');
  assert.deepEqual(frames.map((n) => n.status), [302, 200, 303, 200], JSON.stringify(frames, null, 1));
  assert.equal(frames.at(-1).url, env.appUrl);
  assert.ok(frames.every((n) => !n.text.includes('Could not authenticate')));
});

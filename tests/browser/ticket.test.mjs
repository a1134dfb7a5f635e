// An authentication module asks the admin API for a one-time ticket; the browser opening a
// proxied URL with ?jotgateTicket=<ticket> is signed in and sent to the same URL without it.
// The same ticket a second time (another browser profile) is refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, PREFIX, recordNavigations, startEnvironment, USER } from './harness.mjs';

const ADMIN_TOKEN = randomBytes(32).toString('hex');

function issueTicket(adminPort, body) {
  return new Promise((done, fail) => {
    const call = request({
      host: '127.0.0.1', port: adminPort, method: 'POST', path: `/api/v1/virtual-proxies/${PREFIX}/tickets`,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      rejectUnauthorized: false, // the admin listener's self-signed certificate, generated at start
    }, (answer) => {
      let text = '';
      answer.on('data', (d) => { text += d; });
      answer.on('end', () => done({ status: answer.statusCode, body: text }));
    });
    call.on('error', fail);
    call.end(JSON.stringify(body));
  });
}

test('ticket flow: a ticket URL signs the browser in once; used again it is refused', async (t) => {
  const env = await startEnvironment(t, 'ticket', {
    topLevel: ({ adminPort, outDir }) => {
      writeFileSync(join(outDir, 'admin.token'), ADMIN_TOKEN);
      return { admin: { address: `127.0.0.1:${adminPort}`, token_file: join(outDir, 'admin.token'),
                        tls: { certificate: join(outDir, 'admin.pem'), key: join(outDir, 'admin_key.pem') } } };
    },
  });
  const issued = await issueTicket(env.adminPort, { userDirectory: USER.directory, userId: USER.id,
                                                    attributes: {}, targetUri: env.appUrl });
  assert.equal(issued.status, 201, issued.body);
  const { ticket } = JSON.parse(issued.body);
  assert.match(ticket, /^[A-Za-z0-9_-]{20,}$/);

  const ticketUrl = `${env.appUrl}?jotgateTicket=${ticket}`;
  const page = await (await env.newContext()).newPage();
  const navigations = recordNavigations(page);
  await page.goto(ticketUrl);
  await eventually(async () => (await page.locator('#user').textContent()).includes(`UserId=${USER.id}`),
    'the app, signed in by the ticket');
  assert.equal(page.url(), env.appUrl, 'the ticket is gone from the URL');
  const [redeemed, shown] = await navigations.settled();
  assert.equal(navigations.length, 2, JSON.stringify(navigations));
  assert.deepEqual([redeemed.url, redeemed.status], [ticketUrl, 303]);
  assert.equal(new URL(redeemed.location, ticketUrl).href, env.appUrl);
  assert.deepEqual([shown.url, shown.status], [env.appUrl, 200]);
  await env.screenshot(page, '1-signed-in-by-ticket.png');

  const again = await (await env.newContext()).newPage();
  const refused = await again.goto(ticketUrl);
  assert.ok([401, 403].includes(refused.status()), `a used ticket answered ${refused.status()}`);
  const text = await again.locator('body').textContent();
  assert.match(text, /ticket/i, 'the refusal says it is about the ticket');
  assert.doesNotMatch(text, /UserId=/);
  assert.doesNotMatch(text, new RegExp(ticket), 'the ticket is not echoed');
  await env.screenshot(again, '2-ticket-used-again.png');
});

// An example embedding site: your web application, on another origin than jotgate, that shows a
// virtual proxy in an iframe and keeps it signed in. Node's standard library only.
//
//   node server.mjs --gateway https://127.0.0.1:8443 --prefix jwt --key ../certs/signer_key.pem
//
// Routes:
//   GET  /            the embedding page (index.html + embed.js)
//   GET  /config.json where the gateway is, for embed.js
//   POST /token       a freshly minted JWT for the signed-in user of this site, {token, expiresIn}
//   GET  /login       the page for `auth.redirect_uri`: mints a token and posts it, with returnTo,
//                     to the gateway's .auth/session in a self-submitting form
//   GET  /signed-out  the page for `logout_redirect_uri`
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const TOKEN_LIFETIME = 60; // seconds: a token only has to live until it has signed the iframe in

const { values: options } = parseArgs({
  options: {
    gateway: { type: 'string', default: 'https://127.0.0.1:8443' },
    prefix: { type: 'string', default: 'jwt' },
    app: { type: 'string', default: '/whoami.html' },
    key: { type: 'string', default: join(HERE, 'certs', 'signer_key.pem') },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '5173' },
    user: { type: 'string', default: 'alice' },
    directory: { type: 'string', default: 'ACME' },
  },
});
const gatewayBase = `${options.gateway.replace(/\/+$/, '')}/${options.prefix}`;
const signingKey = createPrivateKey(readFileSync(options.key));

// A compact JWS (RS256) with the claims jotgate's default `auth.jwt` settings read.
function mintToken() {
  const now = Math.floor(Date.now() / 1000);
  const encode = (part) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const signingInput = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({
    userId: options.user,
    userDirectory: options.directory,
    iat: now,
    exp: now + TOKEN_LIFETIME,
  })}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), signingKey).toString('base64url')}`;
}

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

// Only URLs of the virtual proxy are passed on as returnTo (the gateway checks them too).
function returnTarget(requested) {
  const inside = requested === gatewayBase || requested?.startsWith(`${gatewayBase}/`);
  return inside ? requested : `${gatewayBase}${options.app}`;
}

function loginPage(returnTo) {
  return `<!doctype html>
<title>Signing in</title>
<p>Signing you in to ${escapeHtml(gatewayBase)} ...</p>
<form method="post" action="${escapeHtml(gatewayBase)}/.auth/session">
  <input type="hidden" name="token" value="${mintToken()}">
  <input type="hidden" name="returnTo" value="${escapeHtml(returnTo)}">
  <noscript><button>Continue</button></noscript>
</form>
<script>document.forms[0].submit()</script>
`;
}

const pages = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/embed.js': ['embed.js', 'text/javascript; charset=utf-8'],
  '/signed-out': ['signed-out.html', 'text/html; charset=utf-8'],
};

function answer(response, status, type, body) {
  response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  response.end(body);
}

const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://site');
  if (request.method === 'GET' && pages[url.pathname]) {
    const [file, type] = pages[url.pathname];
    return answer(response, 200, type, readFileSync(join(HERE, file)));
  }
  if (request.method === 'GET' && url.pathname === '/config.json') {
    const config = { gateway: gatewayBase, app: options.app };
    return answer(response, 200, 'application/json', JSON.stringify(config));
  }
  // A real site mints only for its own signed-in user, and only for its own pages: the
  // browser sends Origin on this POST, so a foreign page cannot obtain a token here.
  if (request.method === 'POST' && url.pathname === '/token') {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host}`) {
      return answer(response, 403, 'text/plain', 'Forbidden: tokens are only for this site\n');
    }
    const minted = { token: mintToken(), expiresIn: TOKEN_LIFETIME };
    return answer(response, 200, 'application/json', JSON.stringify(minted));
  }
  if (request.method === 'GET' && url.pathname === '/login') {
    const returnTo = returnTarget(url.searchParams.get('returnTo'));
    return answer(response, 200, 'text/html; charset=utf-8', loginPage(returnTo));
  }
  answer(response, 404, 'text/plain', 'Not Found\n');
});

server.listen(Number(options.port), options.host, () => {
  const { port } = server.address();
  console.log(`embedding site on http://localhost:${port}/ for ${gatewayBase}`);
});

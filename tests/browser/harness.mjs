// The browser tests' harness: the real jotgate binary ($JOTGATE_BIN) on a temporary config, the
// real upstream (tests/e2e/upstream_server.py), the example embedding site (examples/embed), and
// Debian's Chromium driven headless by playwright-core. Everything a test starts is stopped when
// it ends; outputs (logs, screenshots) stay under $JOTGATE_TEST_OUTPUT/<test name>.
//
//   const env = await startEnvironment(t, 'iframe', { session: { inactivity_timeout: '3s' } });
//   const page = await env.newPage();
//   await page.goto(env.siteUrl);
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..');
export const OUTPUT = resolve(process.env.JOTGATE_TEST_OUTPUT ?? join(REPO, 'test-output', 'browser'));
const CHROMIUM = process.env.JOTGATE_CHROMIUM ?? '/usr/bin/chromium';
const CERTUTIL = process.env.JOTGATE_CERTUTIL ?? 'certutil';
const PYTHON = '/usr/bin/python3';
const START_TIMEOUT_MS = 30_000;
export const PREFIX = 'jwt';
export const USER = { directory: 'ACME', id: 'alice' };

function jotgateBin() {
  const bin = process.env.JOTGATE_BIN;
  if (!bin || !existsSync(bin)) throw new Error('set JOTGATE_BIN to the jotgate binary (build/<preset>/src/cli/jotgate)');
  return bin;
}

// A port nothing listens on yet: only for the example site, which must know the gateway's URL
// when it starts while the gateway's config names the site's origin (the gateway binds port 0).
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

function canConnect(port) {
  return new Promise((done) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
  });
}

async function waitFor(condition, what, child) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready`);
    if (await condition()) return;
    await sleep(50);
  }
  throw new Error(`${what} was not ready within ${START_TIMEOUT_MS / 1000} s`);
}

// The ports `jotgate serve` printed once it listens (docs/configuration.md, "Start-up output"):
// { listeners: { name: port }, admin: port or null }, or null before "Stop with Ctrl-C.".
function printedPorts(output) {
  const start = output.indexOf('jotgate is listening on:\n');
  const end = output.indexOf('Stop with Ctrl-C.', start);
  if (start < 0 || end < 0) return null;
  const ports = { listeners: {}, admin: null };
  for (const line of output.slice(start, end).split('\n').slice(1)) {
    const match = /^  \S+:(\d+) \((?:listener (.+)|admin API)\)$/.exec(line);
    if (!match) break;
    if (match[2] === undefined) ports.admin = Number(match[1]);
    else ports.listeners[match[2]] = Number(match[1]);
  }
  return ports;
}

// A child process whose output goes to <dir>/<name>.log; stopped (SIGTERM) by `stop()`.
function startProcess(dir, name, command, args) {
  const log = openSync(join(dir, `${name}.log`), 'w');
  const child = spawn(command, args, { stdio: ['ignore', log, log] });
  child.logFile = join(dir, `${name}.log`);
  child.stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await once(child, 'exit');
    clearTimeout(timer);
    return child.exitCode;
  };
  return child;
}

function run(command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  return once(child, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}: ${output}`);
    return output;
  });
}

// Deep merge of plain objects (arrays and values replace).
function merged(base, changes) {
  const out = { ...base };
  for (const [key, value] of Object.entries(changes ?? {})) {
    const isMap = (v) => v && typeof v === 'object' && !Array.isArray(v);
    out[key] = isMap(value) && isMap(base[key]) ? merged(base[key], value) : value;
  }
  return out;
}

// Headless Chromium with `home` as its HOME. On Linux, Chromium takes locally trusted CAs from
// the NSS database $HOME/.pki/nssdb; with `caFile`, that database trusts it (certutil, Debian
// package libnss3-tools) for TLS servers, so the gateway's certificate passes a real check.
async function launchChromium(home, caFile) {
  const nssdb = `sql:${join(home, '.pki', 'nssdb')}`;
  mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
  if (caFile) {
    await run(CERTUTIL, ['-d', nssdb, '-N', '--empty-password']);
    await run(CERTUTIL, ['-d', nssdb, '-A', '-t', 'C,,', '-n', 'jotgate-test', '-i', caFile]);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], env: { ...process.env, HOME: home } });
}

/**
 * Starts upstream, gateway (virtual proxy `jwt` on https://127.0.0.1:<port>, port 0: the one it
 * prints), example site (cross-site, on http://localhost:<port>) and a headless Chromium.
 * `vpOverrides` merge into the virtual proxy (`({ siteUrl, outDir }) => ({...})` to use the
 * site's URL); `topLevel` merges into the config's top level (an `admin` section on port 0 sets
 * `adminPort`). `admin: true` adds the admin listener (port 0, the gateway's certificate, which
 * Chromium trusts) with a token file: `adminUrl` and `adminToken`.
 */
export async function startEnvironment(t, name, { vpOverrides = {}, topLevel = {}, admin = false } = {}) {
  const outDir = join(OUTPUT, name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const stack = [];
  t.after(async () => {
    const failures = [];
    for (const stop of stack.reverse()) {
      try { await stop(); } catch (error) { failures.push(error.message); }
    }
    if (failures.length) throw new Error(failures.join('\n'));
  });

  const pki = join(outDir, 'certs');
  await run(jotgateBin(), ['certs', 'generate', '--out', pki]);

  const portFile = join(outDir, 'upstream.port');
  const upstream = startProcess(outDir, 'upstream', PYTHON, [join(REPO, 'tests', 'e2e', 'upstream_server.py'), portFile]);
  stack.push(() => upstream.stop());
  await waitFor(async () => existsSync(portFile), 'upstream_server.py', upstream);
  const upstreamUrl = `http://127.0.0.1:${readFileSync(portFile, 'utf8')}`;

  const sitePort = await freePort();
  const siteUrl = `http://localhost:${sitePort}`;
  const urls = { siteUrl, outDir };
  const virtualProxy = merged({
    name: 'Embedded app',
    prefix: PREFIX,
    listeners: ['https'],
    upstreams: [upstreamUrl],
    session: { same_site: 'none', inactivity_timeout: '30m' },
    auth: { method: 'jwt', jwt: { key: join(pki, 'signer.pem'), algorithms: ['RS256'] } },
    cors: { allowed_origins: [siteUrl] },
    logout_redirect_uri: `${siteUrl}/signed-out`,
  }, typeof vpOverrides === 'function' ? vpOverrides(urls) : vpOverrides);
  const config = merged({
    data_dir: join(outDir, 'data'),
    listeners: [{ name: 'https', address: '127.0.0.1:0',
                  tls: { certificate: join(pki, 'server.pem'), key: join(pki, 'server_key.pem') } }],
    virtual_proxies: [virtualProxy],
    access: { mode: 'allocated', allocations: [`${USER.directory}\\${USER.id}`] },
  }, typeof topLevel === 'function' ? topLevel(urls) : topLevel);
  const adminToken = admin ? randomBytes(24).toString('hex') : null;
  if (admin) {
    writeFileSync(join(outDir, 'admin-token'), `${adminToken}\n`, { mode: 0o600 });
    config.admin = { address: '127.0.0.1:0', token_file: join(outDir, 'admin-token'),
                     tls: { certificate: join(pki, 'server.pem'), key: join(pki, 'server_key.pem') } };
  }
  const configFile = join(outDir, 'jotgate.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2)); // JSON is YAML
  const gateway = startProcess(outDir, 'gateway', jotgateBin(), ['serve', '--config', configFile]);
  stack.push(async () => {
    const code = await gateway.stop();
    if (code !== 0) throw new Error(`jotgate exited ${code} on SIGTERM; see ${gateway.logFile}`);
  });
  const printed = () => printedPorts(readFileSync(gateway.logFile, 'utf8'));
  await waitFor(async () => printed() !== null, 'jotgate serve', gateway).catch((error) => {
    throw new Error(`${error.message}\n${readFileSync(gateway.logFile, 'utf8')}`);
  });
  const { listeners, admin: adminPort } = printed();
  const gatewayUrl = `https://127.0.0.1:${listeners.https}`;
  Object.assign(urls, { gatewayUrl, adminPort, upstreamUrl, adminToken,
                        adminUrl: adminPort ? `https://127.0.0.1:${adminPort}` : null });

  const site = startProcess(outDir, 'site', process.execPath, [
    join(REPO, 'examples', 'embed', 'server.mjs'), '--gateway', gatewayUrl, '--prefix', PREFIX,
    '--key', join(pki, 'signer_key.pem'), '--port', String(sitePort),
    '--user', USER.id, '--directory', USER.directory]);
  stack.push(() => site.stop());
  await waitFor(() => canConnect(sitePort), 'the example site', site);

  // Chromium verifies the gateway's certificate: its private HOME trusts the test CA.
  const browser = await launchChromium(join(outDir, 'home'), join(pki, 'ca.pem'));
  stack.push(() => browser.close());

  // A fresh browser profile (its own cookie jar). Waits are short (5 s) so that `eventually`
  // polls rather than blocks. `options`: Playwright's (e.g. ignoreHTTPSErrors for a context whose
  // `request` calls from Node, which does not trust the test CA).
  const newContext = async (options = {}) => {
    const context = await browser.newContext(options);
    context.setDefaultTimeout(5_000);
    return context;
  };

  return {
    ...urls,
    pki,
    appUrl: `${gatewayUrl}/${PREFIX}/whoami.html`,
    gatewayLog: () => readFileSync(gateway.logFile, 'utf8'),
    newContext,
    newPage: async () => (await newContext()).newPage(),
    // A second Chromium whose HOME trusts no CA: for proving that the certificate is checked.
    launchUntrustingBrowser: async () => {
      const untrusting = await launchChromium(join(outDir, 'home-without-ca'));
      stack.push(() => untrusting.close());
      return untrusting;
    },
    screenshot: (page, file) => page.screenshot({ path: join(outDir, file), fullPage: true }),
  };
}

// Every response of a document navigation in `page` (main frame and iframes), in order:
// {frame: 'main'|'iframe', url, status, location (redirects), text (other answers)}.
// `await navigations.settled()` before reading: headers and bodies arrive after the entries.
export function recordNavigations(page) {
  const seen = [];
  const pending = [];
  page.on('response', (response) => {
    const request = response.request();
    if (!request.isNavigationRequest()) return;
    const entry = { frame: request.frame() === page.mainFrame() ? 'main' : 'iframe',
                    url: response.url(), status: response.status(), text: '' };
    seen.push(entry);
    pending.push((async () => {
      if (entry.status >= 300 && entry.status < 400) {
        entry.location = await response.headerValue('location');
      } else {
        entry.text = await response.text().catch(() => '');
      }
    })());
  });
  seen.settled = async () => { await Promise.all(pending); return seen; };
  return seen;
}

// The responses of `page` to requests for `path` (in order), for their status and headers.
export function recordResponses(page, path) {
  const seen = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname === path) seen.push(response);
  });
  return seen;
}

export async function eventually(check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

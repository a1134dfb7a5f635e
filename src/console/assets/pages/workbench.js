// Token workbench: a token checked by the gateway against a virtual proxy's live keys (header,
// claims and every check with the reason code the gateway would answer), and a test token signed
// here with Web Crypto from a pasted private key that never leaves the browser.
import { api, prefixSegment } from '../api.js';
import { el, errorBox, table } from '../dom.js';
import { ALGORITHMS, signToken } from '../sign.js';

export async function showWorkbench(container) {
  const { virtualProxies } = await api.get('/api/v1/virtual-proxies');
  const vpSelect = el('select', { id: 'workbench-vp', 'data-testid': 'workbench-vp' },
    virtualProxies.map((vp) => el('option', { value: vp.prefix }, `/${vp.prefix} (${vp.name})`)));
  const tokenInput = el('textarea', { id: 'workbench-token', 'data-testid': 'workbench-token', rows: 5, spellcheck: 'false', placeholder: 'eyJhbGciOi...' });
  const result = el('div', { 'data-testid': 'workbench-result' });

  const check = async () => {
    result.replaceChildren();
    try {
      const answer = await api.post(`/api/v1/virtual-proxies/${prefixSegment(vpSelect.value)}/token-check`, { token: tokenInput.value.trim() });
      result.append(explanation(answer));
    } catch (error) {
      result.append(errorBox(error, 'workbench-error'));
    }
  };

  container.append(
    el('h1', {}, 'Token workbench'),
    el('section', { class: 'card' },
      el('h2', {}, 'Check a token'),
      el('p', { class: 'muted' }, 'The gateway checks the token against the live keys of the virtual proxy, at its clock and with its leeway. The token is not stored or logged.'),
      el('label', { for: 'workbench-vp' }, 'Virtual proxy'), vpSelect,
      el('label', { for: 'workbench-token' }, 'Token'), tokenInput,
      el('p', {}, el('button', { type: 'button', 'data-testid': 'workbench-check', onclick: check }, 'Check')),
      result),
    signer(tokenInput, check));
}

function pretty(value) {
  return el('pre', { class: 'json' }, value == null ? '(not readable)' : JSON.stringify(value, null, 2));
}

function explanation(answer) {
  const verdict = answer.result ?? {};
  return el('div', {},
    el('p', { class: verdict.accepted ? 'verdict ok' : 'verdict bad', 'data-testid': 'workbench-verdict' },
      verdict.accepted ? `Accepted (${verdict.status})` : `Refused: ${verdict.status} ${verdict.reason ?? ''}`,
      verdict.message ? ` – ${verdict.message}` : ''),
    el('div', { class: 'columns' },
      el('div', {}, el('h3', {}, 'Header'), el('div', { 'data-testid': 'workbench-header' }, pretty(answer.header))),
      el('div', {}, el('h3', {}, 'Claims'), el('div', { 'data-testid': 'workbench-claims' }, pretty(answer.claims)))),
    table(['Check', 'Result', 'Reason', 'Detail'], (answer.checks ?? []).map((c) =>
      el('tr', { 'data-testid': `check-${c.check}`, 'data-passed': String(c.passed) },
        el('td', {}, c.check),
        el('td', { class: c.passed === true ? 'ok' : c.passed === false ? 'error' : 'muted', 'data-testid': 'check-result' },
          c.passed === true ? 'passed' : c.passed === false ? 'failed' : 'not reached'),
        el('td', { class: 'mono', 'data-testid': 'check-reason' }, c.reason ?? ''),
        el('td', {}, c.detail ?? ''))), { 'data-testid': 'workbench-checks' }));
}

function signer(tokenInput, check) {
  const keyInput = el('textarea', { id: 'sign-key', 'data-testid': 'sign-key', rows: 6, spellcheck: 'false', autocomplete: 'off', placeholder: '-----BEGIN PRIVATE KEY-----' });
  const algSelect = el('select', { id: 'sign-alg', 'data-testid': 'sign-alg' }, ALGORITHMS.map((a) => el('option', { value: a }, a)));
  const userId = el('input', { id: 'sign-user-id', 'data-testid': 'sign-user-id', value: 'alice' });
  const userDirectory = el('input', { id: 'sign-user-directory', 'data-testid': 'sign-user-directory', value: 'ACME' });
  const lifetime = el('input', { id: 'sign-lifetime', 'data-testid': 'sign-lifetime', type: 'number', value: '3600' });
  const kid = el('input', { id: 'sign-kid', 'data-testid': 'sign-kid' });
  const extra = el('textarea', { id: 'sign-claims', 'data-testid': 'sign-claims', rows: 3, spellcheck: 'false', placeholder: '{"iss": "https://idp.example"}' });
  const output = el('textarea', { id: 'sign-output', 'data-testid': 'sign-output', rows: 4, readonly: true });
  const message = el('div', { 'data-testid': 'sign-message' });
  const sign = async () => {
    message.replaceChildren();
    try {
      const issued = Math.floor(Date.now() / 1000);
      const claims = { userId: userId.value, userDirectory: userDirectory.value, iat: issued,
        exp: issued + Number(lifetime.value || 0), ...(extra.value.trim() ? JSON.parse(extra.value) : {}) };
      output.value = await signToken(keyInput.value, algSelect.value, claims, kid.value.trim());
    } catch (error) {
      output.value = '';
      message.append(el('p', { class: 'error', 'data-testid': 'sign-error' }, String(error.message ?? error)));
    }
  };
  return el('section', { class: 'card' },
    el('h2', {}, 'Sign a test token'),
    el('p', { class: 'notice', 'data-testid': 'sign-privacy' },
      'The private key never leaves this browser: it is used by Web Crypto in this page and is not sent to jotgate or anywhere else.'),
    el('label', { for: 'sign-key' }, 'Private key (PKCS#8 PEM)'), keyInput,
    el('div', { class: 'row' },
      el('div', {}, el('label', { for: 'sign-alg' }, 'Algorithm'), algSelect),
      el('div', {}, el('label', { for: 'sign-kid' }, 'kid (optional)'), kid)),
    el('div', { class: 'row' },
      el('div', {}, el('label', { for: 'sign-user-id' }, 'userId'), userId),
      el('div', {}, el('label', { for: 'sign-user-directory' }, 'userDirectory'), userDirectory),
      el('div', {}, el('label', { for: 'sign-lifetime' }, 'exp: seconds from now (negative: expired)'), lifetime)),
    el('label', { for: 'sign-claims' }, 'More claims (JSON object)'), extra,
    el('p', {}, el('button', { type: 'button', 'data-testid': 'sign-submit', onclick: sign }, 'Sign'),
      ' ', el('button', { type: 'button', class: 'secondary', 'data-testid': 'sign-use', onclick: () => { tokenInput.value = output.value; check(); } }, 'Check this token')),
    el('label', { for: 'sign-output' }, 'Token'), output, message);
}

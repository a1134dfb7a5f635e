// Virtual proxies: the list (file ones marked read-only) and the form to create or edit one,
// its fields grouped as the original console groups them. The document sent is the YAML item as
// JSON; errors of VALIDATION_FAILED and PREFIX_CONFLICT appear next to the field they name.
import { api, ApiError, prefixSegment } from '../api.js';
import { el, errorBox, mount, table } from '../dom.js';

// Each field: its YAML path in the virtual proxy, label, kind and a hint.
//   text, textarea, number, list (one per line), select (options), bool (true/false/default)
const GROUPS = [
  { title: 'Identification', fields: [
    { path: 'name', label: 'Description (name)', kind: 'text', hint: 'Shown in logs and here.' },
    { path: 'prefix', label: 'Prefix', kind: 'text', hint: 'The path the virtual proxy serves, e.g. sales ("" = the root).' },
  ] },
  { title: 'Authentication', fields: [
    { path: 'auth.method', label: 'Method', kind: 'select', options: ['jwt', 'header', 'ticket'] },
    { path: 'auth.jwt.key_pem', label: 'JWT certificate or public key (PEM)', kind: 'textarea', method: 'jwt',
      hint: 'Paste -----BEGIN CERTIFICATE----- or -----BEGIN PUBLIC KEY-----; public material only.' },
    { path: 'auth.jwt.key', label: 'Key file (configuration file)', kind: 'text', method: 'jwt', readOnlyOnly: true },
    { path: 'auth.jwt.jwks_uri', label: 'JWKS URI (instead of a certificate)', kind: 'text', method: 'jwt' },
    { path: 'auth.jwt.user_id_claim', label: 'User id attribute (claim)', kind: 'text', method: 'jwt', hint: 'e.g. userId or sub' },
    { path: 'auth.jwt.user_directory_claim', label: 'User directory attribute (claim)', kind: 'text', method: 'jwt', hint: 'e.g. userDirectory' },
    { path: 'auth.jwt.user_directory', label: 'Fixed user directory (instead of a claim)', kind: 'text', method: 'jwt' },
    { path: 'auth.jwt.algorithms', label: 'Algorithms', kind: 'list', method: 'jwt', hint: 'One per line: RS256, ES256, ...' },
    { path: 'auth.jwt.issuer', label: 'Issuer (iss)', kind: 'text', method: 'jwt' },
    { path: 'auth.jwt.audience', label: 'Audience (aud)', kind: 'text', method: 'jwt' },
    { path: 'auth.jwt.leeway', label: 'Clock leeway', kind: 'text', method: 'jwt', hint: 'A duration: 30s, 2m' },
    { path: 'auth.header.user_header', label: 'User header', kind: 'text', method: 'header' },
    { path: 'auth.header.directory_header', label: 'Directory header', kind: 'text', method: 'header' },
    { path: 'auth.header.directory', label: 'Fixed directory', kind: 'text', method: 'header' },
    { path: 'auth.anonymous', label: 'Anonymous users', kind: 'select', options: ['', 'none', 'allow', 'always'] },
    { path: 'auth.failure_limit', label: 'Failed sign-in limit', kind: 'text', hint: 'N/s, N/m or N/h' },
  ] },
  { title: 'Load balancing', fields: [
    { path: 'upstreams', label: 'Engines (upstream URLs)', kind: 'list', hint: 'One per line: http://host:port' },
    { path: 'connect_timeout', label: 'Connect timeout', kind: 'text' },
    { path: 'read_timeout', label: 'Read timeout', kind: 'text' },
  ] },
  { title: 'Advanced', fields: [
    { path: 'session.cookie_name', label: 'Session cookie header name', kind: 'text' },
    { path: 'session.inactivity_timeout', label: 'Session inactivity timeout', kind: 'text', hint: 'A duration: 30m, 90s' },
    { path: 'session.max_lifetime', label: 'Session maximum lifetime', kind: 'text' },
    { path: 'session.max_per_user', label: 'Sessions per user (0 = no limit)', kind: 'number' },
    { path: 'session.same_site', label: 'SameSite attribute', kind: 'select', options: ['', 'lax', 'strict', 'none'] },
    { path: 'session.secure', label: 'Secure cookie', kind: 'bool' },
    { path: 'session.partitioned', label: 'Partitioned cookie', kind: 'bool' },
    { path: 'session.domain', label: 'Cookie domain', kind: 'text' },
    { path: 'identity_header', label: 'Identity header', kind: 'text' },
    { path: 'strip_prefix', label: 'Strip the prefix before forwarding', kind: 'bool' },
    { path: 'host_allow_list', label: 'Host allow list', kind: 'list', hint: 'One host per line' },
    { path: 'cors.allowed_origins', label: 'CORS allowed origins', kind: 'list', hint: 'One origin per line' },
    { path: 'logout_redirect_uri', label: 'Logout redirect URI', kind: 'text' },
    { path: 'auth.redirect_uri', label: 'Sign-in redirect URI', kind: 'text' },
    { path: 'allow_underscores_in_headers', label: 'Allow underscores in header names', kind: 'bool' },
  ] },
];
const FIELDS = GROUPS.flatMap((g) => g.fields);
const fieldId = (path) => `vp-field-${path.replaceAll('.', '-').replaceAll('_', '-')}`;

function read(doc, path) {
  return path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), doc);
}

function write(doc, path, value) {
  const keys = path.split('.');
  let node = doc;
  for (const key of keys.slice(0, -1)) node = node[key] ??= {};
  node[keys.at(-1)] = value;
}

export async function showVirtualProxies(container) {
  const { virtualProxies } = await api.get('/api/v1/virtual-proxies');
  const rows = virtualProxies.map((vp) => el('tr', { 'data-testid': 'vp-row', 'data-prefix': vp.prefix },
    el('td', {}, el('a', { href: '#', 'data-testid': 'vp-open', onclick: (e) => { e.preventDefault(); openForm(container, vp); } }, vp.name)),
    el('td', { 'data-testid': 'vp-prefix' }, `/${vp.prefix}`),
    el('td', {}, vp.auth?.method ?? ''),
    el('td', { 'data-testid': 'vp-source' }, vp.source,
      vp.readOnly ? el('span', { class: 'badge', 'data-testid': 'vp-read-only', title: 'Defined in the configuration file: change it there' }, 'read-only') : ''),
    el('td', {}, (vp.listeners ?? []).join(', '))));
  container.append(
    el('h1', {}, 'Virtual proxies'),
    el('p', {}, el('button', { type: 'button', 'data-testid': 'vp-new', onclick: () => openForm(container, null) }, 'New virtual proxy')),
    table(['Description', 'Prefix', 'Method', 'Source', 'Listeners'], rows, { 'data-testid': 'vp-list' }),
    el('div', { id: 'vp-editor' }));
}

async function openForm(container, vp) {
  const editor = container.querySelector('#vp-editor');
  let listeners = [];
  try {
    listeners = ((await api.get('/api/v1/overview')).listeners ?? []).map((l) => l.name);
  } catch { /* the form still works without the names */ }
  for (const name of vp?.listeners ?? []) if (!listeners.includes(name)) listeners.push(name);
  const readOnly = Boolean(vp?.readOnly);
  const form = el('form', { class: 'card vp-form', 'data-testid': 'vp-form', novalidate: true });
  form.append(el('h2', {}, vp ? `${readOnly ? 'View' : 'Edit'} ${vp.name}` : 'New virtual proxy'),
    readOnly ? el('p', { class: 'warning' }, 'This virtual proxy comes from the configuration file: it is shown read-only.') : '');
  for (const group of GROUPS) {
    const fieldset = el('fieldset', { 'data-testid': `vp-group-${group.title.toLowerCase().replace(/ /g, '-')}` }, el('legend', {}, group.title));
    for (const field of group.fields) {
      if (field.readOnlyOnly && !(readOnly && read(vp, field.path))) continue;
      fieldset.append(fieldRow(field, read(vp ?? {}, field.path), readOnly || field.readOnlyOnly));
    }
    form.append(fieldset);
  }
  const chosen = new Set(vp?.listeners ?? (listeners.length === 1 ? listeners : []));
  form.append(el('fieldset', { 'data-testid': 'vp-group-listeners' }, el('legend', {}, 'Listeners'),
    listeners.map((name) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', name: 'listener', value: name, checked: chosen.has(name), disabled: readOnly, 'data-testid': `vp-listener-${name}` }),
      ` ${name}`)),
    el('p', { class: 'field-error', 'data-error-for': 'listeners', 'data-testid': 'vp-error-listeners' })));
  const general = el('div', { 'data-testid': 'vp-form-error' });
  form.append(general);
  if (!readOnly) {
    form.append(el('div', { class: 'actions' },
      el('button', { type: 'submit', 'data-testid': 'vp-save' }, vp ? 'Save' : 'Create'),
      vp ? el('button', { type: 'button', class: 'danger', 'data-testid': 'vp-delete', onclick: () => confirmDelete(container, form, vp) }, 'Delete') : '',
      el('button', { type: 'button', class: 'secondary', onclick: () => editor.replaceChildren() }, 'Cancel')));
  }
  const method = form.querySelector(`#${fieldId('auth.method')}`);
  const showMethod = () => {
    for (const row of form.querySelectorAll('[data-method]')) row.hidden = row.dataset.method !== (method.value || 'jwt');
  };
  method.addEventListener('change', showMethod);
  showMethod();
  form.addEventListener('submit', (event) => { event.preventDefault(); save(container, form, vp, general); });
  mount(editor, form);
  form.scrollIntoView();
}

function fieldRow(field, value, disabled) {
  const id = fieldId(field.path);
  const common = { id, name: field.path, disabled, 'data-testid': id, 'data-path': field.path };
  let input;
  if (field.kind === 'textarea') {
    input = el('textarea', { ...common, rows: 6, spellcheck: 'false' });
    input.value = value ?? '';
  } else if (field.kind === 'list') {
    input = el('textarea', { ...common, rows: 2, spellcheck: 'false' });
    input.value = Array.isArray(value) ? value.join('\n') : (value ?? '');
  } else if (field.kind === 'select') {
    input = el('select', common, field.options.map((o) => el('option', { value: o }, o || '(default)')));
    input.value = value ?? field.options[0];
  } else if (field.kind === 'bool') {
    input = el('select', common, el('option', { value: '' }, '(default)'), el('option', { value: 'true' }, 'yes'), el('option', { value: 'false' }, 'no'));
    input.value = value === true ? 'true' : value === false ? 'false' : '';
  } else {
    input = el('input', { ...common, type: field.kind === 'number' ? 'number' : 'text', value: value ?? '' });
  }
  return el('div', { class: field.kind === 'textarea' ? 'field wide' : 'field', 'data-method': field.method },
    el('label', { for: id }, field.label),
    input,
    field.hint ? el('small', { class: 'hint' }, field.hint) : '',
    el('p', { class: 'field-error', 'data-error-for': field.path, 'data-testid': `vp-error-${field.path}` }));
}

function remove(doc, path) {
  const keys = path.split('.');
  const parent = read(doc, keys.slice(0, -1).join('.')) ?? (keys.length === 1 ? doc : undefined);
  if (parent && typeof parent === 'object') delete parent[keys.at(-1)];
}

// The document the form describes, over the one loaded (keys the form does not show are kept):
// an empty field is left out, so its default applies.
function documentOf(form, loaded) {
  const doc = structuredClone(loaded ?? {});
  delete doc.source;
  delete doc.readOnly;
  for (const field of FIELDS) {
    if (field.readOnlyOnly) continue;
    const input = form.querySelector(`[data-path="${field.path}"]`);
    if (!input) continue;
    remove(doc, field.path);
    const text = input.value.trim();
    if (text === '' || input.closest('[hidden]')) continue;
    if (field.kind === 'list') write(doc, field.path, text.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean));
    else if (field.kind === 'bool') write(doc, field.path, text === 'true');
    else if (field.kind === 'number') write(doc, field.path, Number(text));
    else if (field.kind === 'textarea') write(doc, field.path, `${input.value.trim()}\n`);
    else write(doc, field.path, text);
  }
  if (doc.prefix === undefined) doc.prefix = '';
  doc.listeners = [...form.querySelectorAll('input[name=listener]:checked')].map((i) => i.value);
  return doc;
}

function showErrors(form, general, error) {
  const errors = error instanceof ApiError ? (error.body.errors ?? []) : [];
  const unplaced = [];
  for (const { field, message } of errors) {
    // The field itself, or the closest group it belongs to (auth.jwt.algorithms[1] -> algorithms).
    const path = field.replace(/\[\d+\]/g, '');
    const slot = form.querySelector(`[data-error-for="${CSS.escape(path)}"]`);
    if (slot) {
      slot.textContent = message;
      slot.closest('.field')?.classList.add('invalid');
    } else {
      unplaced.push(`${field}: ${message}`);
    }
  }
  if (!errors.length || unplaced.length) {
    general.replaceChildren(errorBox(error, 'vp-form-error-message'), unplaced.map((u) => el('p', { class: 'error' }, u)));
  }
}

async function save(container, form, vp, general) {
  for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
  for (const row of form.querySelectorAll('.invalid')) row.classList.remove('invalid');
  general.replaceChildren();
  const doc = documentOf(form, vp);
  try {
    const saved = vp
      ? await api.put(`/api/v1/virtual-proxies/${prefixSegment(vp.prefix)}`, doc)
      : await api.post('/api/v1/virtual-proxies', doc);
    await reload(container, `Saved /${saved?.prefix ?? doc.prefix}.`);
  } catch (error) {
    showErrors(form, general, error);
  }
}

async function confirmDelete(container, form, vp) {
  const dialog = el('div', { class: 'confirm', role: 'alertdialog', 'data-testid': 'vp-confirm-delete' },
    el('p', {}, `Delete the virtual proxy /${vp.prefix}? Its users lose access at once.`),
    el('button', { type: 'button', class: 'danger', 'data-testid': 'vp-confirm-delete-yes', onclick: async () => {
      try {
        await api.delete(`/api/v1/virtual-proxies/${prefixSegment(vp.prefix)}`);
        await reload(container, `Deleted /${vp.prefix}.`);
      } catch (error) {
        dialog.append(errorBox(error));
      }
    } }, 'Delete'),
    el('button', { type: 'button', class: 'secondary', onclick: () => dialog.remove() }, 'Keep it'));
  form.append(dialog);
}

async function reload(container, message) {
  container.replaceChildren();
  await showVirtualProxies(container);
  container.querySelector('h1').after(el('p', { class: 'notice', 'data-testid': 'vp-notice' }, message));
}

// Building the page without markup strings: text always goes in as text (never parsed as HTML).
//   const row = el('tr', {}, el('td', { 'data-testid': 'vp-prefix' }, vp.prefix));
//   mount(page, el('h1', {}, 'Overview'));
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = value;
    else if (name === 'value') node.value = value;
    else if (name === 'checked') node.checked = Boolean(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function mount(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// A table with a header row; `rows` are arrays of cells (text or nodes).
export function table(headings, rows, attributes = {}) {
  return el('table', attributes,
    el('thead', {}, el('tr', {}, headings.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: headings.length, class: 'empty' }, 'Nothing to show.'))));
}

export function time(unix) {
  if (unix === null || unix === undefined) return '–';
  return new Date(unix * 1000).toLocaleString();
}

export function errorBox(error, testid = 'page-error') {
  return el('p', { class: 'error', role: 'alert', 'data-testid': testid },
    error?.body?.error ? `${error.body.error}: ${error.message}` : String(error?.message ?? error));
}

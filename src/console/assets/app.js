// The console's page: sign-in when there is no console session, else the layout with its
// navigation and the page named by the location's hash (#/overview, #/virtual-proxies, ...).
import { api, ApiError, setCsrfToken } from './api.js';
import { el, errorBox, mount } from './dom.js';
import { showOverview } from './pages/overview.js';
import { showVirtualProxies } from './pages/virtual-proxies.js';
import { showAccess } from './pages/access.js';
import { showSessions } from './pages/sessions.js';
import { showAudit } from './pages/audit.js';
import { showWorkbench } from './pages/workbench.js';

const pages = {
  overview: showOverview,
  'virtual-proxies': showVirtualProxies,
  access: showAccess,
  sessions: showSessions,
  audit: showAudit,
  workbench: showWorkbench,
};

const signInView = document.getElementById('sign-in-view');
const consoleView = document.getElementById('console-view');
const page = document.getElementById('page');

function showSignIn(message) {
  setCsrfToken('');
  consoleView.hidden = true;
  signInView.hidden = false;
  document.body.dataset.view = 'sign-in';
  document.getElementById('sign-in-error').textContent = message ?? '';
  document.getElementById('sign-in-token').focus();
}

function showConsole(session) {
  setCsrfToken(session.csrfToken);
  document.getElementById('signed-in-as').textContent = `Signed in as ${session.admin}`;
  signInView.hidden = true;
  consoleView.hidden = false;
  document.body.dataset.view = 'console';
  route();
}

// The latest route(): one still loading when another started neither marks the page as shown
// nor matters (its container is no longer on the page).
let routing = 0;

async function route() {
  if (consoleView.hidden) return;
  const generation = ++routing;
  const name = location.hash.replace(/^#\/?/, '').split('?')[0] || 'overview';
  const show = pages[name] ?? pages.overview;
  for (const link of document.querySelectorAll('nav a[data-page]')) {
    link.classList.toggle('active', link.dataset.page === name);
  }
  const container = el('div', { class: 'page', 'data-testid': `page-${name}` });
  mount(page, container);
  document.body.dataset.page = '';
  try {
    await show(container);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    container.append(errorBox(error));
  }
  if (generation !== routing) return;
  document.body.dataset.page = name;  // tests wait for this: the page has its data
}

document.getElementById('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = document.getElementById('sign-in-token').value;
  try {
    const session = await api.post('sign-in', token ? { token } : {});
    document.getElementById('sign-in-token').value = '';
    showConsole(session);
  } catch (error) {
    showSignIn(error instanceof ApiError && error.status === 429
      ? 'Too many failed sign-ins from this address: wait a minute.'
      : 'That is not the admin token.');
  }
});

document.getElementById('sign-out').addEventListener('click', async () => {
  try { await api.post('sign-out'); } catch { /* signed out anyway */ }
  showSignIn('You have signed out.');
});

window.addEventListener('hashchange', route);
// A click on the page already shown shows it again, fresh (no hashchange for the same hash).
for (const link of document.querySelectorAll('nav a[data-page]')) {
  link.addEventListener('click', (event) => {
    if (link.getAttribute('href') !== location.hash) return;
    event.preventDefault();
    route();
  });
}
window.addEventListener('console-signed-out', () => showSignIn('Your console session has ended: sign in again.'));

try {
  showConsole(await api.get('session'));
} catch {
  showSignIn();
}

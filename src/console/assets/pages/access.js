// Users and access: the allocations (search, last use), seats used and left, grant and revoke.
import { api, query } from '../api.js';
import { el, errorBox, table, time } from '../dom.js';

export async function showAccess(container, search = '') {
  const data = await api.get(`/api/v1/allocations${query({ search, limit: 500 })}`);
  const seats = data.seats ?? {};
  const message = el('div', { 'data-testid': 'access-message' });
  const searchInput = el('input', { type: 'search', id: 'access-search', 'data-testid': 'access-search', placeholder: 'Directory or user id', value: search });
  const rows = (data.allocations ?? []).map((a) => el('tr', { 'data-testid': 'allocation-row', 'data-user': `${a.userDirectory}\\${a.userId}` },
    el('td', {}, a.userDirectory), el('td', {}, a.userId),
    el('td', {}, time(a.grantedAt)), el('td', { 'data-testid': 'allocation-last-use' }, a.lastUse ? time(a.lastUse) : 'never'),
    el('td', {}, a.auto ? 'automatic' : 'granted'),
    el('td', {}, el('button', { type: 'button', class: 'danger small', 'data-testid': 'allocation-revoke', onclick: async () => {
      try {
        await api.delete(`/api/v1/allocations/${encodeURIComponent(a.userDirectory)}/${encodeURIComponent(a.userId)}`);
        await redraw(container, searchInput.value);
      } catch (error) { message.replaceChildren(errorBox(error)); }
    } }, 'Revoke'))));
  const directory = el('input', { id: 'grant-directory', 'data-testid': 'grant-directory', placeholder: 'ACME', required: true });
  const userId = el('input', { id: 'grant-user', 'data-testid': 'grant-user', placeholder: 'alice', required: true });
  container.append(
    el('h1', {}, 'Users and access'),
    el('p', { 'data-testid': 'access-seats' }, `Mode: ${data.mode}. Seats: ${seats.used ?? 0} used, `,
      seats.left == null ? 'no limit' : `${seats.left} left`, seats.total == null ? '' : ` of ${seats.total}.`),
    el('form', { class: 'card inline', 'data-testid': 'grant-form', onsubmit: async (event) => {
      event.preventDefault();
      try {
        await api.post('/api/v1/allocations', { userDirectory: directory.value.trim(), userId: userId.value.trim() });
        await redraw(container, searchInput.value);
        container.querySelector('[data-testid=access-message]').append(el('p', { class: 'notice' }, `Granted access to ${directory.value.trim()}\\${userId.value.trim()}.`));
      } catch (error) { message.replaceChildren(errorBox(error)); }
    } }, el('h2', {}, 'Grant access'), el('label', { for: 'grant-directory' }, 'User directory'), directory,
      el('label', { for: 'grant-user' }, 'User id'), userId, el('button', { type: 'submit', 'data-testid': 'grant-submit' }, 'Grant')),
    message,
    el('form', { class: 'inline', onsubmit: (event) => { event.preventDefault(); redraw(container, searchInput.value); } },
      el('label', { for: 'access-search' }, 'Search'), searchInput, el('button', { type: 'submit', 'data-testid': 'access-search-submit' }, 'Search')),
    table(['Directory', 'User id', 'Granted', 'Last use', 'How', ''], rows, { 'data-testid': 'allocation-list' }));
}

async function redraw(container, search) {
  container.replaceChildren();
  await showAccess(container, search);
}

// Sessions: the live sessions of a user in a virtual proxy; end one, or all of the user's.
import { api, prefixSegment, query } from '../api.js';
import { el, errorBox, table, time } from '../dom.js';

export async function showSessions(container) {
  const { virtualProxies } = await api.get('/api/v1/virtual-proxies');
  const vpSelect = el('select', { id: 'sessions-vp', 'data-testid': 'sessions-vp' },
    virtualProxies.map((vp) => el('option', { value: vp.prefix }, `/${vp.prefix} (${vp.name})`)));
  const userInput = el('input', { id: 'sessions-user', 'data-testid': 'sessions-user', placeholder: 'ACME\\alice' });
  const results = el('div', { 'data-testid': 'sessions-results' });
  const list = async () => {
    const [directory, ...rest] = userInput.value.trim().split('\\');
    const id = rest.join('\\');
    results.replaceChildren();
    if (!directory || !id) {
      results.append(el('p', { class: 'error' }, 'Name the user as DIRECTORY\\id.'));
      return;
    }
    try {
      const { sessions } = await api.get(`/api/v1/virtual-proxies/${prefixSegment(vpSelect.value)}/sessions${query({ user: `${directory}\\${id}` })}`);
      results.append(
        el('p', {}, el('button', { type: 'button', class: 'danger', 'data-testid': 'sessions-end-all', onclick: async () => {
          try {
            const { ended } = await api.delete(`/api/v1/users/${encodeURIComponent(directory)}/${encodeURIComponent(id)}/sessions`);
            await list();
            results.prepend(el('p', { class: 'notice', 'data-testid': 'sessions-notice' }, `Ended ${ended} session(s) of ${directory}\\${id}.`));
          } catch (error) { results.append(errorBox(error)); }
        } }, `End all sessions of ${directory}\\${id}`)),
        table(['Session', 'User', 'Expires', 'Attributes', ''], sessions.map((s) => el('tr', { 'data-testid': 'session-row' },
          el('td', { class: 'mono' }, `${s.sessionId.slice(0, 8)}…`),
          el('td', {}, `${s.userDirectory}\\${s.userId}`),
          el('td', {}, time(s.expiresAt)),
          el('td', {}, Object.entries(s.attributes ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')),
          el('td', {}, el('button', { type: 'button', class: 'danger small', 'data-testid': 'session-end', onclick: async () => {
            try {
              await api.delete(`/api/v1/virtual-proxies/${prefixSegment(vpSelect.value)}/sessions/${encodeURIComponent(s.sessionId)}`);
              await list();
              results.prepend(el('p', { class: 'notice', 'data-testid': 'sessions-notice' }, 'Session ended.'));
            } catch (error) { results.append(errorBox(error)); }
          } }, 'End')))), { 'data-testid': 'session-list' }));
    } catch (error) {
      results.append(errorBox(error));
    }
  };
  container.append(
    el('h1', {}, 'Sessions'),
    el('form', { class: 'card inline', onsubmit: (event) => { event.preventDefault(); list(); } },
      el('label', { for: 'sessions-vp' }, 'Virtual proxy'), vpSelect,
      el('label', { for: 'sessions-user' }, 'User'), userInput,
      el('button', { type: 'submit', 'data-testid': 'sessions-show' }, 'Show sessions')),
    results);
}

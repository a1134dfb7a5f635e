// Audit: the recent events (the gateway keeps the last 1000 in memory), filtered by user,
// virtual proxy, event and reason.
import { api, query } from '../api.js';
import { el, table } from '../dom.js';

const FILTERS = [['user', 'User (DIR\\id)'], ['vp', 'Virtual proxy'], ['event', 'Event'], ['reason', 'Reason']];

export async function showAudit(container, filters = {}) {
  const { events } = await api.get(`/api/v1/audit${query({ ...filters, limit: 200 })}`);
  const inputs = Object.fromEntries(FILTERS.map(([name]) =>
    [name, el('input', { id: `audit-${name}`, 'data-testid': `audit-${name}`, value: filters[name] ?? '' })]));
  container.append(
    el('h1', {}, 'Audit'),
    el('form', { class: 'card inline', 'data-testid': 'audit-filters', onsubmit: async (event) => {
      event.preventDefault();
      const chosen = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value.trim()]));
      container.replaceChildren();
      await showAudit(container, chosen);
    } }, FILTERS.map(([name, label]) => [el('label', { for: `audit-${name}` }, label), inputs[name]]),
      el('button', { type: 'submit', 'data-testid': 'audit-apply' }, 'Filter')),
    table(['Time', 'Event', 'Virtual proxy', 'User', 'Reason', 'Admin', 'Details'], events.map((e) => el('tr', { 'data-testid': 'audit-row', 'data-event': e.event },
      el('td', {}, e.time), el('td', {}, e.event), el('td', {}, e.vp ?? ''), el('td', {}, e.user ?? ''),
      el('td', {}, e.reason ?? ''), el('td', {}, e.admin ?? ''),
      el('td', { class: 'mono' }, Object.entries(e.fields ?? {})
        .filter(([k]) => !['event', 'vp', 'user', 'reason', 'admin'].includes(k))
        .map(([k, v]) => `${k}=${v}`).join(' ')))), { 'data-testid': 'audit-list' }));
}

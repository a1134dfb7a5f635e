// Overview: listeners, virtual proxies (prefix, upstream health, live sessions, key status),
// the last hour's authentication decisions by reason as a chart, and the last reload.
import { api } from '../api.js';
import { el, table, time } from '../dom.js';
import { decisionChart } from './chart.js';

export async function showOverview(container) {
  const overview = await api.get('/api/v1/overview');
  container.append(
    el('h1', {}, 'Overview'),
    el('p', { class: 'muted' }, `jotgate ${overview.version ?? ''}, started ${time(overview.startedAt)}`),
    el('section', { class: 'card' },
      el('h2', {}, 'Listeners'),
      table(['Name', 'Address', 'TLS'], (overview.listeners ?? []).map((l) =>
        el('tr', { 'data-testid': 'overview-listener' }, el('td', {}, l.name), el('td', {}, l.address),
          el('td', {}, l.tls ? 'yes' : 'no'))))),
    el('section', { class: 'card' },
      el('h2', {}, 'Virtual proxies'),
      table(['Name', 'Prefix', 'Source', 'Listeners', 'Live sessions', 'Upstreams', 'Keys'],
        (overview.virtualProxies ?? []).map((vp) => el('tr', { 'data-testid': 'overview-vp' },
          el('td', {}, vp.name),
          el('td', { 'data-testid': 'overview-vp-prefix' }, `/${vp.prefix}`),
          el('td', {}, vp.source),
          el('td', {}, (vp.listeners ?? []).join(', ')),
          el('td', { 'data-testid': 'overview-vp-sessions' }, String(vp.sessions ?? 0)),
          el('td', {}, (vp.upstreams ?? []).map((u) => el('div', {},
            el('span', { class: u.healthy ? 'dot ok' : 'dot bad', title: u.healthy ? 'healthy' : 'unhealthy' }),
            ` ${u.url}`))),
          el('td', {}, (vp.keys ?? []).map((k) => el('div', { class: k.problem ? 'error' : '' },
            `${k.source}${k.location ? ` ${k.location}` : ''}: ${k.count} key(s)`,
            k.ageSeconds != null ? `, ${k.ageSeconds} s old` : '',
            k.nextRefreshAt != null ? `, next refresh ${time(k.nextRefreshAt)}` : '',
            k.problem ? ` (${k.problem})` : ''))))))),
    el('section', { class: 'card' },
      el('h2', {}, 'Authentication decisions, last hour'),
      decisionChart(overview.decisions ?? {})),
    el('section', { class: 'card', 'data-testid': 'overview-reload' },
      el('h2', {}, 'Last reload'),
      lastReload(overview.lastReload ?? {})));
}

function lastReload(reload) {
  if (!reload.at) return el('p', {}, 'No reload since the start.');
  return el('div', {},
    el('p', {}, `${time(reload.at)}: `, el('strong', { class: reload.result === 'ok' ? 'ok' : 'error' }, reload.result)),
    (reload.problems ?? []).map((p) => el('p', { class: 'error' }, p)),
    (reload.warnings ?? []).map((w) => el('p', { class: 'warning' }, w)));
}

// The decisions chart: one stacked SVG bar per minute bucket, one colour per reason, and a
// legend with each reason's total. Drawn with SVG elements (no inline style: colours are classes).
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const HEIGHT = 180;

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

// Admissions green, each refusal reason a colour of its own.
const ADMITTED = /^(SIGNED_IN|ADMITTED|ACCEPTED|SESSION)/;
function seriesClass(reasons) {
  let refusal = 0;
  return Object.fromEntries(reasons.map((r) => [r, ADMITTED.test(r) ? 'series-0' : `series-${1 + (refusal++ % 7)}`]));
}

export function decisionChart(decisions) {
  const reasons = Object.keys(decisions.reasons ?? {}).sort();
  const classes = seriesClass(reasons);
  const buckets = Math.max(0, ...reasons.map((r) => decisions.reasons[r].length));
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.dataset.testid = 'decisions-chart';
  if (!reasons.length || !buckets) {
    figure.append('No authentication decisions in the last hour.');
    return figure;
  }
  const totals = Array.from({ length: buckets }, (_, i) =>
    reasons.reduce((sum, r) => sum + (decisions.reasons[r][i] ?? 0), 0));
  const highest = Math.max(1, ...totals);
  const barWidth = WIDTH / buckets;
  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT + 20}`, role: 'img',
    'aria-label': 'Authentication decisions per minute by reason' });
  chart.append(svg('line', { x1: 0, y1: HEIGHT, x2: WIDTH, y2: HEIGHT, class: 'axis' }));
  for (let i = 0; i < buckets; i++) {
    let y = HEIGHT;
    reasons.forEach((reason) => {
      const count = decisions.reasons[reason][i] ?? 0;
      if (!count) return;
      const height = (count / highest) * (HEIGHT - 10);
      y -= height;
      const bar = svg('rect', { x: i * barWidth + 1, y, width: Math.max(1, barWidth - 2), height,
        class: classes[reason] });
      const title = svg('title');
      title.textContent = `${reason}: ${count}`;
      bar.append(title);
      chart.append(bar);
    });
  }
  const start = decisions.start ? new Date(decisions.start * 1000) : null;
  if (start) {
    const label = svg('text', { x: 0, y: HEIGHT + 15, class: 'axis-label' });
    label.textContent = start.toLocaleTimeString();
    const now = svg('text', { x: WIDTH, y: HEIGHT + 15, class: 'axis-label end' });
    now.textContent = 'now';
    chart.append(label, now);
  }
  const legend = document.createElement('ul');
  legend.className = 'legend';
  reasons.forEach((reason) => {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = `swatch ${classes[reason]}`;
    const total = decisions.reasons[reason].reduce((a, b) => a + b, 0);
    item.append(swatch, ` ${reason} (${total})`);
    item.dataset.testid = `legend-${reason}`;
    legend.append(item);
  });
  figure.append(chart, legend);
  return figure;
}

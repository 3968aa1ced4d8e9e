// The dashboard's two charts as inline SVG (no script, no CDN): payments per hour stacked by outcome, and
// declines by reason over the same hours. Pure functions of the query results; colours come from the page's CSS.
import type { Formatter } from './format.js';
import { html, type SafeHtml } from './html.js';
import type { Activity, HourBucket } from './queries.js';
import { reasonText } from './words.js';

const WIDTH = 720;
const SERIES = [
  { key: 'approvedOnline', label: 'approved online', className: 'c-online' },
  { key: 'approvedOffline', label: 'approved offline', className: 'c-offline' },
  { key: 'declined', label: 'declined', className: 'c-declined' },
] as const satisfies readonly { key: keyof HourBucket; label: string; className: string }[];

/** 1, 2, 5 × 10^n at or above `value`, so the axis reads in round numbers. */
function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function paymentsChart(activity: Activity, fmt: Formatter): SafeHtml {
  const { hours } = activity;
  const height = 240;
  const plot = { left: 44, right: WIDTH - 8, top: 12, bottom: height - 28 };
  const totals = hours.map((h) => h.approvedOnline + h.approvedOffline + h.declined);
  const max = niceCeiling(Math.max(0, ...totals));
  const slot = (plot.right - plot.left) / hours.length;
  const barWidth = Math.max(2, slot * 0.7);
  const y = (n: number) => plot.bottom - (n / max) * (plot.bottom - plot.top);
  const labelEvery = hours.length > 12 ? 3 : hours.length > 6 ? 2 : 1;
  const bars = hours.map((hour, i) => {
    const x = plot.left + i * slot + (slot - barWidth) / 2;
    let base = 0;
    const segments = SERIES.map((series) => {
      const n = hour[series.key];
      if (n === 0) return '';
      const top = y(base + n);
      const bottom = y(base);
      base += n;
      return html`<rect class="${series.className}" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(bottom - top).toFixed(1)}"><title>${fmt.hour(hour.startMs)}: ${n} ${series.label}</title></rect>`;
    });
    const label =
      i % labelEvery === 0
        ? html`<text class="axis" x="${(x + barWidth / 2).toFixed(1)}" y="${height - 8}" text-anchor="middle">${fmt.hour(hour.startMs)}</text>`
        : '';
    return html`${segments}${label}`;
  });
  const ticks = [0, max / 2, max].map(
    (n) =>
      html`<line class="grid" x1="${plot.left}" x2="${plot.right}" y1="${y(n).toFixed(1)}" y2="${y(n).toFixed(1)}"/><text class="axis" x="${plot.left - 6}" y="${(y(n) + 4).toFixed(1)}" text-anchor="end">${Number.isInteger(n) ? n : n.toFixed(1)}</text>`,
  );
  const sum = (key: keyof Omit<HourBucket, 'startMs'>) => hours.reduce((total, h) => total + h[key], 0);
  const summary = `${sum('approvedOnline') + sum('approvedOffline')} approved (${sum('approvedOffline')} offline), ${sum('declined')} declined in the last ${hours.length} h`;
  const empty =
    totals.every((t) => t === 0) &&
    html`<text class="empty" x="${WIDTH / 2}" y="${height / 2}" text-anchor="middle">No payments in the last ${hours.length} h</text>`;
  return html`<figure class="chart">
<svg id="chart-payments" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${summary}">${ticks}${bars}${empty}</svg>
<figcaption>${legend()} <span class="chart-summary">${summary}</span></figcaption>
</figure>`;
}

function legend(): SafeHtml {
  return html`<span class="legend">${SERIES.map((s) => html`<span class="key ${s.className}-key">${s.label}</span>`)}</span>`;
}

export function declinesChart(activity: Activity, hours: number): SafeHtml {
  const rows = activity.declinesByReason;
  if (rows.length === 0) {
    return html`<figure class="chart"><svg id="chart-declines" viewBox="0 0 ${WIDTH} 40" role="img" aria-label="No declines in the last ${hours} h"><text class="empty" x="${WIDTH / 2}" y="24" text-anchor="middle">No declines in the last ${hours} h</text></svg></figure>`;
  }
  const rowHeight = 26;
  const height = rows.length * rowHeight + 8;
  const labelWidth = 300;
  const max = Math.max(...rows.map((r) => r.count));
  const barSpace = WIDTH - labelWidth - 48;
  const bars = rows.map((row, i) => {
    const top = 4 + i * rowHeight;
    const width = Math.max(2, (row.count / max) * barSpace);
    return html`<g class="decline-row" data-reason="${row.reason}"><text class="axis" x="${labelWidth - 8}" y="${top + 17}" text-anchor="end">${reasonText(row.reason)}</text><rect class="c-declined" x="${labelWidth}" y="${top + 3}" width="${width.toFixed(1)}" height="${rowHeight - 8}"><title>${row.reason}: ${row.count}</title></rect><text class="count" x="${(labelWidth + width + 6).toFixed(1)}" y="${top + 17}">${row.count}</text></g>`;
  });
  const total = rows.reduce((sum, r) => sum + r.count, 0);
  return html`<figure class="chart"><svg id="chart-declines" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${total} declines in the last ${hours} h, by reason">${bars}</svg></figure>`;
}

// The dashboard's panels as HTML fragments, each a pure function of one model read: the page renders them all
// on load, and /dashboard/panels sends them again whenever the event stream says something changed.
import type { Config } from '../config.js';
import type { GatewayStatus } from '../gateway.js';
import type { Payment } from '../payments/payment.js';
import { declinesChart, paymentsChart } from './charts.js';
import { ageSec, duration, type Formatter } from './format.js';
import { html, type SafeHtml } from './html.js';
import type { Activity, Loss } from './queries.js';
import { reasonText, STATE_TEXT } from './words.js';

export interface DashboardModel {
  status: GatewayStatus;
  recent: Payment[];
  activity: Activity;
  losses: Loss[];
  config: Pick<Config, 'storeId' | 'currency' | 'lanes' | 'registers' | 'dashboard'>;
  nowMs: number;
}

type Health = 'ok' | 'warn' | 'bad';

function panel(title: string, health: Health, body: SafeHtml): SafeHtml {
  return html`<h2>${title}</h2><div class="panel-body" data-health="${health}">${body}</div>`;
}

export const PANEL_IDS = [
  'mode',
  'sync',
  'feed',
  'offline',
  'lanes',
  'payments',
  'losses',
  'charts',
] as const;
export type PanelId = (typeof PANEL_IDS)[number];

export function renderPanels(m: DashboardModel, fmt: Formatter): Record<PanelId, SafeHtml> {
  return {
    mode: modePanel(m, fmt),
    offline: offlinePanel(m, fmt),
    sync: syncPanel(m, fmt),
    feed: feedPanel(m, fmt),
    lanes: lanesPanel(m, fmt),
    payments: paymentsPanel(m, fmt),
    losses: lossesPanel(m, fmt),
    charts: chartsPanel(m, fmt),
  };
}

function since(at: string, m: DashboardModel, fmt: Formatter): SafeHtml {
  return html`<time datetime="${at}">${fmt.time(at)}</time> <span class="muted">(${duration(ageSec(at, m.nowMs))} ago)</span>`;
}

function modePanel(m: DashboardModel, fmt: Formatter): SafeHtml {
  const s = m.status;
  const online = s.mode === 'online';
  const body = html`<p id="mode-badge" class="mode mode-${s.mode}">${s.mode.toUpperCase()}</p>
<p class="since">since ${since(s.modeSince, m, fmt)}</p>
${!s.accepting && html`<p class="alert">Stopping: no new payments are taken.</p>`}
<dl>
<dt>Wallet</dt><dd>${online ? 'reachable' : 'not reachable'}; last contact ${s.wallet.lastContactAt === null ? 'never' : since(s.wallet.lastContactAt, m, fmt)}</dd>
<dt>Open payments</dt><dd>${s.payments.open}</dd>
<dt>Ledger</dt><dd>${plural(s.ledger.headSeq, 'entry', 'entries')}</dd>
</dl>`;
  return panel(`Store ${s.storeId}`, online ? 'ok' : 'bad', body);
}

function offlinePanel(m: DashboardModel, fmt: Formatter): SafeHtml {
  const o = m.status.offline;
  const money = (n: number) => fmt.money(n, m.config.currency);
  const share = o.limits.storeLimit === 0 ? 0 : o.storeExposure / o.limits.storeLimit;
  const health: Health = !o.enabled || o.feed.stale || share >= 0.9 ? 'bad' : share >= 0.5 ? 'warn' : 'ok';
  const fromFeed = new Set(o.limitsFromFeed);
  const cap = (name: string, text: string) =>
    html`<dt>${text}</dt><dd>${limitText(o.limits, name, money)}${fromFeed.has(name) && html` <span class="tag">from wallet</span>`}</dd>`;
  const devices = o.devices.slice(0, 5);
  const devicesTable =
    devices.length === 0
      ? html`<p class="muted">No phone has unsynced offline payments.</p>`
      : html`<table><thead><tr><th>Phone</th><th>Account</th><th class="num">Unsynced</th><th class="num">In a row</th><th class="num">Headroom</th></tr></thead><tbody>${devices.map(
          (d) =>
            html`<tr><td class="mono">${d.deviceId}</td><td class="mono">${d.accountId ?? '—'}</td><td class="num">${money(d.unsyncedTotal)}</td><td class="num">${d.consecutive}</td><td class="num">${money(d.headroom)}</td></tr>`,
        )}</tbody></table>`;
  const body = html`${!o.enabled && html`<p class="alert">Offline acceptance is off: without the wallet every payment is declined.</p>`}
<div class="split"><div>
<p class="big" id="offline-exposure">${money(o.storeExposure)} <span class="muted">of ${money(o.limits.storeLimit)} unsynced</span></p>
<meter min="0" max="${o.limits.storeLimit}" low="${o.limits.storeLimit * 0.5}" high="${o.limits.storeLimit * 0.9}" optimum="0" value="${o.storeExposure}">${percent(share)}</meter>
<p>Headroom ${money(o.storeHeadroom)} (${percent(share)} of the store cap used)</p>
<dl>${cap('perTransactionLimit', 'Per payment')}${cap('perDeviceLimit', 'Per phone')}${cap('consecutiveMax', 'Offline payments in a row')}${cap('feedMaxAgeSec', 'Risk list max age')}</dl>
</div><div><h3>Phones most exposed</h3>${devicesTable}</div></div>`;
  return panel('Offline exposure', health, body);
}

function percent(share: number): string {
  const value = share * 100;
  return `${value > 0 && value < 1 ? value.toFixed(1) : Math.round(value)}%`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function limitText(limits: object, name: string, money: (n: number) => string): string {
  const value = (limits as Record<string, unknown>)[name];
  if (typeof value !== 'number') return String(value);
  if (name === 'feedMaxAgeSec') return duration(value);
  if (name === 'consecutiveMax') return String(value);
  return money(value);
}

function syncPanel(m: DashboardModel, fmt: Formatter): SafeHtml {
  const s = m.status.sync;
  const backlogAge = s.oldestPendingAgeSec;
  const health: Health = s.chainBroken ? 'bad' : backlogAge !== null && backlogAge > 3600 ? 'warn' : 'ok';
  const body = html`${
    s.chainBroken &&
    html`<p class="alert">The wallet refuses this store's ledger from entry #${s.chainBroken.seq} (${s.chainBroken.problem}). Uploads have stopped: call the wallet operator.</p>`
  }
<p class="big" id="sync-backlog">${s.pending} <span class="muted">${s.pending === 1 ? 'entry' : 'entries'} to upload</span></p>
<dl>
<dt>Oldest waiting</dt><dd>${backlogAge === null ? 'nothing waiting' : duration(backlogAge)}</dd>
<dt>Reversals / refunds</dt><dd>${s.pendingReversals} / ${s.pendingRefunds} to send</dd>
<dt>Settled / rejected</dt><dd>${s.settled} / ${s.rejected}</dd>
<dt>Last upload</dt><dd>${s.lastSuccessAt === null ? 'never' : since(s.lastSuccessAt, m, fmt)}</dd>
</dl>`;
  return panel('Sync backlog', health, body);
}

function feedPanel(m: DashboardModel, fmt: Formatter): SafeHtml {
  const feed = m.status.sync.feed;
  const maxAge = m.status.offline.limits.feedMaxAgeSec;
  const stale = m.status.offline.feed.stale;
  const health: Health = stale ? 'bad' : feed.ageSec !== null && feed.ageSec > maxAge / 2 ? 'warn' : 'ok';
  const body = html`<p class="big" id="feed-age">${feed.ageSec === null ? 'never refreshed' : duration(feed.ageSec)} <span class="muted">${feed.ageSec === null ? '' : 'old'}</span></p>
${stale && html`<p class="alert">The risk list is older than ${duration(maxAge)}: offline payments are declined (offline_stale).</p>`}
<dl><dt>Refreshed</dt><dd>${feed.refreshedAt === null ? 'never' : since(feed.refreshedAt, m, fmt)}</dd><dt>Allowed age</dt><dd>${duration(maxAge)}</dd></dl>`;
  return panel('Risk feed', health, body);
}

function lanesPanel(m: DashboardModel, fmt: Formatter): SafeHtml {
  const views = m.status.scanners;
  const problems = views.filter((v) => v.status !== 'attached').length;
  const rows = m.config.lanes.map((lane) => {
    const registers = m.config.registers.filter((r) => r.laneId === lane.id).map((r) => r.id);
    const scanners = views.filter((v) => v.laneId === lane.id);
    const cells =
      scanners.length === 0
        ? html`<span class="muted">no scanner (registers send payCode)</span>`
        : scanners.map(
            (v) =>
              html`<div class="scanner" data-scanner="${v.deviceId}"><span class="badge s-${v.status}">${v.status}</span> ${v.deviceId} <span class="muted">${v.transport}, since ${fmt.time(v.since)}</span>${v.code !== undefined && html` <span class="scanner-problem">${v.code}${v.message !== undefined && `: ${v.message}`}</span>`}</div>`,
          );
    return html`<tr data-lane="${lane.id}"><th scope="row">${lane.id}</th><td>${registers.join(', ') || '—'}</td><td>${cells}</td></tr>`;
  });
  const body = html`<table><thead><tr><th>Lane</th><th>Registers</th><th>Scanners</th></tr></thead><tbody>${rows}</tbody></table>`;
  return panel('Lanes and scanners', problems > 0 ? 'warn' : 'ok', body);
}

function paymentsPanel(m: DashboardModel, fmt: Formatter): SafeHtml {
  const rows = m.recent.map(
    (p) =>
      html`<tr data-payment-id="${p.id}" data-state="${p.state}"><td>${fmt.time(p.createdAt)}</td><td>${p.laneId}</td><td class="num">${fmt.money(p.amount, p.currency)}</td><td><span class="badge p-${p.state}">${STATE_TEXT[p.state]}</span></td><td>${p.decision?.reason !== undefined && html`<span title="${p.decision.reason}">${reasonText(p.decision.reason)}</span>`}</td><td>${p.mode ?? ''}</td><td class="mono">${p.orderRef}</td></tr>`,
  );
  const body =
    m.recent.length === 0
      ? html`<p class="muted" id="payments-empty">No payments yet.</p>`
      : html`<table id="payments-table"><thead><tr><th>Started</th><th>Lane</th><th class="num">Amount</th><th>State</th><th>Reason</th><th>Mode</th><th>Order</th></tr></thead><tbody>${rows}</tbody></table>`;
  return panel('Recent payments', 'ok', body);
}

function lossesPanel(m: DashboardModel, fmt: Formatter): SafeHtml {
  const s = m.status.sync;
  const body =
    s.lossCount === 0
      ? html`<p class="big" id="losses-total">Nothing to reconcile</p>`
      : html`<p class="big" id="losses-total">${fmt.money(s.lossAmount, m.config.currency)} <span class="muted">in ${s.lossCount} ${s.lossCount === 1 ? 'payment' : 'payments'} the wallet would not settle</span></p>
<p class="muted">Offline approvals the wallet rejected and nothing took back: <code>tillgate report incident --account ID</code> lists them for compensation.</p>
<table><thead><tr><th>When</th><th>Lane</th><th class="num">Amount</th><th>Why</th><th>Account</th><th>Payment</th></tr></thead><tbody>${m.losses.map(
          (l) =>
            html`<tr><td>${fmt.dateTime(l.occurredAt)}</td><td>${l.laneId ?? '—'}</td><td class="num">${fmt.money(l.amount, l.currency)}</td><td>${l.reason === null ? '—' : reasonText(l.reason)}</td><td class="mono">${l.accountId ?? '—'}</td><td class="mono">${l.paymentId}</td></tr>`,
        )}</tbody></table>`;
  return panel('Losses to reconcile', s.lossCount > 0 ? 'bad' : 'ok', body);
}

function chartsPanel(m: DashboardModel, fmt: Formatter): SafeHtml {
  const hours = m.config.dashboard.chartHours;
  const body = html`<h3>Payments per hour</h3>${paymentsChart(m.activity, fmt)}<h3>Declines by reason</h3>${declinesChart(m.activity, hours)}`;
  return panel(`The last ${hours} hours`, 'ok', body);
}

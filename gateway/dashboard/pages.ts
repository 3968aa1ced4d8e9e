// Whole pages: the dashboard, the operator sign-in, the page shown when no operator is configured, and the
// cashier's lane view. Each is complete HTML with its style and script inline under the response's CSP nonce.
import { html, jsonForScript, type SafeHtml, trusted } from './html.js';
import { PANEL_IDS, type PanelId } from './panels.js';
import { DASHBOARD_SCRIPT, LANE_SCRIPT } from './scripts.js';
import { STYLE } from './style.js';
import { REASON_TEXT, STATE_TEXT } from './words.js';

/** Panels that take the whole width of the grid. */
const WIDE: ReadonlySet<PanelId> = new Set(['offline', 'lanes', 'payments', 'losses', 'charts']);

function layout(title: string, nonce: string, body: SafeHtml, script?: string): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title}</title>
<style nonce="${nonce}">${trusted(STYLE)}</style>
</head>
<body>
${body}
${script !== undefined && html`<script nonce="${nonce}">${trusted(script)}</script>`}
</body>
</html>
`.text;
}

export function dashboardPage(options: {
  storeId: string;
  operatorId: string;
  panels: Record<PanelId, SafeHtml>;
  nonce: string;
}): string {
  const sections = PANEL_IDS.map(
    (id) =>
      html`<section id="panel-${id}" class="panel${WIDE.has(id) ? ' wide' : ''}">${options.panels[id]}</section>`,
  );
  const body = html`<header>
<h1>tillgate <span>${options.storeId}</span></h1>
<span id="live" class="live" data-state="connecting">connecting…</span>
<span class="who">${options.operatorId}</span>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
</header>
<main class="grid">${sections}</main>`;
  return layout(`tillgate · ${options.storeId}`, options.nonce, body, DASHBOARD_SCRIPT);
}

export function signInPage(options: { storeId: string; nonce: string; problem?: string }): string {
  const body = html`<main class="narrow panel">
<h2>tillgate · ${options.storeId}</h2>
<form method="post" action="/login">
<label for="operator-key">Operator key</label>
<input id="operator-key" name="key" type="password" autocomplete="current-password" required autofocus>
${options.problem !== undefined && html`<p class="error" id="signin-problem">${options.problem}</p>`}
<button class="primary" type="submit">Sign in</button>
</form>
<p class="muted">The key is in the store's configuration (<code>operators[]</code>); see docs/deployment.md.</p>
</main>`;
  return layout(`Sign in · tillgate · ${options.storeId}`, options.nonce, body);
}

export function dashboardOffPage(options: { storeId: string; nonce: string }): string {
  const body = html`<main class="narrow panel">
<h2>tillgate · ${options.storeId}</h2>
<p>The dashboard is off: no operator is configured.</p>
<p>Make a key with <code>tillgate keygen</code>, put its <code>keySha256</code> in <code>operators[]</code> of the configuration, and reload the gateway (<code>systemctl reload tillgate</code>).</p>
</main>`;
  return layout(`tillgate · ${options.storeId}`, options.nonce, body);
}

export function lanePage(options: { storeId: string; currency: string; nonce: string }): string {
  const config = { currency: options.currency, reasons: REASON_TEXT, states: STATE_TEXT };
  const keys = ['7', '8', '9', '4', '5', '6', '1', '2', '3', '0', '00', 'C'];
  const body = html`<script type="application/json" id="lane-config">${jsonForScript(config)}</script>
<header><h1>tillgate <span>${options.storeId} · lane</span></h1></header>
<main class="lane">
<div id="lane-head" class="lane-head" hidden><strong id="lane-name"></strong><span id="lane-mode" class="pill">…</span><span id="lane-scanner" class="muted"></span></div>
<section id="signin" class="narrow panel">
<form id="signin-form">
<label for="register-key">Register key</label>
<input id="register-key" type="password" autocomplete="off" required>
<p class="error" id="signin-error"></p>
<button class="primary" type="submit">Open lane</button>
</form>
</section>
<section id="entry" hidden>
<form id="entry-form">
<label for="amount">Amount (${options.currency})</label>
<input id="amount" class="amount" type="text" inputmode="decimal" autocomplete="off">
<div class="keypad">${keys.map((k) => html`<button type="button" data-key="${k}">${k}</button>`)}</div>
<p class="error" id="entry-error"></p>
<button id="charge" class="action charge" type="submit">Charge</button>
</form>
</section>
<section id="waiting" hidden>
<p id="waiting-title" class="status-line">Waiting for scan</p>
<p id="waiting-amount" class="result-amount"></p>
<p id="waiting-hint" class="hint"></p>
<button id="cancel" class="action" type="button">Cancel</button>
</section>
<section id="result" hidden>
<p id="result-title" class="status-line"></p>
<p id="result-amount" class="result-amount"></p>
<p id="result-reason" class="result-reason"></p>
<p id="result-mode" class="result-mode"></p>
<button id="next" class="action charge" type="button">New sale</button>
</section>
</main>`;
  return layout(`Lane · tillgate · ${options.storeId}`, options.nonce, body, LANE_SCRIPT);
}

// The pages' only scripts, inlined under a per-response CSP nonce. Plain browser JavaScript in strings: they
// run in Chromium, not in Node, and the browser tests (test/dashboard-*.test.ts) are what checks them.

/**
 * The dashboard: the operator event stream (all lanes) says when something changed; the panels are then
 * fetched again as server-rendered fragments, so the page shows exactly what a reload would. A slow timer keeps
 * the ages moving when nothing happens.
 */
export const DASHBOARD_SCRIPT = `
(() => {
  const live = document.getElementById('live');
  const setLive = (state, text) => { live.dataset.state = state; live.textContent = text; };
  let timer = null, running = false, again = false;
  const states = () => new Map([...document.querySelectorAll('tr[data-payment-id]')].map((r) => [r.dataset.paymentId, r.dataset.state]));
  async function refresh() {
    if (running) { again = true; return; }
    running = true;
    const before = states();
    try {
      const response = await fetch('/dashboard/panels', { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (response.status === 401) { location.assign('/login'); return; }
      if (!response.ok) return;
      const body = await response.json();
      for (const [id, markup] of Object.entries(body.panels)) {
        const section = document.getElementById('panel-' + id);
        if (section) section.innerHTML = markup;
      }
      for (const row of document.querySelectorAll('tr[data-payment-id]')) {
        if (before.get(row.dataset.paymentId) !== row.dataset.state) row.classList.add('changed');
      }
      document.body.dataset.updatedAt = body.updatedAt;
    } catch {
      setLive('down', 'gateway unreachable');
    } finally {
      running = false;
      if (again) { again = false; schedule(100); }
    }
  }
  function schedule(ms) {
    if (timer !== null) return;
    timer = setTimeout(() => { timer = null; refresh(); }, ms);
  }
  const events = new EventSource('/dashboard/events');
  events.onopen = () => { setLive('live', 'live'); schedule(0); };
  events.onerror = () => setLive('down', 'reconnecting…');
  for (const type of ['payment', 'scanner', 'mode']) events.addEventListener(type, () => schedule(150));
  setInterval(() => schedule(0), 10000);
})();
`;

/**
 * The cashier's lane view: a register in a browser, on the register API itself. The register key typed in is
 * kept in this page's memory only (never stored, never in a URL); a reload asks for it again.
 */
export const LANE_SCRIPT = `
(() => {
  const cfg = JSON.parse(document.getElementById('lane-config').textContent);
  const $ = (id) => document.getElementById(id);
  const views = ['signin', 'entry', 'waiting', 'result'];
  const show = (view) => { for (const v of views) $(v).hidden = v !== view; document.body.dataset.view = view; };
  const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: cfg.currency });
  const digits = money.resolvedOptions().maximumFractionDigits || 0;
  const fmt = (minor) => money.format(minor / 10 ** digits);
  const randomId = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  let key = null, payment = null, statusTimer = null;

  async function api(method, path, body, headers = {}) {
    const init = { method, cache: 'no-store', headers: { authorization: 'Bearer ' + key, accept: 'application/json', ...headers } };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    const response = await fetch(path, init);
    return { status: response.status, body: await response.json().catch(() => null) };
  }
  const errorText = (reply) => (reply.body && reply.body.error && reply.body.error.message) || 'the gateway answered ' + reply.status;

  async function refreshStatus() {
    try {
      const reply = await api('GET', '/v1/status');
      if (reply.status !== 200) return;
      const s = reply.body;
      $('lane-name').textContent = s.register ? s.register.laneId + ' · ' + s.register.id : '';
      const mode = $('lane-mode');
      mode.textContent = s.mode.toUpperCase();
      mode.className = 'pill ' + s.mode;
      const mine = (s.scanners || []).filter((v) => s.register && v.laneId === s.register.laneId);
      $('lane-scanner').textContent = mine.length === 0 ? 'no scanner' : mine.map((v) => 'scanner ' + v.status).join(', ');
    } catch {
      $('lane-mode').textContent = 'GATEWAY UNREACHABLE';
      $('lane-mode').className = 'pill offline';
    }
  }

  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    key = $('register-key').value.trim();
    $('register-key').value = '';
    const reply = await api('GET', '/v1/status').catch(() => ({ status: 0, body: null }));
    if (reply.status !== 200) {
      key = null;
      $('signin-error').textContent = reply.status === 401 ? 'That is not a register key.' : 'The gateway does not answer.';
      return;
    }
    $('signin-error').textContent = '';
    $('lane-head').hidden = false;
    show('entry');
    refreshStatus();
    statusTimer = setInterval(refreshStatus, 5000);
    $('amount').focus();
  });

  for (const button of document.querySelectorAll('.keypad button')) {
    button.addEventListener('click', () => {
      const input = $('amount');
      input.value = button.dataset.key === 'C' ? '' : input.value + button.dataset.key;
      input.focus();
    });
  }

  $('entry-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = $('amount').value.trim();
    const amount = Math.round(Number(text) * 10 ** digits);
    if (!/^\\d+(\\.\\d+)?$/.test(text) || !Number.isSafeInteger(amount) || amount <= 0) {
      $('entry-error').textContent = 'Enter an amount above zero.';
      return;
    }
    $('entry-error').textContent = '';
    const reply = await api('POST', '/v1/payments', { amount, currency: cfg.currency, orderRef: 'lane-' + Date.now().toString(36) }, { 'idempotency-key': randomId() })
      .catch(() => ({ status: 0, body: null }));
    if (reply.status !== 201) {
      $('entry-error').textContent = reply.status === 0 ? 'The gateway does not answer.' : errorText(reply);
      return;
    }
    payment = reply.body;
    follow();
  });

  async function follow() {
    while (payment && (payment.state === 'awaiting_scan' || payment.state === 'authorizing')) {
      render(payment);
      const id = payment.id;
      try {
        const reply = await api('GET', '/v1/payments/' + encodeURIComponent(id) + '?waitMs=25000');
        if (reply.status === 200 && payment && payment.id === id) payment = reply.body;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    if (payment) render(payment);
  }

  function render(p) {
    if (p.state === 'awaiting_scan' || p.state === 'authorizing') {
      show('waiting');
      $('waiting-title').textContent = p.state === 'awaiting_scan' ? 'Waiting for scan' : 'Checking…';
      $('waiting-amount').textContent = fmt(p.amount);
      $('waiting-hint').textContent = p.state === 'awaiting_scan' ? "Scan the code on the customer's phone" : 'Asking the wallet';
      $('cancel').disabled = p.state !== 'awaiting_scan';
      return;
    }
    show('result');
    const approved = p.decision && p.decision.approved;
    const title = $('result-title');
    title.textContent = approved ? 'APPROVED' : p.state === 'declined' || p.state === 'expired' ? 'DECLINED' : (cfg.states[p.state] || p.state).toUpperCase();
    title.className = 'status-line ' + (approved ? 'result-approved' : p.state === 'declined' || p.state === 'expired' ? 'result-declined' : 'result-other');
    $('result-amount').textContent = fmt(p.amount);
    const reason = p.decision && p.decision.reason;
    $('result-reason').textContent = reason ? (cfg.reasons[reason] || reason) + ' (' + reason + ')' : '';
    $('result-mode').textContent = p.mode ? (p.mode === 'offline' ? 'decided OFFLINE' : 'decided online') : '';
    $('result').dataset.state = p.state;
    $('result').dataset.mode = p.mode || '';
  }

  $('cancel').addEventListener('click', async () => {
    if (!payment) return;
    const reply = await api('POST', '/v1/payments/' + encodeURIComponent(payment.id) + '/cancel').catch(() => null);
    if (reply && reply.status === 200) payment = reply.body;
  });

  $('next').addEventListener('click', () => {
    payment = null;
    $('amount').value = '';
    show('entry');
    $('amount').focus();
  });

  show('signin');
})();
`;

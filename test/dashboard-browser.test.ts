// The store dashboard in a real browser (Debian's Chromium through playwright-core) against a gateway and the
// sandbox wallet on loopback: what a store manager sees after signing in, payments arriving live over the event
// stream without a reload, and an offline spell with its exposure and the losses sync finds afterwards.
// Screenshots go to test-artifacts/.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../gateway/http/auth.js';
import { browserSuite, launchBrowser, skipBrowserTests, type TestBrowser } from './support/browser.js';
import { type OfflineStack, startOfflineStack } from './support/offline.js';
import { nowSec, type Stack, startStack } from './support/stack.js';

const OPERATOR_KEY = 'op_manager_key_for_the_browser_test';
const operators = [{ id: 'store-manager', keySha256: sha256Hex(OPERATOR_KEY) }];

/** Opens the dashboard, signing in when the browser has no session yet. */
async function openDashboard(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  if (new URL(page.url()).pathname === '/login') {
    await page.fill('#operator-key', OPERATOR_KEY);
    await page.click('button[type=submit]');
    await page.waitForURL(`${baseUrl}/`);
  }
  await page.locator('#live[data-state="live"]').waitFor();
}

async function pay(stack: Stack, register: number, amount: number, payCode: string) {
  const reply = await stack.api(register, 'POST', '/v1/payments', {
    body: { amount, currency: 'JPY', orderRef: `browser-${amount}`, payCode },
  });
  expect(reply.status).toBe(201);
  return reply.body;
}

describe.skipIf(skipBrowserTests)(browserSuite('store dashboard in Chromium'), () => {
  let browser: TestBrowser;
  let stack: Stack;

  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchBrowser(), startStack({ config: { operators } })]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('asks for the operator key, refuses a wrong one, and shows the store once signed in', async () => {
    const page = await browser.page();
    await page.goto(`${stack.gateway.url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#operator-key', 'not-the-key');
    await page.click('button[type=submit]');
    await expect
      .poll(() => page.locator('#signin-problem').textContent())
      .toBe('That is not an operator key.');
    await browser.screenshot(page, 'dashboard-signin-refused');

    await page.fill('#operator-key', OPERATOR_KEY);
    await page.click('button[type=submit]');
    await page.waitForURL(`${stack.gateway.url}/`);
    await expect.poll(() => page.locator('#mode-badge').textContent(), { timeout: 10_000 }).toBe('ONLINE');
    await page.locator('#live[data-state="live"]').waitFor();
    expect(await page.locator('header').textContent()).toContain('store-manager');
    const lanes = page.locator('#panel-lanes');
    for (const lane of ['lane-1', 'lane-2']) {
      const row = lanes.locator(`tr[data-lane="${lane}"]`);
      expect(await row.textContent()).toContain(`register-${lane.slice(-1)}`);
      expect(await row.locator('.badge').textContent()).toBe('attached');
    }
    expect(await page.locator('#payments-empty').textContent()).toBe('No payments yet.');
    expect(await page.locator('#losses-total').textContent()).toBe('Nothing to reconcile');
    expect(await page.locator('#sync-backlog').textContent()).toMatch(/^0\s+entries to upload$/);
    expect(await page.locator('#offline-exposure').textContent()).toMatch(/^¥0\s+of ¥300,000 unsynced$/);
    expect(await page.locator('#chart-payments').textContent()).toContain('No payments in the last 12 h');

    const cookies = await browser.context.cookies();
    expect(cookies).toEqual([
      expect.objectContaining({ name: 'tillgate_session', httpOnly: true, sameSite: 'Strict' }),
    ]);
    expect(await page.content()).not.toContain(OPERATOR_KEY);
    expect(page.url()).not.toContain(OPERATOR_KEY);
    await browser.screenshot(page, 'dashboard-signed-in');
    await page.close();
  });

  it('shows payments as they are decided, live, without a reload: approved, declined with its reason, charted', async () => {
    const page = await browser.page();
    await openDashboard(page, stack.gateway.url);
    await page.evaluate(() => {
      (globalThis as unknown as { sameDocument: boolean }).sameDocument = true;
    });

    const rich = await stack.account(50_000);
    const richPhone = await stack.phone(rich);
    const waiting = await stack.api(0, 'POST', '/v1/payments', {
      body: { amount: 1_200, currency: 'JPY', orderRef: 'browser-scan' },
    });
    const row = page.locator(`tr[data-payment-id="${waiting.body.id}"]`);
    await expect.poll(() => row.getAttribute('data-state')).toBe('awaiting_scan');
    expect(await row.textContent()).toContain('waiting for scan');
    await stack.scanner('lane-1').scan(richPhone.nextCode(nowSec()));
    await expect.poll(() => row.getAttribute('data-state')).toBe('approved');
    expect(await row.textContent()).toMatch(/¥1,200.*approved.*online/);

    const poor = await stack.account(500);
    const declined = await pay(stack, 1, 1_200, (await stack.phone(poor)).nextCode(nowSec()));
    const declinedRow = page.locator(`tr[data-payment-id="${declined.id}"]`);
    await expect.poll(() => declinedRow.getAttribute('data-state')).toBe('declined');
    expect(await declinedRow.textContent()).toContain('Not enough money in the wallet');
    expect(await declinedRow.textContent()).toContain('lane-2');

    const chart = page.locator('#chart-payments');
    await expect
      .poll(() => chart.getAttribute('aria-label'))
      .toBe('1 approved (0 offline), 1 declined in the last 12 h');
    expect(await page.locator('#chart-declines').textContent()).toContain('Not enough money in the wallet');
    expect(
      await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument),
    ).toBe(true);
    await browser.screenshot(page, 'dashboard-live-payments');
    await page.close();
  });

  it('shows a scanner that is unplugged, live', async () => {
    const page = await browser.page();
    await openDashboard(page, stack.gateway.url);
    await stack.scanner('lane-2').unplug();
    const badge = page.locator('tr[data-lane="lane-2"] .badge');
    await expect.poll(() => badge.textContent()).toBe('detached');
    await browser.screenshot(page, 'dashboard-scanner-unplugged');
    await stack.scanner('lane-2').replug();
    await expect.poll(() => badge.textContent()).toBe('attached');
    await page.close();
  });
});

describe.skipIf(skipBrowserTests)(browserSuite('store dashboard in Chromium, offline'), () => {
  let browser: TestBrowser;
  let s: OfflineStack;

  beforeAll(async () => {
    [browser, s] = await Promise.all([
      launchBrowser(),
      startOfflineStack({ realTime: true, config: { operators, wallet: { timeoutMs: 5_000 } } }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('shows the store offline since when, its exposure against the cap, then the loss sync found', async () => {
    const page = await browser.page();
    await openDashboard(page, s.stack.gateway.url);
    await expect.poll(() => page.locator('#mode-badge').textContent(), { timeout: 10_000 }).toBe('ONLINE');

    const accountId = await s.stack.account(100);
    const phone = await s.stack.phone(accountId, { enrolledAt: s.clock.sec - 30 * 86_400 });
    await s.goOffline();
    const paid = await s.pay(0, 700, phone.nextCode(s.clock.sec));
    expect(paid).toMatchObject({ state: 'approved', mode: 'offline' });

    await expect.poll(() => page.locator('#mode-badge').textContent()).toBe('OFFLINE');
    expect(await page.locator('#panel-mode .since').textContent()).toMatch(
      /^since \d\d:\d\d:\d\d \(\d+ s ago\)$/,
    );
    await expect
      .poll(() => page.locator('#offline-exposure').textContent())
      .toMatch(/^¥700\s+of ¥300,000 unsynced$/);
    expect(await page.locator('#panel-offline table').textContent()).toContain(phone.deviceId);
    expect(await page.locator(`tr[data-payment-id="${paid.id}"]`).textContent()).toMatch(
      /¥700.*approved.*offline/,
    );
    expect(await page.locator('#sync-backlog').textContent()).toMatch(/^1\s+entry to upload$/);
    await browser.screenshot(page, 'dashboard-offline');

    // Back online: the wallet cannot settle ¥700 from a balance of ¥100, so the approval becomes a loss.
    await s.goOnline();
    expect(await s.syncNow()).toMatchObject({ rejected: 1 });
    const rich = await s.stack.account(10_000);
    await s.pay(1, 300, (await s.stack.phone(rich)).nextCode(s.clock.sec));
    await expect.poll(() => page.locator('#mode-badge').textContent()).toBe('ONLINE');
    await expect
      .poll(() => page.locator('#losses-total').textContent())
      .toMatch(/^¥700\s+in 1 payment the wallet would not settle$/);
    const loss = await page.locator('#panel-losses tbody tr').textContent();
    expect(loss).toContain('Not enough money in the wallet');
    expect(loss).toContain(accountId);
    expect(loss).toContain(paid.id);
    await browser.screenshot(page, 'dashboard-losses');
    await page.close();
  });
});

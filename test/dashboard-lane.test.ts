// The cashier's lane view in a real browser (Debian's Chromium through playwright-core): a register key typed in,
// an amount on the keypad, "Waiting for scan" until the customer's phone is scanned, then the result in large type
// with its reason and mode. It is a register on the register API, so what it shows is what a register is told.
// Screenshots go to test-artifacts/.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDemo, startDemo } from '../gateway/demo/demo.js';
import { browserSuite, launchBrowser, skipBrowserTests, type TestBrowser } from './support/browser.js';
import { nowSec, type Stack, startStack } from './support/stack.js';

async function openLane(page: Page, stack: Stack, register = 0): Promise<void> {
  await page.goto(`${stack.gateway.url}/lane`);
  await page.fill('#register-key', stack.registers[register]!.key);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#entry').waitFor();
}

async function keyIn(page: Page, digits: string[]): Promise<void> {
  for (const digit of digits) await page.click(`.keypad button[data-key="${digit}"]`);
}

describe.skipIf(skipBrowserTests)(browserSuite('cashier lane view in Chromium'), () => {
  let browser: TestBrowser;
  let stack: Stack;

  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchBrowser(), startStack()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('refuses a key that is not a register key', async () => {
    const page = await browser.page();
    await page.goto(`${stack.gateway.url}/lane`);
    await page.fill('#register-key', 'rk_not-a-register-key');
    await page.click('#signin-form button[type=submit]');
    await expect.poll(() => page.locator('#signin-error').textContent()).toBe('That is not a register key.');
    expect(await page.locator('#entry').isHidden()).toBe(true);
    await page.close();
  });

  it('takes an amount, waits for the scan, and shows the approval in large type, online', async () => {
    const page = await browser.page();
    await openLane(page, stack);
    await expect.poll(() => page.locator('#lane-name').textContent()).toBe('lane-1 · register-1');
    await expect.poll(() => page.locator('#lane-mode').textContent(), { timeout: 10_000 }).toBe('ONLINE');
    expect(await page.locator('#lane-scanner').textContent()).toBe('scanner attached');

    await keyIn(page, ['1', '2', '00']);
    expect(await page.inputValue('#amount')).toBe('1200');
    await page.click('#charge');
    await expect.poll(() => page.locator('#waiting-title').textContent()).toBe('Waiting for scan');
    expect(await page.locator('#waiting-amount').textContent()).toBe('¥1,200');
    await browser.screenshot(page, 'lane-waiting-for-scan');

    const accountId = await stack.account(10_000);
    const phone = await stack.phone(accountId);
    expect(await stack.scanner('lane-1').scan(phone.nextCode(nowSec()))).toBe(true);
    await expect.poll(() => page.locator('#result-title').textContent()).toBe('APPROVED');
    expect(await page.locator('#result-amount').textContent()).toBe('¥1,200');
    expect(await page.locator('#result-mode').textContent()).toBe('decided online');
    expect(await page.locator('#result-reason').textContent()).toBe('');
    const fontSize = (await page.evaluate(
      "getComputedStyle(document.getElementById('result-title')).fontSize",
    )) as string;
    expect(Number.parseFloat(fontSize)).toBeGreaterThanOrEqual(40);
    expect(await stack.balance(accountId)).toBe(8_800);
    await browser.screenshot(page, 'lane-approved');

    // The register key was typed in and is held in the page's memory only.
    expect(page.url()).toBe(`${stack.gateway.url}/lane`);
    expect(await browser.context.cookies()).toEqual([]);
    const stored = await page.evaluate('JSON.stringify([{ ...localStorage }, { ...sessionStorage }])');
    expect(stored).toBe('[{},{}]');
    await page.close();
  });

  it('shows a decline with its reason in words and its code', async () => {
    const page = await browser.page();
    await openLane(page, stack, 1);
    await page.fill('#amount', '800');
    await page.click('#charge');
    await page.locator('#waiting').waitFor();
    const poor = await stack.account(100);
    await stack.scanner('lane-2').scan((await stack.phone(poor)).nextCode(nowSec()));
    await expect.poll(() => page.locator('#result-title').textContent()).toBe('DECLINED');
    expect(await page.locator('#result-reason').textContent()).toBe(
      'Not enough money in the wallet (insufficient_funds)',
    );
    expect(await page.locator('#result-mode').textContent()).toBe('decided online');
    await browser.screenshot(page, 'lane-declined');

    await page.click('#next');
    await page.locator('#entry').waitFor();
    expect(await page.inputValue('#amount')).toBe('');
    await page.close();
  });

  it('cancels a payment that is waiting for a scan; a later scan pays nothing', async () => {
    const page = await browser.page();
    await openLane(page, stack);
    await keyIn(page, ['5', '0', '0']);
    await page.click('#charge');
    await page.locator('#waiting').waitFor();
    await page.click('#cancel');
    await expect.poll(() => page.locator('#result-title').textContent()).toBe('CANCELLED');
    const accountId = await stack.account(1_000);
    await stack.scanner('lane-1').scan((await stack.phone(accountId)).nextCode(nowSec()));
    expect(await stack.balance(accountId)).toBe(1_000);
    await page.close();
  });

  it('says so when the lane is already waiting for another payment', async () => {
    const first = await browser.page();
    const second = await browser.page();
    await openLane(first, stack);
    await openLane(second, stack);
    await first.fill('#amount', '300');
    await first.click('#charge');
    await first.locator('#waiting').waitFor();
    await second.fill('#amount', '400');
    await second.click('#charge');
    await expect.poll(() => second.locator('#entry-error').textContent()).toMatch(/waiting/i);
    await first.click('#cancel');
    await expect.poll(() => first.locator('#result-title').textContent()).toBe('CANCELLED');
    await first.close();
    await second.close();
  });
});

describe.skipIf(skipBrowserTests)(browserSuite('the demo in Chromium: lane view and dashboard'), () => {
  let browser: TestBrowser;
  let demo: RunningDemo;
  const dir = mkdtempSync(join(tmpdir(), 'tillgate-demo-browser-'));

  beforeAll(async () => {
    [browser, demo] = await Promise.all([
      launchBrowser(),
      startDemo({ dataDir: dir, port: 0, logger: pino({ level: 'silent' }), customerDelayMs: 300 }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a cashier charges on lane 2, the simulated customer shows the phone, and the manager sees it on the dashboard', async () => {
    const { gatewayUrl, registers, operatorKey } = demo.file;
    const dashboard = await browser.page();
    await dashboard.goto(`${gatewayUrl}/login`);
    await dashboard.fill('#operator-key', operatorKey!);
    await dashboard.click('button[type=submit]');
    await dashboard.locator('#live[data-state="live"]').waitFor();

    const lane = await browser.page();
    await lane.goto(`${gatewayUrl}/lane`);
    await lane.fill('#register-key', registers[1]!.key);
    await lane.click('#signin-form button[type=submit]');
    await lane.fill('#amount', '2480');
    await lane.click('#charge');
    await expect.poll(() => lane.locator('#waiting-title').textContent()).toBe('Waiting for scan');
    await expect
      .poll(() => lane.locator('#result-title').textContent(), { timeout: 10_000 })
      .toBe('APPROVED');
    expect(await lane.locator('#result-amount').textContent()).toBe('¥2,480');

    const row = dashboard.locator('#panel-payments tbody tr').first();
    await expect.poll(() => row.textContent()).toMatch(/lane-2.*¥2,480.*approved.*online/);
    await browser.screenshot(dashboard, 'demo-dashboard');
  });
});

// Debian's Chromium driven by playwright-core for the browser tests (test/dashboard-*.test.ts): headless, with the
// flags this machine needs (no sandbox as root, no background networking on a closed network) and a fresh profile
// per launch. In CI the tests must run; elsewhere they are skipped, by name, only when /usr/bin/chromium is absent.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(import.meta.dirname, '..', '..', 'test-artifacts');

const chromiumMissing = !existsSync(CHROMIUM_PATH);
/** Skip only outside CI: in CI a missing browser is a failure, not a skip. */
export const skipBrowserTests = chromiumMissing && process.env.CI === undefined;

/** The describe title, naming the reason when the suite is skipped. */
export function browserSuite(title: string): string {
  return skipBrowserTests
    ? `${title} — SKIPPED: ${CHROMIUM_PATH} is absent (apt-get install chromium; CI installs it)`
    : title;
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  page(): Promise<Page>;
  /** Saves a full-page PNG to test-artifacts/NAME.png and returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'tillgate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    timezoneId: 'Asia/Tokyo',
  });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return {
    context,
    page: () => context.newPage(),
    async screenshot(page, name) {
      const path = join(ARTIFACTS_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

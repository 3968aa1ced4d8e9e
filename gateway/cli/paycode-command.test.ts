// `tillgate paycode` against a real sandbox wallet: enrollment on first use, counters that go up by one and
// survive between calls, codes that verify with the wallet's keys and that the wallet approves.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationBody, startTestWallet, type TestWallet } from '../../wallet/test-harness.js';
import { writeDemoFile } from './demo-file.js';
import { cli, deadUrl, printed } from './test-io.js';

let tw: TestWallet;
let accountId: string;
const dirs: string[] = [];

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tillgate-paycode-'));
  dirs.push(dir);
  return dir;
}

function walletArgs(): string[] {
  return ['--wallet', tw.wallet.url, '--admin-key', tw.wallet.adminKey];
}

beforeAll(async () => {
  // The phone stamps codes with the real time, so the wallet keeps the real time too.
  tw = await startTestWallet({ clock: () => Math.floor(Date.now() / 1000) });
  accountId = await tw.account(100_000);
});

afterAll(async () => {
  await tw.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('tillgate paycode', () => {
  it('enrolls once, then prints codes with counters 1, 2 that verify with the wallet keys', async () => {
    const dir = dataDir();
    const first = await cli(['paycode', '--account', accountId, '--data', dir, '--json', ...walletArgs()]);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(new RegExp(`^enrolled device [0-9a-f]{16} for account ${accountId} at `));
    const second = await cli(['paycode', '--account', accountId, '--data', dir, '--json']);
    expect(second).toMatchObject({ status: 0, stderr: '' });
    const [one, two] = [printed(first), printed(second)];
    expect([one.counter, two.counter]).toEqual([1, 2]);
    expect(two.deviceId).toBe(one.deviceId);
    const verified = await cli(['verify-code', ...walletArgs(), two.code]);
    expect(printed(verified)).toMatchObject({
      outcome: 'valid',
      accountId,
      deviceId: one.deviceId,
      counter: 2,
    });
  });

  it('keeps the phone in DIR/phones/<account>.json, mode 0600, counter saved', async () => {
    const dir = dataDir();
    const plain = await cli(['paycode', '--account', accountId, '--data', dir, ...walletArgs()]);
    expect(plain.stdout).toMatch(/^PC1:[^\n]{297}\n$/);
    const file = join(dir, 'phones', `${accountId}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      lastCounter: 1,
      walletUrl: tw.wallet.url,
    });
  });

  it('finds the wallet in DIR/demo.json, and the wallet approves the code', async () => {
    const dir = dataDir();
    writeDemoFile(dir, {
      gatewayUrl: 'http://127.0.0.1:8420',
      walletUrl: tw.wallet.url,
      storeId: tw.storeId,
      sandboxAdminKey: tw.wallet.adminKey,
      registers: [],
    });
    const code = (await cli(['paycode', '--account', accountId, '--data', dir])).stdout.trimEnd();
    expect(printed(await cli(['verify-code', '--data', dir, code])).outcome).toBe('valid');
    tw.clock.now = Math.floor(Date.now() / 1000);
    const reply = await tw.store('POST', '/v1/authorizations', authorizationBody(tw, code, 1200));
    expect(reply.body).toMatchObject({ status: 'approved', accountId });
  });

  it('never shows one counter twice when calls run at once', async () => {
    const dir = dataDir();
    await cli(['paycode', '--account', accountId, '--data', dir, ...walletArgs()]);
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => cli(['paycode', '--account', accountId, '--data', dir, '--json'])),
    );
    const counters = runs.map((run) => printed(run).counter).sort((a, b) => a - b);
    expect(counters).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('explains a wallet that refuses or is missing (exit 1)', async () => {
    const unknown = await cli([
      'paycode',
      '--account',
      '0123456789abcdef',
      '--data',
      dataDir(),
      ...walletArgs(),
    ]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^tillgate paycode: the wallet refused the enrollment: 404 /);
    const none = await cli(['paycode', '--account', accountId, '--data', dataDir()]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no sandbox wallet to enroll at: no demo\.json in /);
    const url = await deadUrl();
    const down = await cli([
      'paycode',
      '--account',
      accountId,
      '--data',
      dataDir(),
      '--wallet',
      url,
      '--admin-key',
      'k',
    ]);
    expect(down.stderr).toBe(`tillgate paycode: cannot reach the sandbox wallet at ${url}: ECONNREFUSED\n`);
  });

  it('exits 2 for a missing or malformed account id', async () => {
    for (const argv of [
      ['paycode'],
      ['paycode', '--account', 'ABC'],
      ['paycode', '--account', accountId, 'x'],
    ]) {
      const result = await cli(argv);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('Usage: tillgate paycode');
    }
  });
});

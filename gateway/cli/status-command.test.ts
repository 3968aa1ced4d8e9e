// `tillgate status` against a running gateway and the sandbox wallet on loopback: a headline, one line per concern,
// and what needs attention; --json for scripts; clear failures for a wrong key, no gateway or no target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../test/support/stack.js';
import { StatusSchema } from '../http/schemas.js';
import { formatStatus } from './status-command.js';
import { cli, deadUrl, printed } from './test-io.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  // A gateway starts offline until the wallet first answers.
  const deadline = Date.now() + 10_000;
  while (stack.gateway.status().mode !== 'online') {
    if (Date.now() > deadline) throw new Error('the gateway never went online');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(async () => {
  await stack?.close();
});

function status(argv: string[] = []) {
  return cli(['status', '--url', stack.gateway.url, '--key', stack.registers[0]!.key, ...argv]);
}

describe('tillgate status', () => {
  it('shows the store at a glance: mode and since when, one line per concern, and "all well"', async () => {
    const result = await status();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^store store-1 {3}ONLINE since \d\d:\d\d:\d\d \(\d+ s ago\)$/);
    expect(lines.map((line) => line.slice(0, 13).trim())).toEqual([
      expect.stringMatching(/^store store-1/),
      'wallet',
      'payments',
      'offline',
      'sync',
      '',
      'losses',
      'risk feed',
      'scanners',
      '',
      '',
      'all well',
    ]);
    expect(result.stdout).toContain('  offline    0 of 300,000 unsynced (0%), headroom 300,000\n');
    expect(result.stdout).toContain('  losses     none\n');
    expect(result.stdout).toMatch(/ {2}risk feed {2}\d+ s old \(allowed 1 d\)\n/);
    expect(result.stdout).toContain('  scanners   lane-1  scanner-lane-1  simulated  attached\n');
    expect(result.stdout).toContain('             lane-2  scanner-lane-2  simulated  attached\n');
    expect(result.stdout).not.toContain(stack.registers[0]!.key);
  });

  it('names what needs attention: an unplugged scanner', async () => {
    await stack.scanner('lane-2').unplug();
    try {
      const result = await status();
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('             lane-2  scanner-lane-2  simulated  DETACHED\n');
      expect(result.stdout).toMatch(
        /\n\nneeds attention:\n {2}! lane-2: scanner scanner-lane-2 is detached\n$/,
      );
    } finally {
      await stack.scanner('lane-2').replug();
    }
  });

  it('--json prints the register API status for scripts', async () => {
    const result = await status(['--json']);
    expect(result.status).toBe(0);
    const parsed = StatusSchema.parse(printed(result));
    expect(parsed).toMatchObject({ storeId: 'store-1', mode: 'online', register: { id: 'register-1' } });
  });

  it('explains a refused key, a gateway that does not answer, and a missing target', async () => {
    const refused = await cli(['status', '--url', stack.gateway.url, '--key', 'rk_not_a_register']);
    expect(refused).toMatchObject({ status: 1, stdout: '' });
    expect(refused.stderr).toBe('tillgate status: the gateway refused the register key\n');
    expect(refused.stderr).not.toContain('rk_not_a_register');
    const url = await deadUrl();
    const down = await cli(['status', '--url', url, '--key', 'rk_x']);
    expect(down.status).toBe(1);
    expect(down.stderr).toBe(`tillgate status: no gateway answers at ${url}; is it running?\n`);
    const nowhere = await cli(['status', '--data', '/nonexistent/tillgate']);
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toContain('give --url and --key');
  });
});

describe('formatStatus', () => {
  it('an offline store with exposure near its cap, a loss, a backlog and a broken scanner, in one screen', async () => {
    const live = StatusSchema.parse((await stack.api(0, 'GET', '/v1/status')).body);
    const nowMs = Date.parse('2026-11-25T05:30:00Z');
    const text = formatStatus(
      {
        ...live,
        mode: 'offline',
        modeSince: '2026-11-25T05:18:00Z',
        wallet: { reachable: false, lastContactAt: '2026-11-25T05:17:58Z' },
        payments: { open: 1 },
        ledger: { headSeq: 120 },
        offline: { ...live.offline, storeExposure: 250_000, storeHeadroom: 50_000 },
        sync: {
          ...live.sync,
          pending: 14,
          oldestPendingAgeSec: 5_400,
          settled: 100,
          rejected: 1,
          lossAmount: 700,
          lossCount: 1,
          lastSuccessAt: '2026-11-25T04:00:00Z',
          feed: { ...live.sync.feed, ageSec: 720 },
        },
        scanners: [
          { ...live.scanners[0]!, since: '2026-11-25T05:00:00Z' },
          {
            ...live.scanners[1]!,
            status: 'error',
            code: 'E_NOSERVICE',
            message: 'node-hid could not be loaded',
            since: '2026-11-25T05:00:00Z',
          },
        ],
      },
      { nowMs, timeZone: 'Asia/Tokyo' },
    );
    expect(text).toBe(
      [
        'store store-1   OFFLINE since 14:18:00 (12 min ago)',
        '  wallet     NOT reachable, last answer 14:17:58 (12 min ago)',
        '  payments   1 open; ledger 120 entries',
        '  offline    250,000 of 300,000 unsynced (83%), headroom 50,000',
        '  sync       14 entries to upload, oldest 1 h 30 min; last upload 13:00:00 (1 h 30 min ago)',
        '             100 settled, 1 rejected; 0 reversals, 0 refunds to send',
        '  losses     700 in 1 payment (tillgate report incident)',
        '  risk feed  12 min old (allowed 1 d)',
        '  scanners   lane-1  scanner-lane-1  simulated  attached',
        '             lane-2  scanner-lane-2  simulated  ERROR  E_NOSERVICE: node-hid could not be loaded',
        '',
        'needs attention:',
        '  ! the wallet does not answer: payments are decided offline, within the caps',
        '  ! offline exposure at 83% of the store cap',
        '  ! 1 loss to reconcile',
        '  ! ledger entries have waited 1 h 30 min for the wallet',
        '  ! lane-2: scanner scanner-lane-2 is in error (E_NOSERVICE)',
        '',
      ].join('\n'),
    );
  });
});

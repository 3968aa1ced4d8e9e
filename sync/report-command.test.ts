// `tillgate report incident`: CSV of every entry of the accounts' payments with its sync status and loss.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturedIo } from '../gateway/cli/test-io.js';
import { type SyncFixture, startSyncFixture } from '../test/support/sync-fixture.js';
import { csvField, INCIDENT_COLUMNS, runReportCommand } from './report-command.js';
import { LedgerUploader } from './uploader.js';

let f: SyncFixture;

beforeEach(async () => {
  f = await startSyncFixture({ batchEntriesMax: 3 });
});

afterEach(async () => {
  await f.close();
});

async function report(argv: string[]) {
  const io = capturedIo({ cwd: f.dir });
  const status = await runReportCommand(argv, io);
  const [header, ...lines] = io.out.trimEnd().split('\n');
  const rows = lines.map((line) =>
    Object.fromEntries(line.split(',').map((v, i) => [INCIDENT_COLUMNS[i], v])),
  );
  return { status, header, rows, err: io.err };
}

describe('tillgate report incident', () => {
  it('lists the accounts entries with their sync status, reason and loss, voids included', async () => {
    const victim = await f.customer(1_500);
    const bystander = await f.customer(50_000);
    const paid = f.offline(victim, 1_000);
    const short = f.offline(victim, 900);
    const voided = f.offline(victim, 800);
    f.offline(bystander, 100);
    const uploader = new LedgerUploader({ ...f, storeId: f.tw.storeId, now: Date.now });
    expect((await uploader.step(new AbortController().signal)).kind).toBe('uploaded');
    const voidEntry = f.voidOf({ ...voided, accountId: undefined } as typeof voided);
    const pending = f.offline(victim, 50);

    const result = await report(['incident', '--account', victim.accountId, '--config', f.writeConfigFile()]);
    expect(result.status).toBe(0);
    expect(result.header).toBe(INCIDENT_COLUMNS.join(','));
    expect(result.rows.map((r) => [r.seq, r.type, r.sync_status, r.sync_reason, r.loss_amount])).toEqual([
      [String(paid.seq), 'authorization', 'settled', '', '0'],
      [String(short.seq), 'authorization', 'rejected', 'insufficient_funds', '900'],
      [String(voided.seq), 'authorization', 'rejected', 'insufficient_funds', '0'],
      [String(voidEntry.seq), 'void', 'pending', '', '0'],
      [String(pending.seq), 'authorization', 'pending', '', '0'],
    ]);
    expect(result.rows[1]!.synced_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(result.err).toContain('5 entries for 1 account(s): 2 rejected (loss 900), 2 pending');
  });

  it('keeps to --from and --to, and takes several accounts', async () => {
    const a = await f.customer(50_000);
    const b = await f.customer(50_000);
    f.offline(a, 100);
    f.offline(b, 200);
    const data = ['--data', `${f.dir}/gateway`];
    const both = await report(['incident', '--account', `${a.accountId},${b.accountId}`, ...data]);
    expect(both.rows.map((r) => r.amount)).toEqual(['100', '200']);
    const past = await report([
      'incident',
      '--account',
      a.accountId,
      '--to',
      '2000-01-01T00:00:00Z',
      ...data,
    ]);
    expect(past.rows).toEqual([]);
    const since = await report([
      'incident',
      '--account',
      a.accountId,
      '--from',
      '2000-01-01T09:00:00+09:00',
      ...data,
    ]);
    expect(since.rows).toHaveLength(1);
  });

  it('refuses bad usage with 2', async () => {
    const data = ['--data', `${f.dir}/gateway`];
    expect((await report(['incident', ...data])).status).toBe(2);
    expect((await report(['incident', '--account', 'xyz', ...data])).status).toBe(2);
    expect(
      (await report(['incident', '--account', '0011223344556677', '--from', 'yesterday', ...data])).status,
    ).toBe(2);
    expect((await report(['summary', '--account', '0011223344556677', ...data])).status).toBe(2);
    expect(
      (await report(['incident', '--account', '0011223344556677', '--data', `${f.dir}/none`])).status,
    ).toBe(1);
  });

  it('quotes CSV fields and defuses spreadsheet formulas', () => {
    expect([
      csvField('a,b'),
      csvField('say "hi"'),
      csvField('=SUM(A1)'),
      csvField(null),
      csvField(12),
    ]).toEqual(['"a,b"', '"say ""hi"""', "'=SUM(A1)", '', '12']);
  });
});

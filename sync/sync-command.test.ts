// `tillgate sync` in-process against the sandbox wallet: uploads with a progress bar and a summary, follows a
// running gateway that holds the lease instead of racing it, and explains what it cannot do.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturedIo } from '../gateway/cli/test-io.js';
import { openDatabase } from '../gateway/db/open.js';
import { type SyncFixture, startSyncFixture } from '../test/support/sync-fixture.js';
import { Lease } from './lease.js';
import { runSyncCommand, syncCommand } from './sync-command.js';
import { UPLOADER_LEASE } from './worker.js';

let f: SyncFixture;

beforeEach(async () => {
  f = await startSyncFixture();
});

afterEach(async () => {
  await f.close();
});

async function sync(argv: string[]) {
  const io = capturedIo({ cwd: f.dir });
  const status = await runSyncCommand(argv, io);
  return { status, out: io.out, err: io.err };
}

describe('tillgate sync', () => {
  it('uploads the backlog with a progress bar and prints what the wallet settled and rejected', async () => {
    const c = await f.customer(5_000);
    for (let i = 0; i < 9; i++) f.offline(c, 1_000);
    const result = await sync(['--config', f.writeConfigFile()]);
    // Rejections are answers: every entry is accounted for, so the command succeeded.
    expect(result.status).toBe(0);
    expect(result.err).toContain('uploading |');
    expect(result.out).toContain('uploaded 9 ledger entries in 3 batches: 5 settled, 4 rejected');
    expect(result.out).toContain('store losses 4000 in 4 approvals');
    expect(result.out).toContain('backlog: 0 entries pending');
    expect(f.outbox().filter((r) => r.result_reason === 'insufficient_funds')).toHaveLength(4);
  });

  it('exits 0 once everything is settled, and prints JSON on request', async () => {
    const c = await f.customer(50_000);
    for (let i = 0; i < 3; i++) f.offline(c, 1_000);
    const result = await sync(['--config', f.writeConfigFile(), '--json']);
    expect(result.status).toBe(0);
    const { run, status } = JSON.parse(result.out);
    expect(run).toMatchObject({ ok: true, entries: 3, settled: 3, pending: 0 });
    expect(status).toMatchObject({ pending: 0, settled: 3, rejected: 0, lossAmount: 0 });
    expect((await sync(['--config', f.writeConfigFile()])).out).toContain('uploaded 0 ledger entries');
  });

  it('does not race a gateway that holds the lease: follows it, and gives up after --wait-sec', async () => {
    const c = await f.customer(50_000);
    f.offline(c, 1_000);
    const other = openDatabase(f.dbFile);
    try {
      const gateway = new Lease(other, UPLOADER_LEASE, 60_000);
      expect(gateway.acquire()).toBe(true);
      const startedAt = performance.now();
      const busy = await sync(['--config', f.writeConfigFile(), '--wait-sec', '1']);
      expect(busy.status).toBe(1);
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(1_000);
      expect(busy.out).toContain(`the running gateway (${gateway.holder}) holds the uploader lease`);
      expect(await f.settledAtWallet()).toEqual([]);
      other.prepare("UPDATE outbox SET status = 'done'").run();
      expect((await sync(['--config', f.writeConfigFile(), '--wait-sec', '1'])).status).toBe(0);
    } finally {
      other.close();
    }
  });

  it('with --data, uploads with DIR/gateway.json, and without it only follows a running gateway', async () => {
    const c = await f.customer(50_000);
    f.offline(c, 1_000);
    const bare = join(f.dir, 'bare');
    mkdirSync(bare);
    f.db.pragma('wal_checkpoint(TRUNCATE)');
    copyFileSync(f.dbFile, join(bare, 'gateway.sqlite'));
    const result = await sync(['--data', bare]);
    expect(result.status).toBe(1);
    expect(result.err).toContain('1 entries wait and no gateway is uploading them');
    copyFileSync(f.writeConfigFile(), join(f.dir, 'gateway', 'gateway.json'));
    const withConfig = await sync(['--data', join(f.dir, 'gateway'), '--wait-sec', '5']);
    expect(withConfig.status).toBe(0);
    expect(withConfig.out).toContain('1 settled, 0 rejected');
  });

  it('answers bad usage with 2 and a missing database with 1', async () => {
    expect((await sync(['--wait-sec', 'soon'])).status).toBe(2);
    expect((await sync(['--config', 'a.json', '--data', 'b'])).status).toBe(2);
    expect((await sync(['--data', join(f.dir, 'nowhere')])).err).toContain('no gateway database');
    const help = await sync(['--help']);
    expect([help.status, help.out.includes('--wait-sec N')]).toEqual([0, true]);
    expect(syncCommand.name).toBe('sync');
  });
});

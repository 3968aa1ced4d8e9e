// Crash the uploader between send and mark: the wallet has applied a batch whose answer the killed process never
// recorded. The restarted uploader resends the same batch id with the same entries; the wallet ends with every
// entry exactly once, every balance debited once, and its chain head equal to the gateway's verified ledger head.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Json, type SyncFixture, startSyncFixture, waitFor } from './support/sync-fixture.js';

const CHILD = fileURLToPath(new URL('./support/sync-child.ts', import.meta.url));

let f: SyncFixture;
let child: ChildProcess | null = null;

beforeEach(async () => {
  f = await startSyncFixture();
});

afterEach(async () => {
  if (child !== null && child.exitCode === null) child.kill('SIGKILL');
  await f.close();
});

function runChild(configFile: string): {
  process: ChildProcess;
  exit: Promise<{ code: number | null; output: string }>;
} {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, '--config', configFile, '--wait-sec', '20'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  proc.stdout!.on('data', (chunk) => {
    output += String(chunk);
  });
  proc.stderr!.on('data', (chunk) => {
    output += String(chunk);
  });
  child = proc;
  const exit = new Promise<{ code: number | null; output: string }>((resolve) => {
    proc.once('exit', (code) => resolve({ code, output }));
  });
  return { process: proc, exit };
}

function openBatches(): Json[] {
  return f.db
    .prepare('SELECT batch_id, first_seq, last_seq, sends FROM sync_batches WHERE done_at IS NULL')
    .all() as Json[];
}

describe('uploader crash between send and mark', () => {
  it('resends the same batch after a SIGKILL; no duplicates at the wallet and the chain verifies', async () => {
    const alice = await f.customer(100_000);
    const bob = await f.customer(100_000);
    for (let i = 0; i < 5; i++) {
      f.offline(alice, 1_000 + i);
      f.offline(bob, 2_000 + i);
    }
    const configFile = f.writeConfigFile({ batchEntriesMax: 4 });
    // The wallet commits the first batch, then holds its answer: the child is killed before it can mark anything.
    await f.tw.admin('POST', '/v1/sandbox/faults', {
      path: '/v1/ledger/batches',
      phase: 'after',
      latencyMs: 10_000,
      count: 1,
    });
    const first = runChild(configFile);
    await waitFor(
      async () => (await f.settledAtWallet()).length === 4,
      10_000,
      'the wallet to apply the first batch',
    );
    first.process.kill('SIGKILL');
    expect((await first.exit).code).toBe(null);

    const [open] = openBatches();
    expect(open).toMatchObject({ first_seq: 1, last_seq: 4, sends: 1 });
    expect(f.outbox().every((row) => row.status === 'pending')).toBe(true);

    await f.tw.admin('DELETE', '/v1/sandbox/faults');
    const startedAt = performance.now();
    const second = await runChild(configFile).exit;
    expect(second.code, second.output).toBe(0);
    // The dead process's lease was taken over at once, not after its 5 s expiry.
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    expect(second.output).toContain('10 settled, 0 rejected');

    const settled = await f.settledAtWallet();
    expect(settled.map((e: Json) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(settled.map((e: Json) => e.entryId)).size).toBe(10);
    const walletBatches = f.tw.wallet.db
      .prepare('SELECT batch_id FROM ledger_batches ORDER BY created_at')
      .all() as Json[];
    expect(walletBatches.map((b) => b.batch_id)).toContain(open.batch_id);
    expect(walletBatches).toHaveLength(3);
    const resent = f.db
      .prepare('SELECT sends, done_at FROM sync_batches WHERE batch_id = ?')
      .get(open.batch_id) as Json;
    expect(resent.sends).toBe(2);
    expect(resent.done_at).not.toBeNull();

    expect(await f.tw.balance(alice.accountId)).toBe(100_000 - (1_000 + 1_001 + 1_002 + 1_003 + 1_004));
    expect(await f.tw.balance(bob.accountId)).toBe(100_000 - (2_000 + 2_001 + 2_002 + 2_003 + 2_004));
    const report = f.ledger.verify();
    expect(report.ok).toBe(true);
    expect(settled.at(-1).hash).toBe(report.headHash);
    expect(f.outbox().every((row) => row.status === 'done')).toBe(true);
  });
});

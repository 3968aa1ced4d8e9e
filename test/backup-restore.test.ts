// Backup and restore of the gateway's database (docs/deployment.md): `tillgate backup` copies it with SQLite's
// online backup API while payments keep being written; `tillgate restore` refuses a running gateway and a damaged
// copy, keeps the database it replaces, and a gateway started on the restored file carries on the same ledger.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, printed } from '../gateway/cli/test-io.js';
import { nowSec, type Stack, startStack } from './support/stack.js';

let stack: Stack;
let dataDir: string;
let backupDir: string;

beforeAll(async () => {
  stack = await startStack({ config: { offline: { velocity: { maxPayments: 1_000 } } } });
  dataDir = stack.gateway.config.dataDir;
  backupDir = join(stack.dir, 'backups');
  mkdirSync(backupDir);
});

afterAll(async () => {
  await stack?.close();
});

async function pay(amount: number, accountId: string): Promise<string> {
  const phone = await stack.phone(accountId);
  const reply = await stack.api(0, 'POST', '/v1/payments', {
    body: { amount, currency: 'JPY', orderRef: `bk-${amount}`, payCode: phone.nextCode(nowSec()) },
  });
  expect(reply.body.state).toBe('approved');
  return reply.body.id as string;
}

describe('tillgate backup and restore', () => {
  const before: string[] = [];
  const after: string[] = [];
  let backup: string;

  it('copies the database while the gateway takes payments; the copy is one checked, self-contained file', async () => {
    const accountId = await stack.account(1_000_000);
    for (const amount of [100, 200, 300]) before.push(await pay(amount, accountId));
    backup = join(backupDir, 'gateway.sqlite');
    const writing = (async () => {
      for (const amount of [401, 402, 403, 404]) after.push(await pay(amount, accountId));
    })();
    const result = await cli(['backup', '--data', dataDir, '--out', backup, '--json']);
    await writing;
    after.push(await pay(450, accountId));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const summary = printed(result);
    expect(summary).toMatchObject({ file: backup, schemaVersion: expect.any(Number) });
    expect(summary.ledger.entries).toBeGreaterThanOrEqual(3);
    expect(summary.payments).toBeGreaterThanOrEqual(3);
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    expect(existsSync(`${backup}-wal`)).toBe(false);
    const copy = new Database(backup, { readonly: true });
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    const ids = (copy.prepare('SELECT id FROM payments').all() as { id: string }[]).map((r) => r.id);
    const approved = copy.prepare("SELECT count(*) AS n FROM payments WHERE state = 'approved'").get() as {
      n: number;
    };
    copy.close();
    for (const id of before) expect(ids).toContain(id);
    // A payment in the middle of its decision may be in the copy, still authorizing; every approval in it has
    // its ledger entry (one moment, never half a transaction).
    expect(summary.ledger.entries).toBe(approved.n);
    // The payments made after the copy finished are not in it.
    after.splice(0, after.length, ...after.filter((id) => !ids.includes(id)));
  });

  it('prints a summary a person reads, refuses to overwrite without --force, and names files in a directory', async () => {
    const again = join(backupDir, 'again.sqlite');
    expect((await cli(['backup', '--data', dataDir, '--out', again])).status).toBe(0);
    const refused = await cli(['backup', '--data', dataDir, '--out', again]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('exists; give --force');
    const forced = await cli(['backup', '--data', dataDir, '--out', again, '--force']);
    expect(forced.status).toBe(0);
    expect(forced.stdout).toMatch(
      /^backup of .*gateway\.sqlite written to .*\n {2}ledger {5}\d+ entries, chain intact/,
    );
    const dated = await cli(['backup', '--data', dataDir, '--out', backupDir]);
    expect(dated.status).toBe(0);
    expect(readdirSync(backupDir).filter((f) => /^gateway-\d{8}T\d{6}Z\.sqlite$/.test(f))).toHaveLength(1);
  });

  it('restore refuses while the gateway runs, and changes nothing', async () => {
    const headBefore = stack.gateway.ledger.head().seq;
    const result = await cli(['restore', '--from', backup, '--data', dataDir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('is in use: stop the gateway');
    expect(stack.gateway.ledger.head().seq).toBe(headBefore);
    expect(readdirSync(dataDir).some((f) => f.includes('replaced'))).toBe(false);
  });

  it('restore refuses a copy whose ledger was altered, before touching anything', async () => {
    const tampered = join(backupDir, 'tampered.sqlite');
    copyFileSync(backup, tampered);
    const db = new Database(tampered);
    db.exec('DROP TRIGGER ledger_no_update');
    db.prepare('UPDATE ledger SET amount = amount + 1 WHERE seq = 2').run();
    db.close();
    const result = await cli(['restore', '--from', tampered, '--data', join(stack.dir, 'elsewhere')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('the ledger chain is broken at seq 2');
    expect(existsSync(join(stack.dir, 'elsewhere'))).toBe(false);
  });

  it('with the gateway stopped, restore puts the copy in place, keeps the old file, and the gateway carries on', async () => {
    await stack.gateway.close();
    const result = await cli(['restore', '--from', backup, '--data', dataDir]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`restored ${join(dataDir, 'gateway.sqlite')} from ${backup}`);
    const kept = readdirSync(dataDir).filter((f) => /^gateway\.sqlite\.replaced-\d{8}T\d{6}Z$/.test(f));
    expect(kept).toHaveLength(1);

    await stack.restartGateway();
    for (const id of before) expect((await stack.api(0, 'GET', `/v1/payments/${id}`)).status).toBe(200);
    expect(after.length).toBeGreaterThan(0);
    for (const id of after) expect((await stack.api(0, 'GET', `/v1/payments/${id}`)).status).toBe(404);
    await pay(500, await stack.account(10_000));
    const verified = await cli(['verify-ledger', '--data', dataDir, '--json']);
    expect(verified.status).toBe(0);
    expect(printed(verified).ok).toBe(true);
  });
});

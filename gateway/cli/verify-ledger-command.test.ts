// `tillgate verify-ledger` on real gateway databases: an intact chain, a row changed behind the triggers'
// back (exit 1), the data directory from a config file, and a file it reads without writing.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/open.js';
import { GENESIS_HASH } from '../ledger/chain.js';
import { Ledger } from '../ledger/ledger.js';
import { cli, printed, writeGatewayConfig } from './test-io.js';

const root = mkdtempSync(join(tmpdir(), 'tillgate-verify-ledger-'));
const intact = join(root, 'intact');
let head: { seq: number; hash: string };

/** A gateway database with `count` ledger entries, written the way the gateway writes them. */
function makeLedger(dataDir: string, count: number): { seq: number; hash: string } {
  const db = openDatabase(join(dataDir, 'gateway.sqlite'));
  const ledger = new Ledger(db);
  for (let i = 1; i <= count; i++) {
    db.transaction(() => {
      ledger.append({
        entryId: `entry-${i}`,
        type: 'authorization',
        mode: i % 2 === 0 ? 'offline' : 'online',
        paymentId: `pay-${i}`,
        authorizationId: `auth-${i}`,
        amount: 100 * i,
        currency: 'JPY',
        accountId: '55ba2c98fb220af6',
        deviceId: '5dd6be683d58c9bc',
        counter: i,
        laneId: 'lane-1',
        registerId: 'reg-1',
        occurredAt: `2026-01-01T00:00:0${i}Z`,
      });
    })();
  }
  const result = ledger.head();
  db.close();
  return result;
}

/** A copy of `from` with one ledger row changed; the append-only trigger is dropped in the copy only. */
function tamperedCopy(from: string, to: string, seq: number): void {
  mkdirSync(to);
  copyFileSync(join(from, 'gateway.sqlite'), join(to, 'gateway.sqlite'));
  const db = openDatabase(join(to, 'gateway.sqlite'));
  db.exec('DROP TRIGGER ledger_no_update');
  db.prepare('UPDATE ledger SET amount = amount + 1 WHERE seq = ?').run(seq);
  db.close();
}

beforeAll(() => {
  head = makeLedger(intact, 3);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * A copy of the intact ledger in which entry 2, an offline authorization, is unsynced exposure: its payment and a
 * pending outbox row are added (the counters' triggers count it).
 */
function copyWithUnsyncedEntry(name: string): { off: string; db: ReturnType<typeof openDatabase> } {
  const off = join(root, name);
  mkdirSync(off);
  copyFileSync(join(intact, 'gateway.sqlite'), join(off, 'gateway.sqlite'));
  const db = openDatabase(join(off, 'gateway.sqlite'));
  db.prepare(
    `INSERT INTO payments (id, register_id, lane_id, state, amount, currency, order_ref, created_at, updated_at)
     VALUES ('pay-2', 'reg-1', 'lane-1', 'approved', 200, 'JPY', 'o-2', 0, 0)`,
  ).run();
  db.prepare("INSERT INTO outbox (kind, ledger_seq, created_at) VALUES ('ledger_entry', 2, 0)").run();
  return { off, db };
}

describe('tillgate verify-ledger', () => {
  it('says the chain is intact, with its head', async () => {
    const json = await cli(['verify-ledger', '--data', intact, '--json']);
    expect(json.status).toBe(0);
    expect(printed(json)).toEqual({
      ok: true,
      entries: 3,
      headSeq: 3,
      headHash: head.hash,
      exposure: { counter: 0, derived: 0, ok: true, devices: { checked: 1, mismatched: 0, mismatches: [] } },
    });
    const human = await cli(['verify-ledger', '--data', intact]);
    expect(human).toEqual({
      status: 0,
      stdout: `ledger chain intact: 3 entries in ${join(intact, 'gateway.sqlite')}\nhead: seq 3, hash ${head.hash}\n`,
      stderr: '',
    });
  });

  it('accepts an empty ledger', async () => {
    const empty = join(root, 'empty');
    makeLedger(empty, 0);
    const result = await cli(['verify-ledger', '--data', empty, '--json']);
    expect(printed(result)).toMatchObject({ ok: true, entries: 0, headSeq: 0, headHash: GENESIS_HASH });
  });

  it("exits 1 when the store's unsynced offline counter differs from its ledger entries", async () => {
    const { off, db } = copyWithUnsyncedEntry('counter-off');
    const counted = await cli(['verify-ledger', '--data', off, '--json']);
    expect(printed(counted)).toMatchObject({ ok: true, exposure: { counter: 200, derived: 200, ok: true } });
    db.prepare('UPDATE offline_store_exposure SET total = 50').run();
    db.close();
    const json = await cli(['verify-ledger', '--data', off, '--json']);
    expect(json.status).toBe(1);
    expect(printed(json)).toMatchObject({ exposure: { counter: 50, derived: 200, ok: false } });
    const human = await cli(['verify-ledger', '--data', off]);
    expect(human.status).toBe(1);
    expect(human.stderr).toMatch(/unsynced offline counter says 50 but its ledger entries sum to 200/);
  });

  it("exits 1 when a device's counters differ from its ledger entries, naming the device", async () => {
    const { off, db } = copyWithUnsyncedEntry('device-off');
    const device = (db.prepare('SELECT device_id FROM ledger WHERE seq = 2').get() as { device_id: string })
      .device_id;
    const counted = await cli(['verify-ledger', '--data', off, '--json']);
    expect(printed(counted)).toMatchObject({ ok: true, exposure: { ok: true, devices: { mismatched: 0 } } });
    db.prepare('UPDATE offline_device_exposure SET consecutive = 7 WHERE device_id = ?').run(device);
    db.close();
    const json = await cli(['verify-ledger', '--data', off, '--json']);
    expect(json.status).toBe(1);
    expect(printed(json)).toMatchObject({
      exposure: {
        counter: 200,
        derived: 200,
        ok: false,
        devices: {
          mismatched: 1,
          mismatches: [
            {
              deviceId: device,
              counter: { unsyncedTotal: 200, consecutive: 7 },
              derived: { unsyncedTotal: 200, consecutive: 1 },
            },
          ],
        },
      },
    });
    const human = await cli(['verify-ledger', '--data', off]);
    expect(human.status).toBe(1);
    expect(human.stderr).toContain(
      `device ${device}: its counters say unsynced 200, consecutive 7; its ledger entries give 200, 1`,
    );
  });

  it('exits 1 at a row changed behind the chain, saying where', async () => {
    const tampered = join(root, 'tampered');
    tamperedCopy(intact, tampered, 2);
    const json = await cli(['verify-ledger', '--data', tampered, '--json']);
    expect(json.status).toBe(1);
    expect(printed(json)).toMatchObject({
      ok: false,
      break: { seq: 2, problem: 'hash_mismatch' },
    });
    const human = await cli(['verify-ledger', '--data', tampered]);
    expect(human).toEqual({
      status: 1,
      stdout: '',
      stderr:
        'tillgate verify-ledger: the ledger chain is broken at seq 2: its contents do not match its hash (the row was changed); every entry before it checks\n',
    });
  });

  it('takes the data directory from --config', async () => {
    const config = join(root, 'tillgate.json');
    writeGatewayConfig(config, { dataDir: 'intact' });
    const result = await cli(['verify-ledger', '--config', 'tillgate.json', '--json'], { cwd: root });
    expect(printed(result)).toMatchObject({ ok: true, entries: 3 });
    writeFileSync(config, '{"storeId": 1}');
    const bad = await cli(['verify-ledger', '--config', config]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^tillgate verify-ledger: .*tillgate\.json: \d+ problems\n {2}- storeId: /);
  });

  it('never writes to the database', async () => {
    const file = join(intact, 'gateway.sqlite');
    const before = readFileSync(file);
    await cli(['verify-ledger', '--data', intact]);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`).length : 0).toBe(0);
  });

  it('exits 1 for a missing database and 2 for --config with --data', async () => {
    const missing = await cli(['verify-ledger', '--data', join(root, 'nowhere')]);
    expect(missing).toMatchObject({ status: 1, stdout: '' });
    const both = await cli(['verify-ledger', '--data', intact, '--config', 'x.json']);
    expect(both.status).toBe(2);
  });
});

const runsAsRoot = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;

describe.runIf(runsAsRoot)('tillgate verify-ledger as a user who cannot write the data directory', () => {
  it('reads a private copy when the gateway is stopped (no -shm to share)', () => {
    const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
    const shared = join(root, 'shared');
    makeLedger(shared, 3);
    chmodSync(root, 0o755);
    chmodSync(shared, 0o755);
    chmodSync(join(shared, 'gateway.sqlite'), 0o644);
    const run = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--',
        process.execPath,
        '--import',
        'tsx',
        'gateway/cli/main.ts',
        'verify-ledger',
        '--data',
        shared,
        '--json',
      ],
      { cwd: repo, encoding: 'utf8', env: { ...process.env, HOME: root } },
    );
    expect(run.stderr).toMatch(
      /^note: the gateway is stopped and .* is not writable by this user: read a private copy\n$/,
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, entries: 3 });
    expect(existsSync(join(shared, 'gateway.sqlite-shm'))).toBe(false);
  });
});

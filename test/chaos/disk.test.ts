// The disk suite: the gateway's SQLite file on a disk that fills up while payments are in flight, and a file that
// is damaged while the gateway is stopped. Full disk: the data directory is a small tmpfs filled to the last byte
// (as root, where mounting is allowed), else SQLite's PRAGMA max_page_count on the gateway's own connection stops
// the file growing at the same code paths — the test says which one ran (TILLGATE_CHAOS_DISK=max_page_count forces
// the second). New payments get a 503 naming storage, never a 500; no approval is told without its ledger entry and
// outbox row; nothing is half-written; once space returns the gateway pays again without a restart, and what was
// stuck mid-decision is declined with a reversal. Damaged file: a garbled header or a truncated file stops
// `tillgate start` (exit 1, naming the file and the restore) and the file is left exactly as it was; pages
// overwritten in the middle of the ledger, and a ledger amount changed by hand, are reported by
// `tillgate verify-ledger`, the gateway's Ledger.verify() and `tillgate backup`, and `tillgate restore` of the last
// backup brings the gateway back. Fast inside `npm test`; TILLGATE_CHAOS=long runs more episodes and damages.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, sleep } from '../../bench/support.js';
import { runCli } from '../../gateway/cli/run-cli.js';
import { capturedIo } from '../../gateway/cli/test-io.js';
import type { Config } from '../../gateway/config.js';
import { databasePath } from '../../gateway/gateway.js';
import type { SandboxPhone } from '../../wallet/sandbox-phone.js';
import { chaosCount, chaosReport, chaosSettings, until } from '../support/chaos.js';
import { type Json, nowSec, type Reply, type Stack, startStack } from '../support/stack.js';
import { auditBooks, type OfflineLimits, type ToldApproved } from './audit.js';

const settings = chaosSettings();
/** Fill, refuse, free: the fast version once, the long one again and again on the same gateway. */
const EPISODES = chaosCount(settings, 1, 12);
/** Damages of each kind in the long version, at seeded places; the fast version does each kind once. */
const DAMAGES = chaosCount(settings, 1, 6);
/** Payments the register fires while the wallet is slow, so that the disk fills during their decisions. */
const IN_FLIGHT = 4;
const WALLET_LATENCY_MS = 400;
/** While full, payments are tried until this many in a row are refused (bounded by ATTEMPTS_WHILE_FULL_MAX). */
const REFUSALS_IN_A_ROW = 5;
const ATTEMPTS_WHILE_FULL_MAX = 400;
const SCAN_TIMEOUT_MS = 1_500;
/** After space returns: what was stuck must be final within this. */
const SETTLE_MS = 10_000;
const TMPFS_SIZE = '48m';
const LIMITS: OfflineLimits = {
  perTransactionLimit: 5_000,
  perDeviceLimit: 10_000,
  consecutiveMax: 5,
  storeLimit: 300_000,
};

// ——— how the disk fills ———

type Mechanism = 'tmpfs' | 'max_page_count';

interface FullDisk {
  readonly mechanism: Mechanism;
  /** Why this mechanism (the mount's refusal, or the override). */
  readonly note: string;
  fill(): void;
  free(): void;
}

/** A tmpfs of TMPFS_SIZE at `dir`, or why not. */
function mountTmpfs(dir: string): { mounted: true } | { mounted: false; note: string } {
  if (process.env.TILLGATE_CHAOS_DISK === 'max_page_count')
    return { mounted: false, note: 'TILLGATE_CHAOS_DISK=max_page_count' };
  const mount = spawnSync(
    'mount',
    ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0700`, 'tillgate-disk', dir],
    {
      encoding: 'utf8',
    },
  );
  if (mount.status === 0) return { mounted: true };
  const why = mount.error?.message ?? (mount.stderr.trim() || `mount exited ${mount.status}`);
  return { mounted: false, note: `mount -t tmpfs refused: ${why}` };
}

function unmount(dir: string): void {
  const done = spawnSync('umount', [dir], { encoding: 'utf8' });
  if (done.status !== 0) spawnSync('umount', ['-l', dir]);
}

/** The tmpfs filled with one file to the last byte it takes; freeing space deletes the file. */
function tmpfsDisk(dir: string): FullDisk {
  const filler = join(dir, 'filler');
  return {
    mechanism: 'tmpfs',
    note: `tmpfs of ${TMPFS_SIZE} mounted on the data directory`,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 9, 1])
          writeUntilFull(fd, Buffer.alloc(size, 0x5a));
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
  };
}

function writeUntilFull(fd: number, chunk: Buffer): void {
  for (;;) {
    try {
      writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw error;
    }
  }
}

/** The gateway's own connection may not grow the file by a page (SQLITE_FULL where a real disk would give it). */
function pageLimitDisk(stack: Stack, note: string): FullDisk {
  const db = stack.gateway.db;
  const unlimited = db.pragma('max_page_count', { simple: true }) as number;
  return {
    mechanism: 'max_page_count',
    note,
    fill() {
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
    },
    free() {
      db.pragma(`max_page_count = ${unlimited}`);
    },
  };
}

// ——— the register's side ———

interface Customer {
  accountId: string;
  phone: SandboxPhone;
}

let orders = 0;

function payByCode(stack: Stack, register: number, amount: number, code: string): Promise<Reply> {
  orders += 1;
  return stack.api(register, 'POST', '/v1/payments', {
    body: { amount, currency: 'JPY', orderRef: `disk-${orders}`, payCode: code },
  });
}

function awaitScan(stack: Stack, register: number, amount: number): Promise<Reply> {
  orders += 1;
  return stack.api(register, 'POST', '/v1/payments', {
    body: { amount, currency: 'JPY', orderRef: `disk-scan-${orders}` },
  });
}

/** The payment once it left awaiting_scan and authorizing (long polls until then). */
async function decided(stack: Stack, register: number, id: string): Promise<Json> {
  for (;;) {
    const { body } = await stack.api(register, 'GET', `/v1/payments/${id}?waitMs=5000`);
    if (body.state !== 'awaiting_scan' && body.state !== 'authorizing') return body;
  }
}

/** A 503 that names storage, with no more than {code, message}: no stack, no SQL, no path. */
function expectStorageRefusal(reply: Reply, what: string): void {
  expect(reply.status, `${what}: ${JSON.stringify(reply.body)}`).toBe(503);
  expect(Object.keys(reply.body), what).toEqual(['error']);
  expect(Object.keys(reply.body.error).sort(), what).toEqual(['code', 'message']);
  expect(reply.body.error.code, what).toBe('storage_unavailable');
  expect(reply.body.error.message, what).toMatch(/storage|disk/i);
  expect(reply.body.error.message, what).not.toMatch(/\n\s+at |SELECT|INSERT|UPDATE|\/tmp\//);
}

/** What one reply while the disk is full may be: a decision (201), or a storage refusal. Anything else fails. */
function classify(reply: Reply, what: string, told: ToldApproved[]): 'approved' | 'declined' | 'refused' {
  if (reply.status === 201) {
    if (reply.body.state === 'approved') {
      told.push({ paymentId: reply.body.id, amount: reply.body.amount });
      return 'approved';
    }
    expect(reply.body.state, what).toBe('declined');
    return 'declined';
  }
  expectStorageRefusal(reply, what);
  return 'refused';
}

// ——— the books ———

function count(db: Database.Database, sql: string, ...params: unknown[]): number {
  return (db.prepare(sql).get(...params) as { n: number }).n;
}

/**
 * Nothing half-written: every ledger entry has its one outbox row, every reversal or void its reversal call,
 * every payment that took money exactly one authorization entry and no declined one any, and SQLite's own check.
 */
function halfWritten(db: Database.Database): string[] {
  const problems: string[] = [];
  const entries = count(db, 'SELECT count(*) AS n FROM ledger');
  const uploads = count(db, "SELECT count(*) AS n FROM outbox WHERE kind = 'ledger_entry'");
  if (entries !== uploads) problems.push(`${entries} ledger entries but ${uploads} ledger outbox rows`);
  const orphans = count(
    db,
    "SELECT count(*) AS n FROM outbox o WHERE kind = 'ledger_entry' AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.seq = o.ledger_seq)",
  );
  if (orphans > 0) problems.push(`${orphans} ledger outbox rows without their entry`);
  const undoes = count(db, "SELECT count(*) AS n FROM ledger WHERE type IN ('reversal', 'void')");
  const reversals = count(db, "SELECT count(*) AS n FROM outbox WHERE kind = 'reversal'");
  if (undoes !== reversals) problems.push(`${undoes} reversal/void entries but ${reversals} reversal calls`);
  const took = db
    .prepare(
      `SELECT p.id, p.state, (SELECT count(*) FROM ledger l WHERE l.payment_id = p.id AND l.type = 'authorization') AS n
       FROM payments p`,
    )
    .all() as { id: string; state: string; n: number }[];
  for (const p of took) {
    const tookMoney = ['approved', 'voided', 'refunded', 'partially_refunded'].includes(p.state);
    if (p.n !== (tookMoney ? 1 : 0))
      problems.push(`payment ${p.id} ${p.state} with ${p.n} authorization entries`);
  }
  const integrity = db.pragma('integrity_check', { simple: true });
  if (integrity !== 'ok') problems.push(`integrity_check: ${String(integrity)}`);
  return problems;
}

// ——— a full disk ———

describe('a full disk', () => {
  let stack: Stack;
  let mountDir: string;
  let mounted = false;
  let disk: FullDisk;
  let customer: Customer;

  beforeAll(async () => {
    mountDir = mkdtempSync(join(tmpdir(), 'tillgate-disk-'));
    const mount = mountTmpfs(mountDir);
    mounted = mount.mounted;
    stack = await startStack({
      lanes: 2,
      config: {
        dataDir: join(mountDir, 'gateway'),
        payments: { scanTimeoutMs: SCAN_TIMEOUT_MS },
        offline: { velocity: { enabled: false } },
        sync: { retryInitialDelayMs: 20, retryMaxDelayMs: 300, idleIntervalMs: 50 },
      },
    });
    disk = mount.mounted ? tmpfsDisk(mountDir) : pageLimitDisk(stack, mount.note);
    const accountId = await stack.account(1_000_000_000);
    customer = { accountId, phone: await stack.phone(accountId) };
  });

  afterAll(async () => {
    disk?.free();
    await stack?.close();
    if (mounted) unmount(mountDir);
    rmSync(mountDir, { recursive: true, force: true });
  });

  const code = (): string => customer.phone.nextCode(nowSec());

  it(
    `refuses payments with a 503 naming storage, writes nothing half, and pays again once space returns (${EPISODES} episodes)`,
    async () => {
      const told: ToldApproved[] = [];
      const figures = {
        refused: 0,
        approvedWhileFull: 0,
        declinedWhileFull: 0,
        stuckDeclined: 0,
        scansDropped: 0,
        paidAfter: 0,
      };
      process.stdout.write(`[chaos] disk: full disk by ${disk.mechanism} (${disk.note})\n`);
      for (let episode = 1; episode <= EPISODES; episode++) {
        const what = (step: string) => `episode ${episode} (${disk.mechanism}): ${step}`;
        const healthy = await payByCode(stack, 0, 500, code());
        expect(healthy.body?.state, what('before the disk fills')).toBe('approved');
        told.push({ paymentId: healthy.body.id, amount: 500, states: ['approved', 'voided'] });
        const waiting = await awaitScan(stack, 1, 700);
        expect(waiting.status, what('a payment waiting for a scan')).toBe(201);

        // The disk fills while decisions are at a slow wallet: their approvals meet a disk that takes nothing.
        await stack.admin('POST', '/v1/sandbox/faults', {
          path: '/v1/authorizations',
          latencyMs: WALLET_LATENCY_MS,
        });
        const inFlight = Array.from({ length: IN_FLIGHT }, () => payByCode(stack, 0, 300, code()));
        await sleep(WALLET_LATENCY_MS / 2);
        disk.fill();
        const fullSince = Date.now();
        await stack.admin('DELETE', '/v1/sandbox/faults');
        const outcomes = (await Promise.all(inFlight)).map((reply, i) =>
          classify(reply, what(`in flight ${i}`), told),
        );

        // New payments until the disk refuses several in a row; each one a decision or a 503 naming storage.
        let inARow = 0;
        for (let attempt = 0; inARow < REFUSALS_IN_A_ROW; attempt++) {
          expect(attempt, what('the disk never refused a payment')).toBeLessThan(ATTEMPTS_WHILE_FULL_MAX);
          const outcome = classify(
            await payByCode(stack, attempt % 2, 200, code()),
            what(`attempt ${attempt}`),
            told,
          );
          outcomes.push(outcome);
          inARow = outcome === 'refused' ? inARow + 1 : 0;
        }
        const voided = await stack.api(0, 'POST', `/v1/payments/${healthy.body.id}/cancel`);
        if (voided.status !== 200) expectStorageRefusal(voided, what('a void'));
        // A scan now: recorded and decided if the disk takes it, else dropped (its payment waits, then expires).
        expect(await stack.scanner('lane-2').scan(code()), what('a scan')).toBe(true);
        // The gateway stays up and says how it is; reads still work.
        for (const path of ['/healthz', '/metrics', '/v1/status', `/v1/payments/${waiting.body.id}`]) {
          expect((await stack.api(1, 'GET', path)).status, what(path)).toBe(200);
        }
        // Long enough for the waiting payment's scan timeout to meet the full disk too.
        await sleep(Math.max(0, SCAN_TIMEOUT_MS + 300 - (Date.now() - fullSince)));

        const stuck = stack.gateway.db
          .prepare("SELECT id FROM payments WHERE state = 'authorizing'")
          .all() as { id: string }[];
        disk.free();

        // Space is back: no restart. What was stuck mid-decision ends declined (with its reversal) or approved.
        await until(
          () => stack.gateway.service.repo.countOpen() === 0,
          SETTLE_MS,
          what('payments stuck on the full disk to reach a final state'),
        );
        for (const { id } of stuck) {
          const state = stack.gateway.service.row(id)!.state;
          expect(['declined', 'approved'], what(`stuck payment ${id}`)).toContain(state);
          if (state === 'declined') figures.stuckDeclined += 1;
        }
        const scanOutcome = stack.gateway.service.row(waiting.body.id)!.state;
        expect(['expired', 'declined', 'approved'], what('the payment scanned while full')).toContain(
          scanOutcome,
        );
        if (scanOutcome === 'expired') figures.scansDropped += 1;
        if (scanOutcome === 'approved') told.push({ paymentId: waiting.body.id, amount: 700 });
        const scanAfter = await awaitScan(stack, 1, 800);
        expect(await stack.scanner('lane-2').scan(code())).toBe(true);
        const paidByScan = await decided(stack, 1, scanAfter.body.id);
        expect(paidByScan.state, what('a payment by scan after space returned')).toBe('approved');
        told.push({ paymentId: scanAfter.body.id, amount: 800 });
        const after = await payByCode(stack, 0, 400, code());
        expect(after.body?.state, what('a payment after space returned')).toBe('approved');
        told.push({ paymentId: after.body.id, amount: 400 });
        figures.paidAfter += 2;
        figures.refused += outcomes.filter((o) => o === 'refused').length;
        figures.approvedWhileFull += outcomes.filter((o) => o === 'approved').length;
        figures.declinedWhileFull += outcomes.filter((o) => o === 'declined').length;
        expect(halfWritten(stack.gateway.db), what('half-written rows')).toEqual([]);
      }

      // Sync catches up with what the full disk held back; then the books balance at both ends.
      await until(
        () => {
          const sync = stack.gateway.sync.status();
          return sync.pending === 0 && sync.pendingReversals === 0;
        },
        SETTLE_MS,
        'sync to drain',
      );
      const audit = auditBooks({
        gateway: stack.gateway.db,
        wallet: stack.wallet.db,
        storeId: stack.gateway.config.storeId,
        told,
        limits: LIMITS,
      });
      const errors = stack.logs.filter((line) => /SQLITE_FULL|disk is full|database or disk/.test(line));
      chaosReport('disk-full', {
        mechanism: disk.mechanism,
        episodes: EPISODES,
        ...figures,
        told: told.length,
        ledgerEntries: audit.figures.ledgerEntries,
        storageLogLines: errors.length,
        problems: audit.problems.length,
      });
      expect(audit.problems).toEqual([]);
      expect(stack.gateway.ledger.verify().ok).toBe(true);
      expect(figures.refused).toBeGreaterThanOrEqual(EPISODES * REFUSALS_IN_A_ROW);
      // The operator hears of it: the storage failures are in the log at error level.
      expect(errors.some((line) => JSON.parse(line).level >= 50)).toBe(true);
    },
    30_000 + EPISODES * 15_000,
  );
});

// ——— a damaged file ———

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

interface StartAttempt {
  /** Exit status when it stopped by itself (refused); null when it ran until the test stopped it. */
  status: number | null;
  stderr: string;
}

/** `tillgate start --config FILE`, in-process; stopped (as by Ctrl-C) once it answers /readyz, if it does. */
async function tillgateStart(
  configFile: string,
  port: number,
  whileRunning?: (url: string) => Promise<void>,
): Promise<StartAttempt> {
  const io = capturedIo();
  const url = `http://127.0.0.1:${port}`;
  let exited: number | null = null;
  const run = runCli(['start', '--config', configFile], io).then((status) => {
    exited = status;
    return status;
  });
  const ready = async (): Promise<boolean> => {
    if (exited !== null) return true;
    try {
      return (await fetch(`${url}/readyz`)).status === 200;
    } catch {
      return false;
    }
  };
  await until(ready, 15_000, 'tillgate start to exit or become ready');
  if (exited !== null) return { status: exited, stderr: io.err };
  await whileRunning?.(url);
  io.interrupt();
  expect(await run).toBe(0);
  return { status: null, stderr: io.err };
}

async function tillgate(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const io = capturedIo();
  const status = await runCli(argv, io);
  return { status, stdout: io.out, stderr: io.err };
}

type Damage = 'header' | 'truncated' | 'ledger pages';

interface Damaged {
  kind: Damage;
  /** Byte ranges written over, to check nobody "repaired" them. */
  ranges: { offset: number; bytes: Buffer }[];
  detail: string;
}

/** Leaf pages of the ledger table in key order, but the last (the one appends go to). */
function ledgerLeafPages(file: string): { pages: number[]; pageSize: number } {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT pageno FROM dbstat WHERE name = 'ledger' AND pagetype = 'leaf' ORDER BY path")
      .all() as { pageno: number }[];
    return {
      pages: rows.slice(0, -1).map((r) => r.pageno),
      pageSize: db.pragma('page_size', { simple: true }) as number,
    };
  } finally {
    db.close();
  }
}

function overwrite(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function damage(file: string, kind: Damage, random: () => number): Damaged {
  const size = statSync(file).size;
  if (kind === 'header') {
    const bytes = Buffer.from(Array.from({ length: 16 }, () => Math.floor(random() * 256)));
    bytes[0] = 0x00; // never "SQLite format 3" again by chance
    overwrite(file, 0, bytes);
    return { kind, ranges: [{ offset: 0, bytes }], detail: 'the 16-byte magic header garbled' };
  }
  if (kind === 'truncated') {
    const pageSize = 4096;
    const pages = size / pageSize;
    const keep = Math.max(2, Math.floor(pages * (0.4 + random() * 0.2)));
    truncateSync(file, keep * pageSize);
    return { kind, ranges: [], detail: `cut from ${pages} to ${keep} pages` };
  }
  const { pages, pageSize } = ledgerLeafPages(file);
  expect(pages.length, 'the ledger spans several leaf pages').toBeGreaterThanOrEqual(3);
  const first = 1 + Math.floor(random() * (pages.length - 2));
  const chosen = pages.slice(first, first + 2);
  const ranges = chosen.map((page) => ({
    offset: (page - 1) * pageSize,
    bytes: Buffer.alloc(pageSize, 0xa5),
  }));
  for (const range of ranges) overwrite(file, range.offset, range.bytes);
  return {
    kind,
    ranges,
    detail: `ledger leaf pages ${chosen.join(', ')} of ${pages.length + 1} overwritten`,
  };
}

function stillDamaged(file: string, damaged: Damaged): boolean {
  const content = readFileSync(file);
  return damaged.ranges.every((r) => content.subarray(r.offset, r.offset + r.bytes.length).equals(r.bytes));
}

describe('a damaged database file', () => {
  let stack: Stack;
  let root: string;
  let config: Config;
  let configFile: string;
  let backupFile: string;
  let customer: Customer;
  const random = seededRandom(settings.seed);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'tillgate-damage-'));
    stack = await startStack({
      lanes: 1,
      config: { offline: { velocity: { enabled: false } }, sync: { idleIntervalMs: 50 } },
    });
    config = stack.gateway.config;
    const accountId = await stack.account(100_000_000);
    customer = { accountId, phone: await stack.phone(accountId) };
    // Enough entries that the ledger spans several pages.
    for (let i = 0; i < 60; i++) {
      const paid = await payByCode(stack, 0, 100 + i, customer.phone.nextCode(nowSec()));
      expect(paid.body.state).toBe('approved');
    }
    await until(() => stack.gateway.sync.status().pending === 0, 10_000, 'the ledger to be uploaded');
    configFile = writeConfig('live', config.dataDir, 0);
    backupFile = join(root, 'backup.sqlite');
    const backup = await tillgate('backup', '--config', configFile, '--out', backupFile);
    expect(backup.status, backup.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  function writeConfig(name: string, dataDir: string, port: number): string {
    const file = join(root, `${name}.json`);
    // Copies of the live file must not upload their (then diverging) ledgers to the shared wallet.
    const sync = { ...config.sync, enabled: name === 'live' };
    writeFileSync(file, JSON.stringify({ ...config, dataDir, http: { ...config.http, port }, sync }));
    return file;
  }

  it('a ledger amount changed by hand is reported by verify-ledger and Ledger.verify(), naming the entry', async () => {
    const seq = 20;
    // A careful forger: past the append-only trigger, and the trigger put back.
    const forger = new Database(databasePath(config));
    const trigger = (
      forger.prepare("SELECT sql FROM sqlite_master WHERE name = 'ledger_no_update'").get() as {
        sql: string;
      }
    ).sql;
    forger.exec('DROP TRIGGER ledger_no_update');
    forger.prepare('UPDATE ledger SET amount = amount + 1000 WHERE seq = ?').run(seq);
    forger.exec(trigger);
    forger.close();

    const report = stack.gateway.ledger.verify();
    expect(report).toMatchObject({
      ok: false,
      entries: seq - 1,
      headSeq: seq - 1,
      break: { seq, problem: 'hash_mismatch' },
    });
    const verify = await tillgate('verify-ledger', '--config', configFile);
    expect(verify.status).toBe(1);
    expect(verify.stderr).toContain(`broken at seq ${seq}`);
    expect(verify.stderr).toContain('the row was changed');
    const json = await tillgate('verify-ledger', '--config', configFile, '--json');
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, break: { seq, problem: 'hash_mismatch' } });
    // A backup of a forged ledger is refused: the bad copy never becomes the one to restore.
    const refused = await tillgate('backup', '--config', configFile, '--out', join(root, 'forged.sqlite'));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`broken at seq ${seq}`);

    // The entry was settled upstream before the change: the wallet's check covers what it is sent, so new entries
    // still settle. Only the gateway's own verification finds this one (figure for the report, not a promise).
    const paid = await payByCode(stack, 0, 100, customer.phone.nextCode(nowSec()));
    expect(paid.body.state).toBe('approved');
    await stack.gateway.sync.uploadNow();
    const walletNoticed = stack.gateway.sync.status().chainBroken !== undefined;
    chaosReport('disk-ledger-forged', {
      seq,
      verifyLedgerExit: verify.status,
      backupExit: refused.status,
      walletNoticed: String(walletNoticed),
    });
  });

  it(
    `a damaged file stops the start, is left as it was, and restore brings the gateway back (${DAMAGES} of each)`,
    async () => {
      await stack.gateway.close();
      const kinds: Damage[] = ['header', 'truncated', 'ledger pages'];
      const figures: Record<string, number> = {
        refusedAtStart: 0,
        ranOnDamage: 0,
        foundByVerify: 0,
        foundByBackup: 0,
      };
      for (let round = 1; round <= DAMAGES; round++) {
        for (const kind of kinds) {
          const what = `${kind} (round ${round}, seed ${settings.seed})`;
          const dataDir = join(root, `${kind.replace(' ', '-')}-${round}`);
          mkdirSync(dataDir);
          const file = join(dataDir, 'gateway.sqlite');
          copyFileSync(backupFile, file);
          const damaged = damage(file, kind, random);
          const before = sha256(file);
          const port = await freePort();
          const cfg = writeConfig(`${kind.replace(' ', '-')}-${round}`, dataDir, port);

          const start = await tillgateStart(cfg, port, async (url) => {
            // It ran on a damage start-up did not read: a payment is a decision or a 503, never a 500.
            const reply = await fetch(`${url}/v1/payments`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${stack.registers[0]!.key}`,
                'content-type': 'application/json',
              },
              body: JSON.stringify({
                amount: 100,
                currency: 'JPY',
                orderRef: 'on-damage',
                payCode: customer.phone.nextCode(nowSec()),
              }),
            });
            expect([201, 503], `${what}: ${reply.status}`).toContain(reply.status);
            await reply.body?.cancel();
          });
          if (start.status !== null) {
            figures.refusedAtStart! += 1;
            expect(start.status, what).toBe(1);
            expect(start.stderr, what).toContain(file);
            expect(start.stderr, what).toMatch(/damaged|not a database/);
            expect(start.stderr, what).toContain('tillgate restore');
            expect(start.stderr, what).not.toMatch(/\n\s+at /);
            expect(sha256(file), `${what}: the evidence was changed`).toBe(before);
          } else {
            figures.ranOnDamage! += 1;
            expect(kind, `${what}: started on a file whose header is garbage`).not.toBe('header');
          }
          expect(stillDamaged(file, damaged), `${what}: the damaged bytes were rewritten`).toBe(true);
          // verify-ledger reads the whole chain: damaged ledger pages, or a file it cannot open, make it fail.
          const verify = await tillgate('verify-ledger', '--config', cfg);
          if (kind !== 'truncated') expect(verify.status, `${what}: ${verify.stdout}`).toBe(1);
          if (verify.status === 1) {
            figures.foundByVerify! += 1;
            expect(verify.stderr, what).toContain(file);
          }
          const backup = await tillgate('backup', '--config', cfg, '--out', join(dataDir, 'copy.sqlite'));
          expect(backup.status, `${what}: backup took a damaged file`).toBe(1);
          expect(backup.stderr, what).toMatch(/damaged|not a readable SQLite database|cannot/);
          figures.foundByBackup! += 1;
          process.stdout.write(
            `[chaos] disk-damage: ${what}: ${damaged.detail}; start ${start.status === null ? 'ran' : `exit ${start.status}`}\n`,
          );
        }
      }

      // What the message says to do works: restore the last backup, and the gateway starts.
      const dataDir = join(root, 'header-1');
      const restored = await tillgate(
        'restore',
        '--from',
        backupFile,
        '--config',
        join(root, 'header-1.json'),
      );
      expect(restored.status, restored.stderr).toBe(0);
      const port = await freePort();
      const again = await tillgateStart(writeConfig('restored', dataDir, port), port);
      expect(again.status, again.stderr).toBeNull();
      chaosReport('disk-damage', {
        seed: settings.seed,
        rounds: DAMAGES,
        damages: DAMAGES * kinds.length,
        ...figures,
        restoredStarts: 1,
      });
      expect(figures.refusedAtStart).toBeGreaterThanOrEqual(DAMAGES);
    },
    60_000 + DAMAGES * 20_000,
  );
});

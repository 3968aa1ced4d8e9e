// Offline state in a real SQLite file: exposure and consecutive counts from the ledger and the outbox, released
// when sync/ marks rows, kept across a reopen; the store counter equal to the derived sum through every kind of
// write and seeded by its migration; the velocity window; the decision's transaction; and the query plans, so that
// a long outage's backlog never turns a decision into a table scan.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OfflineConfigSchema } from '../config.js';
import { MIGRATIONS } from '../db/migrations.js';
import { type Db, migrate, openDatabase } from '../db/open.js';
import { Ledger } from '../ledger/ledger.js';
import type { PaymentMode } from '../payments/payment.js';
import { PaymentRepository } from '../payments/repository.js';
import { Settlement } from '../payments/settlement.js';
import { OfflineAcceptance } from './acceptance.js';
import { FEED_REFRESHED_AT_KEY } from './feed-source.js';
import { OFFLINE_SQL, OfflineState } from './state.js';

const DEVICE_A = 'aaaaaaaaaaaaaaaa';
const DEVICE_B = 'bbbbbbbbbbbbbbbb';
const ACCOUNT = '1111111111111111';
const T0 = Date.UTC(2026, 0, 1);

let dir: string;
let file: string;
let db: Db;
let clock: number;
let fixture: ReturnType<typeof build>;

function build(database: Db) {
  const repo = new PaymentRepository(database);
  const settlement = new Settlement(repo, new Ledger(database), () => clock);
  const state = new OfflineState(database);
  const acceptance = new OfflineAcceptance({
    db: database,
    repo,
    settlement,
    config: OfflineConfigSchema.parse({ storeLimit: 20_000 }),
    logger: pino({ level: 'silent' }),
    now: () => clock,
  });
  return { repo, settlement, state, acceptance };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tillgate-offline-state-'));
  file = join(dir, 'gateway.sqlite');
  db = openDatabase(file);
  clock = T0;
  fixture = build(db);
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A payment taken by a scan and reserved, as the payment service leaves it before the wallet is asked. */
function authorizing(amount: number, deviceId: string, laneId = 'lane-1'): string {
  const id = randomUUID();
  fixture.repo.insert({
    id,
    register_id: 'register-1',
    lane_id: laneId,
    state: 'awaiting_scan',
    amount,
    currency: 'JPY',
    order_ref: id,
    basket_json: null,
    created_at: clock,
    scan_deadline_at: null,
  });
  fixture.repo.update(id, ['awaiting_scan'], {
    state: 'authorizing',
    authorization_id: `a_${id}`,
    account_id: ACCOUNT,
    device_id: deviceId,
    counter: 1,
    code_kind: 'pc1',
    updated_at: clock,
  });
  return id;
}

function approved(amount: number, deviceId: string, mode: PaymentMode): string {
  const id = authorizing(amount, deviceId);
  expect(fixture.settlement.approve(id, { mode })).not.toBeNull();
  return id;
}

/** What sync/'s uploader does when the wallet answers an entry. */
function walletAnswers(paymentId: string, status: 'done' | 'rejected'): void {
  const { seq } = db
    .prepare("SELECT seq FROM ledger WHERE payment_id = ? AND type = 'authorization'")
    .get(paymentId) as { seq: number };
  db.prepare("UPDATE outbox SET status = ?, done_at = ? WHERE ledger_seq = ? AND kind = 'ledger_entry'").run(
    status,
    clock,
    seq,
  );
}

const certificate = (deviceId: string) => ({
  deviceId,
  accountId: ACCOUNT,
  offlineLimit: 10_000,
  enrolledAt: T0 / 1000 - 30 * 86_400,
});

describe('unsynced exposure, derived from the ledger and the outbox', () => {
  it('counts offline approvals per device and store, never online ones', () => {
    approved(1_000, DEVICE_A, 'offline');
    approved(2_000, DEVICE_A, 'offline');
    approved(4_000, DEVICE_B, 'offline');
    approved(8_000, DEVICE_A, 'online');
    expect(fixture.state.device(DEVICE_A).unsyncedTotal).toBe(3_000);
    expect(fixture.state.device(DEVICE_B).unsyncedTotal).toBe(4_000);
    expect(fixture.state.storeTotal()).toBe(7_000);
  });

  it('is released when sync/ marks the entry settled or rejected; a void releases it too', () => {
    const settled = approved(1_000, DEVICE_A, 'offline');
    const rejected = approved(2_000, DEVICE_A, 'offline');
    const voided = approved(3_000, DEVICE_A, 'offline');
    approved(4_000, DEVICE_A, 'offline');
    walletAnswers(settled, 'done');
    walletAnswers(rejected, 'rejected');
    expect(fixture.settlement.void(voided)).not.toBeNull();
    expect(fixture.state.device(DEVICE_A).unsyncedTotal).toBe(4_000);
    expect(fixture.state.storeTotal()).toBe(4_000);
  });

  it('is the same after the file is closed and opened again', () => {
    approved(1_500, DEVICE_A, 'offline');
    approved(2_500, DEVICE_B, 'offline');
    db.close();
    db = openDatabase(file);
    fixture = build(db);
    expect(fixture.state.storeTotal()).toBe(4_000);
    expect(fixture.state.device(DEVICE_A)).toEqual({ unsyncedTotal: 1_500, consecutive: 1 });
  });
});

/** Drops what migration `version` (an index of MIGRATIONS) created, for a test that migrates an older file. */
const MIGRATION_OBJECTS: Record<number, string> = {
  3: `DROP TRIGGER offline_exposure_outbox_insert; DROP TRIGGER offline_exposure_outbox_update;
    DROP TRIGGER offline_exposure_outbox_delete; DROP TRIGGER offline_exposure_payment_voided;
    DROP TABLE offline_store_exposure; DROP VIEW offline_exposure_entries;`,
  4: `DROP TRIGGER offline_device_outbox_insert; DROP TRIGGER offline_device_outbox_answer;
    DROP TRIGGER offline_device_outbox_other; DROP TRIGGER offline_device_outbox_delete;
    DROP TRIGGER offline_device_payment_voided; DROP TABLE offline_device_exposure; DROP VIEW offline_device_entries;
    DROP TRIGGER account_activity_not_paying; DROP INDEX account_activity_window;
    CREATE INDEX account_activity_window ON account_activity(account_id, at);`,
};

/** A new file taken back to schema `version`: the migrations from that index on are undone. */
function fileAtSchema(version: number): void {
  db.close();
  rmSync(file);
  db = openDatabase(file);
  for (let undo = MIGRATIONS.length - 1; undo >= version; undo--) db.exec(MIGRATION_OBJECTS[undo]!);
  db.pragma(`user_version = ${version}`);
  // That schema's writers: the repository and the settlement, no offline state.
  const repo = new PaymentRepository(db);
  fixture = { ...fixture, repo, settlement: new Settlement(repo, new Ledger(db), () => clock) };
}

function expectCountersDerived(label: string): void {
  expect(fixture.state.storeTotal(), label).toBe(fixture.state.derivedStoreTotal());
  for (const device of [DEVICE_A, DEVICE_B]) {
    expect(fixture.state.device(device), `${label}, device ${device}`).toEqual(
      fixture.state.derivedDevice(device),
    );
  }
}

describe('the store and device counters (migrations 3 and 4)', () => {
  it('equal the derived figures after every write of a random walk: approvals, voids, sync answers, refunds, retries', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const approvedIds: string[] = [];
    for (let step = 0; step < 400; step++) {
      const pick = random();
      const device = random() < 0.5 ? DEVICE_A : DEVICE_B;
      const any = approvedIds[Math.floor(random() * approvedIds.length)];
      if (pick < 0.35) approvedIds.push(approved(1 + Math.floor(random() * 900), device, 'offline'));
      else if (pick < 0.45) approvedIds.push(approved(1 + Math.floor(random() * 900), device, 'online'));
      else if (pick < 0.5) fixture.acceptance.decide(authorizing(6_000, device), certificate(device));
      else if (pick < 0.6 && any !== undefined) fixture.settlement.void(any);
      else if (pick < 0.7 && any !== undefined) {
        const refundId = randomUUID();
        fixture.repo.insertRefund({
          id: refundId,
          payment_id: any,
          register_id: 'r',
          amount: 1,
          created_at: clock,
        });
        fixture.settlement.settleRefund(refundId, { ok: true });
      } else if (pick < 0.85) {
        const status = random() < 0.8 ? 'done' : 'rejected';
        db.prepare(
          `UPDATE outbox SET status = ?, done_at = ? WHERE id = (SELECT id FROM outbox WHERE status = 'pending'
             ORDER BY id LIMIT 1 OFFSET ?)`,
        ).run(status, clock, Math.floor(random() * 5));
      } else if (pick < 0.88) {
        // Never done by tillgate: an answered row put back to pending (a reset point taken away).
        db.prepare(
          `UPDATE outbox SET status = 'pending' WHERE id = (SELECT id FROM outbox WHERE status <> 'pending'
             ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        ).run(Math.floor(random() * 3));
      } else {
        db.prepare(
          "UPDATE outbox SET attempts = attempts + 1, last_error = 'reset' WHERE status = 'pending'",
        ).run();
      }
      expectCountersDerived(`step ${step}`);
    }
    expect(fixture.state.storeTotal()).toBeGreaterThan(0);
    expect(
      fixture.state.device(DEVICE_A).consecutive + fixture.state.device(DEVICE_B).consecutive,
    ).toBeGreaterThan(0);
  });

  it('are seeded from the backlog when an older file is migrated', () => {
    fileAtSchema(3);
    approved(1_000, DEVICE_A, 'offline');
    const settled = approved(2_000, DEVICE_B, 'offline');
    approved(4_000, DEVICE_B, 'offline');
    approved(8_000, DEVICE_B, 'online');
    walletAnswers(settled, 'done');
    migrate(db);
    fixture = build(db);
    expect(fixture.state.storeTotal()).toBe(5_000);
    expect(fixture.state.derivedStoreTotal()).toBe(5_000);
    expect(fixture.state.device(DEVICE_A)).toEqual({ unsyncedTotal: 1_000, consecutive: 1 });
    expect(fixture.state.device(DEVICE_B)).toEqual({ unsyncedTotal: 4_000, consecutive: 0 });
  });

  it('device counters are seeded from a schema-4 file: totals, consecutive runs after a settled entry', () => {
    fileAtSchema(4);
    const settled = approved(1_000, DEVICE_A, 'offline');
    approved(2_000, DEVICE_A, 'offline');
    const voided = approved(3_000, DEVICE_A, 'offline');
    approved(4_000, DEVICE_A, 'offline');
    approved(500, DEVICE_B, 'online');
    approved(600, DEVICE_B, 'offline');
    walletAnswers(settled, 'done');
    fixture.settlement.void(voided);
    migrate(db);
    fixture = build(db);
    expect(fixture.state.device(DEVICE_A)).toEqual({ unsyncedTotal: 6_000, consecutive: 2 });
    expect(fixture.state.device(DEVICE_B)).toEqual({ unsyncedTotal: 600, consecutive: 1 });
    expectCountersDerived('after the migration');
  });
});

describe('consecutive offline count', () => {
  it('counts offline approvals since the last online approval', () => {
    approved(100, DEVICE_A, 'offline');
    approved(100, DEVICE_A, 'offline');
    expect(fixture.state.device(DEVICE_A).consecutive).toBe(2);
    approved(100, DEVICE_A, 'online');
    expect(fixture.state.device(DEVICE_A).consecutive).toBe(0);
    approved(100, DEVICE_A, 'offline');
    expect(fixture.state.device(DEVICE_A).consecutive).toBe(1);
    expect(fixture.state.device(DEVICE_B).consecutive).toBe(0);
  });

  it('is reset by a settled sync, not by a rejected one', () => {
    const first = approved(100, DEVICE_A, 'offline');
    const second = approved(100, DEVICE_A, 'offline');
    approved(100, DEVICE_A, 'offline');
    walletAnswers(first, 'done');
    expect(fixture.state.device(DEVICE_A).consecutive).toBe(2);
    walletAnswers(second, 'rejected');
    expect(fixture.state.device(DEVICE_A)).toEqual({ unsyncedTotal: 100, consecutive: 2 });
  });
});

describe('velocity window', () => {
  it('counts the account’s paying payments after the start of the window, per lane', () => {
    const record = (id: string, laneId: string, at: number) =>
      fixture.state.recordActivity({ paymentId: id, accountId: ACCOUNT, laneId, at });
    const inFlight = authorizing(100, DEVICE_A);
    record(inFlight, 'lane-1', T0);
    const paid = approved(100, DEVICE_A, 'online');
    record(paid, 'lane-2', T0 + 1_000);
    const declined = authorizing(100, DEVICE_A);
    fixture.settlement.decline(declined, 'insufficient_funds', { mode: 'online' });
    record(declined, 'lane-3', T0 + 2_000);
    expect(fixture.state.velocityWindow(ACCOUNT, T0 - 1)).toEqual({
      payments: 2,
      lanes: ['lane-1', 'lane-2'],
    });
    expect(fixture.state.velocityWindow(ACCOUNT, T0)).toEqual({ payments: 1, lanes: ['lane-2'] });
    expect(fixture.state.velocityWindow('2222222222222222', T0 - 1)).toEqual({ payments: 0, lanes: [] });
  });

  it('loses a payment that ends without paying, in the same transaction; a void or refund keeps it', () => {
    const record = (id: string, laneId: string) =>
      fixture.state.recordActivity({ paymentId: id, accountId: ACCOUNT, laneId, at: T0 });
    const declined = authorizing(100, DEVICE_A);
    record(declined, 'lane-1');
    const voided = authorizing(100, DEVICE_A);
    record(voided, 'lane-2');
    expect(fixture.state.velocityWindow(ACCOUNT, T0 - 1).payments).toBe(2);
    fixture.settlement.decline(declined, 'insufficient_funds', { mode: 'online' });
    fixture.settlement.approve(voided, { mode: 'online' });
    fixture.settlement.void(voided);
    expect(fixture.state.velocityWindow(ACCOUNT, T0 - 1)).toEqual({ payments: 1, lanes: ['lane-2'] });
  });

  it('is cleared of payments that did not pay when an older file is migrated', () => {
    fileAtSchema(4);
    const declined = authorizing(100, DEVICE_A);
    const paid = authorizing(100, DEVICE_A);
    for (const id of [declined, paid]) {
      db.prepare(
        "INSERT INTO account_activity (payment_id, account_id, lane_id, at) VALUES (?, ?, 'lane-1', ?)",
      ).run(id, ACCOUNT, T0);
    }
    fixture.settlement.decline(declined, 'insufficient_funds', { mode: 'online' });
    migrate(db);
    fixture = build(db);
    expect(fixture.state.velocityWindow(ACCOUNT, T0 - 1)).toEqual({ payments: 1, lanes: ['lane-1'] });
  });
});

describe('the offline decision', () => {
  beforeEach(() => {
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(FEED_REFRESHED_AT_KEY, String(T0));
  });

  it('approves in mode offline with the same authorization id and no reversal', () => {
    const id = authorizing(1_000, DEVICE_A);
    const decided = fixture.acceptance.decide(id, certificate(DEVICE_A))!;
    expect(decided.decision).toEqual({ approved: true });
    expect(decided.row).toMatchObject({ state: 'approved', mode: 'offline', authorization_id: `a_${id}` });
    const kinds = db.prepare('SELECT kind FROM outbox ORDER BY id').all() as { kind: string }[];
    expect(kinds.map((k) => k.kind)).toEqual(['ledger_entry']);
  });

  it('remembers the certificate figures once: a repeat writes nothing, a change is written', () => {
    const remembered = () => db.prepare('SELECT * FROM offline_devices WHERE device_id = ?').get(DEVICE_A);
    fixture.acceptance.decide(authorizing(100, DEVICE_A), certificate(DEVICE_A));
    expect(remembered()).toMatchObject({ offline_limit: 10_000, updated_at: T0 });
    clock += 60_000;
    fixture.acceptance.decide(authorizing(100, DEVICE_A), certificate(DEVICE_A));
    // Unchanged, so not written again: no page of this table in the decision's commit.
    expect(remembered()).toMatchObject({ offline_limit: 10_000, updated_at: T0 });
    clock += 60_000;
    fixture.acceptance.decide(authorizing(100, DEVICE_A), { ...certificate(DEVICE_A), offlineLimit: 7_000 });
    expect(remembered()).toMatchObject({ offline_limit: 7_000, updated_at: T0 + 120_000 });
  });

  it('declines over a limit with a reversal entry and a reversal call queued', () => {
    const id = authorizing(5_001, DEVICE_A);
    const decided = fixture.acceptance.decide(id, certificate(DEVICE_A))!;
    expect(decided.decision).toEqual({
      approved: false,
      reason: 'offline_limit_exceeded',
      limit: 'per_transaction',
    });
    expect(decided.row).toMatchObject({
      state: 'declined',
      mode: 'offline',
      reason: 'offline_limit_exceeded',
    });
    const reversal = db.prepare("SELECT authorization_id FROM outbox WHERE kind = 'reversal'").get();
    expect(reversal).toEqual({ authorization_id: `a_${id}` });
  });

  it('sees the approvals committed before it: the store limit holds across devices', () => {
    const amounts = [5_000, 5_000, 5_000, 4_999, 1, 1];
    const outcomes = amounts.map((amount, i) => {
      const deviceId = `${i}`.repeat(16);
      return fixture.acceptance.decide(authorizing(amount, deviceId), certificate(deviceId))!.decision
        .approved;
    });
    expect(outcomes).toEqual([true, true, true, true, true, false]);
    expect(fixture.state.storeTotal()).toBe(20_000);
  });

  it('decides a payment once: a second decision finds it settled', () => {
    const id = authorizing(1_000, DEVICE_A);
    expect(fixture.acceptance.decide(id, certificate(DEVICE_A))).not.toBeNull();
    expect(fixture.acceptance.decide(id, certificate(DEVICE_A))).toBeNull();
    expect(fixture.state.storeTotal()).toBe(1_000);
  });
});

describe('query plans', () => {
  it('reach rows through indexes, never by scanning the ledger, outbox, payments or activity tables', () => {
    for (const [name, sql] of Object.entries(OFFLINE_SQL)) {
      if (!sql.startsWith('SELECT')) continue;
      const params = sql.includes('@device') ? [{ device: 'x' }] : (sql.match(/\?/g) ?? []).map(() => 'x');
      const details = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map(
        (row) => row.detail,
      );
      const scans = details.filter((d) => /^SCAN /.test(d) && !/USING (COVERING )?INDEX/.test(d));
      expect({ name, scans }).toEqual({ name, scans: [] });
    }
  });
});

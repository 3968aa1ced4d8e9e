// The SQLite side of offline acceptance. Unsynced exposure and consecutive counts follow from the ledger and the
// outbox: an offline approval counts until sync/ marks its ledger entry's outbox row `done` or `rejected`, so
// settlement by sync releases it. The store's total (migration 3) and each device's total and consecutive count
// (migration 4) are counters that triggers keep in the same transaction as every write that moves them, because the
// derived queries walk the unsynced backlog — the store's, or a device's since its last settled entry — on every
// decision; `derivedStoreTotal` and `derivedDevice` are those queries, for checking the counters. Reads run inside
// the caller's transaction (the decision's), so the numbers a decision sees are the numbers it commits against.
import type { Db } from '../db/open.js';
import type { OfflineDeviceState, VelocityWindow } from './rules.js';

/** The join every exposure query starts from: a device's or the store's offline authorizations. */
const OFFLINE_AUTHORIZATIONS = `
  ledger l
  JOIN outbox o ON o.ledger_seq = l.seq AND o.kind = 'ledger_entry'
  JOIN payments p ON p.id = l.payment_id`;

/** Voided offline approvals hold nothing: the store took the goods back and the void entry cancels them. */
const OFFLINE_NOT_VOIDED = "l.type = 'authorization' AND l.mode = 'offline' AND p.state <> 'voided'";

/** States of a payment that count as paying, for the velocity rule: approved once, or still deciding. */
const PAYING_STATES = "('authorizing','approved','voided','refunded','partially_refunded')";

/** Every statement, by name; exported so that state.test.ts can check their query plans. */
export const OFFLINE_SQL = {
  storeTotal: 'SELECT total FROM offline_store_exposure WHERE id = 1',
  derivedStoreTotal: `SELECT coalesce(sum(l.amount), 0) AS total FROM ${OFFLINE_AUTHORIZATIONS}
    WHERE o.status = 'pending' AND ${OFFLINE_NOT_VOIDED}`,
  device: 'SELECT total, consecutive FROM offline_device_exposure WHERE device_id = ?',
  deviceTotal: `SELECT coalesce(sum(l.amount), 0) AS total FROM ${OFFLINE_AUTHORIZATIONS}
    WHERE l.device_id = ? AND o.status = 'pending' AND ${OFFLINE_NOT_VOIDED}`,
  // Offline approvals after the device's last reset: its last online approval or last settled offline one.
  consecutive: `SELECT count(*) AS n FROM ${OFFLINE_AUTHORIZATIONS}
    WHERE l.device_id = @device AND o.status <> 'done' AND ${OFFLINE_NOT_VOIDED}
      AND l.seq > (
        SELECT coalesce(max(r.seq), 0) FROM ledger r
        JOIN outbox ro ON ro.ledger_seq = r.seq AND ro.kind = 'ledger_entry'
        WHERE r.device_id = @device AND r.type = 'authorization' AND (r.mode = 'online' OR ro.status = 'done'))`,
  exposedDevices: `SELECT l.device_id, max(l.account_id) AS account_id, sum(l.amount) AS total
    FROM ${OFFLINE_AUTHORIZATIONS}
    WHERE o.status = 'pending' AND ${OFFLINE_NOT_VOIDED} AND l.device_id IS NOT NULL
    GROUP BY l.device_id ORDER BY total DESC, l.device_id LIMIT ?`,
  certificate: 'SELECT offline_limit FROM offline_devices WHERE device_id = ?',
  rememberDevice: `INSERT INTO offline_devices (device_id, account_id, offline_limit, enrolled_at, updated_at)
    VALUES (@deviceId, @accountId, @offlineLimit, @enrolledAt, @now)
    ON CONFLICT (device_id) DO UPDATE SET account_id = excluded.account_id, offline_limit = excluded.offline_limit,
      enrolled_at = excluded.enrolled_at, updated_at = excluded.updated_at
    WHERE (account_id, offline_limit, enrolled_at)
      IS NOT (excluded.account_id, excluded.offline_limit, excluded.enrolled_at)`,
  // Only paying payments are in the window (migration 4 takes the others out), so the index answers it alone.
  velocity: `SELECT lane_id, count(*) AS n FROM account_activity WHERE account_id = ? AND at > ? GROUP BY lane_id`,
  recordActivity: `INSERT INTO account_activity (payment_id, account_id, lane_id, at)
    SELECT @paymentId, @accountId, @laneId, @at FROM payments WHERE id = @paymentId AND state IN ${PAYING_STATES}
    ON CONFLICT (payment_id) DO NOTHING`,
} as const;

const MISMATCHES_LISTED = 100;

/** A device whose counters (migration 4) differ from the figures derived from the ledger and the outbox. */
export interface DeviceMismatch {
  deviceId: string;
  counter: OfflineDeviceState;
  derived: OfflineDeviceState;
}

export interface ExposureCheck {
  counter: number;
  derived: number;
  ok: boolean;
  /** Absent for a file older than the device counters. `mismatches` lists the first MISMATCHES_LISTED of them. */
  devices?: { checked: number; mismatched: number; mismatches: DeviceMismatch[] };
}

/**
 * The counters against the derived figures, for `tillgate verify-ledger`: the store's total, and every device's
 * total and consecutive count. Null for a file older than the store counter (schema before migration 3: the gateway
 * adds the counters at its next start). Walks the whole backlog: a check, never on a decision's path.
 */
export function checkStoreExposure(db: Db): ExposureCheck | null {
  if (!hasTable(db, 'offline_store_exposure')) return null;
  const state = new OfflineState(db);
  const counter = state.storeTotal();
  const derived = state.derivedStoreTotal();
  if (!hasTable(db, 'offline_device_exposure')) return { counter, derived, ok: counter === derived };
  const counters = new Map(
    db
      .prepare<[], { device_id: string; total: number; consecutive: number }>(
        'SELECT device_id, total, consecutive FROM offline_device_exposure',
      )
      .all()
      .map((row) => [row.device_id, { unsyncedTotal: row.total, consecutive: row.consecutive }]),
  );
  const withEntries = db
    .prepare<[], { device_id: string }>(
      "SELECT DISTINCT device_id FROM ledger WHERE type = 'authorization' AND device_id IS NOT NULL",
    )
    .all()
    .map((row) => row.device_id);
  const ids = new Set([...counters.keys(), ...withEntries]);
  const mismatches: DeviceMismatch[] = [];
  let mismatched = 0;
  for (const deviceId of ids) {
    const deviceCounter = counters.get(deviceId) ?? { unsyncedTotal: 0, consecutive: 0 };
    const deviceDerived = state.derivedDevice(deviceId);
    if (
      deviceCounter.unsyncedTotal !== deviceDerived.unsyncedTotal ||
      deviceCounter.consecutive !== deviceDerived.consecutive
    ) {
      mismatched++;
      if (mismatches.length < MISMATCHES_LISTED) {
        mismatches.push({ deviceId, counter: deviceCounter, derived: deviceDerived });
      }
    }
  }
  return {
    counter,
    derived,
    ok: counter === derived && mismatched === 0,
    devices: { checked: ids.size, mismatched, mismatches },
  };
}

function hasTable(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

export interface DeviceCertificateInfo {
  deviceId: string;
  accountId: string;
  offlineLimit: number;
  /** Unix seconds. */
  enrolledAt: number;
}

export interface DeviceExposure extends OfflineDeviceState {
  deviceId: string;
  accountId: string | null;
  /** The certificate's offlineLimit, when the device was decided offline here. */
  offlineLimit: number | null;
}

export class OfflineState {
  readonly #s;

  constructor(db: Db) {
    this.#s = {
      storeTotal: db.prepare<[], { total: number }>(OFFLINE_SQL.storeTotal),
      derivedStoreTotal: db.prepare<[], { total: number }>(OFFLINE_SQL.derivedStoreTotal),
      device: db.prepare<[string], { total: number; consecutive: number }>(OFFLINE_SQL.device),
      deviceTotal: db.prepare<[string], { total: number }>(OFFLINE_SQL.deviceTotal),
      consecutive: db.prepare<{ device: string }, { n: number }>(OFFLINE_SQL.consecutive),
      exposedDevices: db.prepare<[number], { device_id: string; account_id: string | null; total: number }>(
        OFFLINE_SQL.exposedDevices,
      ),
      certificate: db.prepare<[string], { offline_limit: number }>(OFFLINE_SQL.certificate),
      rememberDevice: db.prepare(OFFLINE_SQL.rememberDevice),
      velocity: db.prepare<[string, number], { lane_id: string; n: number }>(OFFLINE_SQL.velocity),
      recordActivity: db.prepare(OFFLINE_SQL.recordActivity),
    };
  }

  /** The store's unsynced offline total: the counter, one row. */
  storeTotal(): number {
    return this.#s.storeTotal.get()!.total;
  }

  /** The same total summed from the ledger and the outbox: what the counter must equal. */
  derivedStoreTotal(): number {
    return this.#s.derivedStoreTotal.get()!.total;
  }

  /** The device's counters, one row (a device without entries has none: nothing unsynced, nothing consecutive). */
  device(deviceId: string): OfflineDeviceState {
    const row = this.#s.device.get(deviceId);
    return { unsyncedTotal: row?.total ?? 0, consecutive: row?.consecutive ?? 0 };
  }

  /** The same figures derived from the ledger and the outbox: what the counters must equal. */
  derivedDevice(deviceId: string): OfflineDeviceState {
    return {
      unsyncedTotal: this.#s.deviceTotal.get(deviceId)!.total,
      consecutive: this.#s.consecutive.get({ device: deviceId })!.n,
    };
  }

  /** The devices holding the most unsynced offline money, at most `limit`. */
  exposedDevices(limit: number): DeviceExposure[] {
    return this.#s.exposedDevices.all(limit).map((row) => ({
      deviceId: row.device_id,
      accountId: row.account_id,
      offlineLimit: this.#s.certificate.get(row.device_id)?.offline_limit ?? null,
      ...this.device(row.device_id),
    }));
  }

  rememberDevice(certificate: DeviceCertificateInfo, nowMs: number): void {
    this.#s.rememberDevice.run({ ...certificate, now: nowMs });
  }

  /** The account's paying payments after `sinceMs`, per lane. */
  velocityWindow(accountId: string, sinceMs: number): VelocityWindow {
    const rows = this.#s.velocity.all(accountId, sinceMs);
    return { payments: rows.reduce((sum, row) => sum + row.n, 0), lanes: rows.map((row) => row.lane_id) };
  }

  recordActivity(activity: { paymentId: string; accountId: string; laneId: string; at: number }): void {
    this.#s.recordActivity.run(activity);
  }
}

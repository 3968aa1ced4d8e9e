// The SQLite side of offline acceptance. Unsynced exposure and consecutive counts follow from the ledger and the
// outbox: an offline approval counts until sync/ marks its ledger entry's outbox row `done` or `rejected`, so
// settlement by sync releases it. The device figures are derived by query (they walk one device's entries); the
// store's total is a counter that triggers keep in the same transaction as every write that moves it (migration 3),
// because the derived sum walks the whole unsynced backlog on every decision; `derivedStoreTotal` is that sum, for
// checking the counter. Reads run inside the caller's transaction (the decision's), so the numbers a decision sees
// are the numbers it commits against.
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
      enrolled_at = excluded.enrolled_at, updated_at = excluded.updated_at`,
  velocity: `SELECT a.lane_id, count(*) AS n FROM account_activity a JOIN payments p ON p.id = a.payment_id
    WHERE a.account_id = ? AND a.at > ? AND p.state IN ${PAYING_STATES}
    GROUP BY a.lane_id`,
  recordActivity: `INSERT INTO account_activity (payment_id, account_id, lane_id, at)
    VALUES (@paymentId, @accountId, @laneId, @at) ON CONFLICT (payment_id) DO NOTHING`,
} as const;

/**
 * The store counter against the derived sum, for `tillgate verify-ledger`; null for a file older than the counter
 * (schema before migration 3: the gateway adds it at its next start).
 */
export function checkStoreExposure(db: Db): { counter: number; derived: number; ok: boolean } | null {
  const table = db
    .prepare("SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = 'offline_store_exposure'")
    .get();
  if (table === undefined) return null;
  const state = new OfflineState(db);
  const counter = state.storeTotal();
  const derived = state.derivedStoreTotal();
  return { counter, derived, ok: counter === derived };
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

  device(deviceId: string): OfflineDeviceState {
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

// Enrolled phones: the certificate the wallet signed for each, whether it is revoked, and the highest
// PC1 counter the wallet has seen from it (from any store, online or offline).
import { publicKeyFromRaw } from '../gateway/paycode/ed25519.js';
import { issueCertificate } from '../gateway/paycode/phone.js';
import { findAccount, newId } from './accounts.js';
import { type Db, one, run } from './db.js';
import { WalletError } from './errors.js';
import { signingIssuerKey } from './issuer-keys.js';
import type { RiskFeed } from './risk-feed.js';

export const DEFAULT_OFFLINE_LIMIT = 10_000;
const U32_MAX = 0xffff_ffff;

export interface DeviceRow {
  id: string;
  account_id: string;
  certificate: string;
  revoked: number;
  max_counter: number;
}

export interface EnrollRequest {
  accountId: string;
  /** 32-byte Ed25519 public key, hex. */
  publicKey: string;
  enrolledAt?: number;
  offlineLimit?: number;
  /** Sandbox: an explicit certificate expiry, to test expired certificates. */
  expiresAt?: number;
}

export interface Enrollment {
  deviceId: string;
  accountId: string;
  certificate: string;
  enrolledAt: number;
  expiresAt: number;
  kid: number;
  offlineLimit: number;
}

export function enrollDevice(db: Db, request: EnrollRequest, now: number, lifetimeSec: number): Enrollment {
  assertUsableKey(request.publicKey);
  return db
    .transaction(() => {
      if (findAccount(db, request.accountId) === undefined)
        throw new WalletError('not_found', `no account ${request.accountId}`);
      const issuer = signingIssuerKey(db);
      const enrolledAt = request.enrolledAt ?? now;
      const expiresAt = Math.min(request.expiresAt ?? enrolledAt + lifetimeSec, U32_MAX);
      const enrollment = {
        deviceId: newId(),
        accountId: request.accountId,
        enrolledAt,
        expiresAt,
        kid: issuer.kid,
        offlineLimit: request.offlineLimit ?? DEFAULT_OFFLINE_LIMIT,
      };
      const certificate = issueCertificate(issuer.seed, {
        ...enrollment,
        devicePublicKey: Buffer.from(request.publicKey, 'hex'),
      }).toString('hex');
      insertDevice(db, { ...enrollment, certificate }, request.publicKey);
      return { ...enrollment, certificate };
    })
    .immediate();
}

function assertUsableKey(publicKeyHex: string): void {
  try {
    publicKeyFromRaw(Buffer.from(publicKeyHex, 'hex'));
  } catch {
    throw new WalletError('invalid_request', 'publicKey: not an Ed25519 public key', {
      details: { field: 'publicKey' },
    });
  }
}

function insertDevice(db: Db, enrollment: Enrollment, publicKey: string): void {
  run(
    db,
    `INSERT INTO devices (id, account_id, public_key, kid, certificate, enrolled_at, expires_at, offline_limit)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    enrollment.deviceId,
    enrollment.accountId,
    publicKey,
    enrollment.kid,
    enrollment.certificate,
    enrollment.enrolledAt,
    enrollment.expiresAt,
    enrollment.offlineLimit,
  );
}

export function findDevice(db: Db, deviceId: string): DeviceRow | undefined {
  return one<DeviceRow>(
    db,
    'SELECT id, account_id, certificate, revoked, max_counter FROM devices WHERE id = ?',
    deviceId,
  );
}

export function deviceView(
  db: Db,
  deviceId: string,
): { deviceId: string; accountId: string; revoked: boolean; highestCounter: number | null } {
  const row = findDevice(db, deviceId);
  if (row === undefined) throw new WalletError('not_found', `no device ${deviceId}`);
  return {
    deviceId: row.id,
    accountId: row.account_id,
    revoked: row.revoked === 1,
    highestCounter: row.max_counter < 0 ? null : row.max_counter,
  };
}

export function revokeDevice(db: Db, feed: RiskFeed, deviceId: string): { deviceId: string; revoked: true } {
  return db
    .transaction(() => {
      const row = findDevice(db, deviceId);
      if (row === undefined) throw new WalletError('not_found', `no device ${deviceId}`);
      if (row.revoked === 0) {
        run(db, 'UPDATE devices SET revoked = 1 WHERE id = ?', deviceId);
        feed.publish('device_revoked', { deviceId });
      }
      return { deviceId, revoked: true as const };
    })
    .immediate();
}

/** Raises the device's highest counter seen; never lowers it. */
export function raiseCounter(db: Db, deviceId: string, counter: number): void {
  run(db, 'UPDATE devices SET max_counter = MAX(max_counter, ?) WHERE id = ?', counter, deviceId);
}

/** True when an approved authorization other than `exceptId` already used this exact code. */
export function counterAlreadyPaid(db: Db, deviceId: string, counter: number, exceptId: string): boolean {
  return (
    one(
      db,
      "SELECT 1 FROM authorizations WHERE device_id = ? AND counter = ? AND status = 'approved' AND id <> ?",
      deviceId,
      counter,
      exceptId,
    ) !== undefined
  );
}

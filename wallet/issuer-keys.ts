// The wallet's issuer keys (kid 0–255): they sign device certificates at enrollment, and the same keys —
// never the gateway's copy — are the trust the wallet checks every pay code against.
import { generateEd25519 } from '../gateway/paycode/ed25519.js';
import { IssuerKeyRing } from '../gateway/paycode/verify.js';
import { all, type Db, one, run } from './db.js';
import { WalletError } from './errors.js';
import type { RiskFeed } from './risk-feed.js';

export const FIRST_KID = 1;
const KID_MAX = 255;

export interface IssuerKeyInfo {
  kid: number;
  publicKey: string;
  revoked: boolean;
}

interface KeyRow {
  kid: number;
  seed: Buffer;
  public_key: string;
  revoked: number;
}

/** On a fresh database: key kid 1, announced on the risk feed so a gateway can learn keys from it. */
export function ensureFirstIssuerKey(db: Db, feed: RiskFeed, now: number): void {
  db.transaction(() => {
    if (one(db, 'SELECT kid FROM issuer_keys LIMIT 1') !== undefined) return;
    insertKey(db, feed, FIRST_KID, now);
  }).immediate();
}

export function addIssuerKey(db: Db, feed: RiskFeed, now: number): { kid: number; publicKey: string } {
  return db
    .transaction(() => {
      const last = one<{ kid: number }>(db, 'SELECT MAX(kid) AS kid FROM issuer_keys')?.kid ?? FIRST_KID - 1;
      if (last >= KID_MAX) throw new WalletError('issuer_keys_exhausted', 'all 256 issuer key ids are used');
      return insertKey(db, feed, last + 1, now);
    })
    .immediate();
}

function insertKey(db: Db, feed: RiskFeed, kid: number, now: number): { kid: number; publicKey: string } {
  const pair = generateEd25519();
  const publicKey = pair.publicKey.toString('hex');
  run(
    db,
    'INSERT INTO issuer_keys (kid, seed, public_key, created_at) VALUES (?, ?, ?, ?)',
    kid,
    pair.seed,
    publicKey,
    now,
  );
  feed.publish('issuer_key_added', { kid, publicKey });
  return { kid, publicKey };
}

export function revokeIssuerKey(db: Db, feed: RiskFeed, kid: number): IssuerKeyInfo {
  return db
    .transaction(() => {
      const row = one<KeyRow>(db, 'SELECT * FROM issuer_keys WHERE kid = ?', kid);
      if (row === undefined) throw new WalletError('not_found', `no issuer key ${kid}`);
      if (row.revoked === 0) {
        run(db, 'UPDATE issuer_keys SET revoked = 1 WHERE kid = ?', kid);
        feed.publish('issuer_key_revoked', { kid });
      }
      return { kid, publicKey: row.public_key, revoked: true };
    })
    .immediate();
}

export function listIssuerKeys(db: Db): IssuerKeyInfo[] {
  return all<KeyRow>(db, 'SELECT * FROM issuer_keys ORDER BY kid').map((row) => ({
    kid: row.kid,
    publicKey: row.public_key,
    revoked: row.revoked === 1,
  }));
}

export function issuerKeyRing(db: Db): IssuerKeyRing {
  return new IssuerKeyRing(listIssuerKeys(db));
}

/** The key new certificates are signed with: the newest one not revoked. */
export function signingIssuerKey(db: Db): { kid: number; seed: Buffer } {
  const row = one<KeyRow>(db, 'SELECT * FROM issuer_keys WHERE revoked = 0 ORDER BY kid DESC LIMIT 1');
  if (row === undefined) throw new WalletError('no_issuer_key', 'every issuer key is revoked; add one first');
  return { kid: row.kid, seed: row.seed };
}

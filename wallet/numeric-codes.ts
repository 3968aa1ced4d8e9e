// Numeric online-only codes (CONTRACT §1.2) issued by the sandbox wallet: 60 s, single use,
// only their SHA-256 stored. Redeeming one is part of an authorization's transaction.
import { randomInt } from 'node:crypto';
import type { DeclineReason } from '../gateway/decline-reasons.js';
import { makeNumericCode } from '../gateway/paycode/numeric.js';
import { findAccount } from './accounts.js';
import { NUMERIC_CODE_LIFETIME_SEC } from './context.js';
import { sha256 } from './credentials.js';
import { type Db, one, run } from './db.js';
import { WalletError } from './errors.js';

const ISSUE_ATTEMPTS_MAX = 5;

export function codeSha256(code: string): string {
  return sha256(code).toString('hex');
}

function randomBody17(): string {
  let digits = '';
  for (let i = 0; i < 17; i++) digits += String(randomInt(10));
  return digits;
}

export function issueNumericCode(
  db: Db,
  accountId: string,
  now: number,
): { code: string; expiresAt: number } {
  return db
    .transaction(() => {
      if (findAccount(db, accountId) === undefined)
        throw new WalletError('not_found', `no account ${accountId}`);
      const expiresAt = now + NUMERIC_CODE_LIFETIME_SEC;
      for (let attempt = 0; attempt < ISSUE_ATTEMPTS_MAX; attempt++) {
        const code = makeNumericCode(randomBody17());
        const inserted = run(
          db,
          'INSERT OR IGNORE INTO numeric_codes (code_sha256, account_id, expires_at, created_at) VALUES (?, ?, ?, ?)',
          codeSha256(code),
          accountId,
          expiresAt,
          now,
        ).changes;
        if (inserted === 1) return { code, expiresAt };
      }
      throw new Error('could not draw an unused numeric code');
    })
    .immediate();
}

/** Marks the code used and returns its account, or the decline reason. Runs inside the authorization. */
export function redeemNumericCode(
  db: Db,
  code: string,
  now: number,
): { accountId: string } | { reason: DeclineReason } {
  const row = one<{ account_id: string; expires_at: number; used: number }>(
    db,
    'SELECT account_id, expires_at, used FROM numeric_codes WHERE code_sha256 = ?',
    codeSha256(code),
  );
  if (row === undefined) return { reason: 'wallet_declined' };
  if (row.used === 1) return { reason: 'code_replayed' };
  if (row.expires_at <= now) return { reason: 'code_expired' };
  run(db, 'UPDATE numeric_codes SET used = 1 WHERE code_sha256 = ?', codeSha256(code));
  return { accountId: row.account_id };
}

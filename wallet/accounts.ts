// Wallet accounts and the only two ways money moves: a debit for a payment and a credit back.
// Each movement is written with its cause (UNIQUE), inside the caller's transaction.
import { randomBytes } from 'node:crypto';
import type { DeclineReason } from '../gateway/decline-reasons.js';
import { type Db, one, run } from './db.js';
import { WalletError } from './errors.js';
import type { RiskFeed } from './risk-feed.js';

export interface AccountRow {
  id: string;
  balance: number;
  currency: string;
  frozen: number;
}

export interface AccountView {
  accountId: string;
  balance: number;
  currency: string;
  frozen: boolean;
}

export function newId(): string {
  return randomBytes(8).toString('hex');
}

export function createAccount(db: Db, balance: number, currency: string, now: number): AccountView {
  const id = newId();
  run(
    db,
    'INSERT INTO accounts (id, balance, currency, created_at) VALUES (?, ?, ?, ?)',
    id,
    balance,
    currency,
    now,
  );
  return { accountId: id, balance, currency, frozen: false };
}

export function findAccount(db: Db, accountId: string): AccountRow | undefined {
  return one<AccountRow>(db, 'SELECT id, balance, currency, frozen FROM accounts WHERE id = ?', accountId);
}

export function accountView(db: Db, accountId: string): AccountView {
  const row = findAccount(db, accountId);
  if (row === undefined) throw new WalletError('not_found', `no account ${accountId}`);
  return { accountId: row.id, balance: row.balance, currency: row.currency, frozen: row.frozen === 1 };
}

/** Freezes or unfreezes; a change (not a repeat) is published on the risk feed in the same transaction. */
export function setFrozen(db: Db, feed: RiskFeed, accountId: string, frozen: boolean): AccountView {
  return db
    .transaction(() => {
      const before = accountView(db, accountId);
      if (before.frozen === frozen) return before;
      run(db, 'UPDATE accounts SET frozen = ? WHERE id = ?', frozen ? 1 : 0, accountId);
      feed.publish(frozen ? 'account_frozen' : 'account_unfrozen', { accountId });
      return { ...before, frozen };
    })
    .immediate();
}

/** Signed amount: negative debits, positive credits. `cause` names the record; the same cause twice aborts. */
export function moveMoney(db: Db, accountId: string, amount: number, cause: string, now: number): void {
  if (!db.inTransaction) throw new Error('moveMoney must run inside a transaction');
  const changed = run(
    db,
    'UPDATE accounts SET balance = balance + ? WHERE id = ?',
    amount,
    accountId,
  ).changes;
  if (changed !== 1) throw new Error(`moveMoney: no account ${accountId}`);
  run(
    db,
    'INSERT INTO movements (account_id, amount, cause, created_at) VALUES (?, ?, ?, ?)',
    accountId,
    amount,
    cause,
    now,
  );
}

export interface Charge {
  accountId: string;
  amount: number;
  currency: string;
  /** The record the debit belongs to, e.g. "authorization:<id>". */
  cause: string;
}

/** The account checks every payment passes, then the debit. A decline is returned, not thrown. */
export function chargeAccount(db: Db, charge: Charge, now: number): DeclineReason | null {
  const account = findAccount(db, charge.accountId);
  if (account === undefined) return 'wallet_declined';
  if (account.frozen === 1) return 'account_frozen';
  if (account.currency !== charge.currency) return 'wallet_declined';
  if (account.balance < charge.amount) return 'insufficient_funds';
  moveMoney(db, charge.accountId, -charge.amount, charge.cause, now);
  return null;
}

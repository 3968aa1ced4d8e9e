// The books after a chaos run, read from both SQLite files once the gateway has stopped or drained: what registers
// were told against the gateway's ledger, the ledger against the wallet's money movements, and the offline limits
// replayed over the ledger's timeline. Every broken promise is one line in `problems`; the suites expect none.
import type Database from 'better-sqlite3';
import type { Db } from '../../gateway/db/open.js';
import { Ledger } from '../../gateway/ledger/ledger.js';

/** A payment a register was told is approved. */
export interface ToldApproved {
  paymentId: string;
  amount: number;
}

export interface OfflineLimits {
  perTransactionLimit: number;
  perDeviceLimit: number;
  consecutiveMax: number;
  storeLimit: number;
}

export interface AuditFigures {
  payments: number;
  approvedOnline: number;
  approvedOffline: number;
  declined: number;
  reversals: number;
  told: number;
  ledgerEntries: number;
  walletSettled: number;
  /** Told approvals missing from the ledger or the wallet, or found there more than once. */
  lost: number;
  /** Sum of approved amounts in the ledger and net debits at the wallet. */
  storeTotal: number;
  walletTotal: number;
}

export interface Audit {
  problems: string[];
  figures: AuditFigures;
}

interface PaymentRow {
  id: string;
  state: string;
  amount: number;
  authorization_id: string | null;
}

interface LedgerRow {
  seq: number;
  entry_id: string;
  type: string;
  mode: string;
  payment_id: string;
  authorization_id: string;
  amount: number;
  account_id: string | null;
  device_id: string | null;
  occurred_at: string;
  status: string | null;
  done_at: number | null;
}

const PROBLEMS_SHOWN = 20;

export function auditBooks(options: {
  gateway: Db;
  wallet: Database.Database;
  storeId: string;
  told: readonly ToldApproved[];
  limits: OfflineLimits;
}): Audit {
  const { gateway, wallet, storeId, told, limits } = options;
  const problems: string[] = [];
  const payments = gateway
    .prepare('SELECT id, state, amount, authorization_id FROM payments')
    .all() as PaymentRow[];
  const ledger = gateway
    .prepare(
      `SELECT l.*, o.status, o.done_at FROM ledger l
       LEFT JOIN outbox o ON o.ledger_seq = l.seq AND o.kind = 'ledger_entry' ORDER BY l.seq`,
    )
    .all() as LedgerRow[];
  const authorizations = ledger.filter((e) => e.type === 'authorization');

  for (const p of payments) {
    if (p.state === 'authorizing' || p.state === 'awaiting_scan')
      problems.push(`payment ${p.id} left ${p.state}`);
  }
  const chain = new Ledger(gateway).verify();
  if (!chain.ok) problems.push(`ledger chain broken: ${JSON.stringify(chain.break)}`);

  const lost = checkTold(told, payments, authorizations, problems);
  const totals = checkWallet(wallet, storeId, payments, ledger, problems);
  checkOutbox(gateway, problems);
  checkOfflineLimits(authorizations, deviceCaps(wallet), limits, problems);

  const settled = wallet
    .prepare("SELECT count(*) AS n FROM ledger_entries WHERE store_id = ? AND status = 'settled'")
    .get(storeId) as { n: number };
  const shown = problems.slice(0, PROBLEMS_SHOWN);
  if (problems.length > PROBLEMS_SHOWN) shown.push(`… and ${problems.length - PROBLEMS_SHOWN} more`);
  return {
    problems: shown,
    figures: {
      payments: payments.length,
      approvedOnline: authorizations.filter((e) => e.mode === 'online').length,
      approvedOffline: authorizations.filter((e) => e.mode === 'offline').length,
      declined: payments.filter((p) => p.state === 'declined').length,
      reversals: ledger.filter((e) => e.type === 'reversal').length,
      told: told.length,
      ledgerEntries: ledger.length,
      walletSettled: settled.n,
      lost,
      ...totals,
    },
  };
}

/** Every told approval: approved in the gateway, one authorization entry of the told amount. */
function checkTold(
  told: readonly ToldApproved[],
  payments: readonly PaymentRow[],
  authorizations: readonly LedgerRow[],
  problems: string[],
): number {
  const byId = new Map(payments.map((p) => [p.id, p]));
  let lost = 0;
  for (const t of told) {
    const entries = authorizations.filter((e) => e.payment_id === t.paymentId);
    const state = byId.get(t.paymentId)?.state;
    if (state !== 'approved' || entries.length !== 1 || entries[0]!.amount !== t.amount) {
      lost += 1;
      problems.push(
        `told approved ${t.paymentId} (${t.amount}): gateway state ${state}, ${entries.length} authorization entries`,
      );
    }
  }
  return lost;
}

/**
 * Per authorization id, the wallet's net movement must equal what the ledger says the store took: −amount for an
 * approved payment (once), 0 for every other id the gateway sent; and the wallet moved no money for ids the
 * gateway does not know. Then the same per account.
 */
function checkWallet(
  wallet: Database.Database,
  storeId: string,
  payments: readonly PaymentRow[],
  ledger: readonly LedgerRow[],
  problems: string[],
): { storeTotal: number; walletTotal: number } {
  const movements = wallet
    .prepare(
      `SELECT a.id, a.account_id, coalesce(sum(m.amount), 0) AS net FROM authorizations a
       LEFT JOIN movements m ON m.cause IN ('authorization:' || a.id, 'reversal:' || a.id)
       WHERE a.store_id = ? GROUP BY a.id`,
    )
    .all(storeId) as { id: string; account_id: string | null; net: number }[];
  const walletNet = new Map(movements.map((m) => [m.id, m.net]));
  const expected = new Map<string, number>();
  for (const p of payments) if (p.authorization_id !== null) expected.set(p.authorization_id, 0);
  for (const e of ledger) {
    const sign = e.type === 'authorization' ? -1 : e.type === 'void' || e.type === 'refund' ? 1 : 0;
    expected.set(e.authorization_id, (expected.get(e.authorization_id) ?? 0) + sign * e.amount);
  }
  for (const [id, net] of expected) {
    const atWallet = walletNet.get(id) ?? 0;
    if (atWallet !== net) problems.push(`authorization ${id}: store took ${-net}, wallet moved ${-atWallet}`);
  }
  for (const m of movements) {
    if (!expected.has(m.id) && m.net !== 0) problems.push(`wallet moved ${m.net} for unknown id ${m.id}`);
  }
  const storeTotal = -[...expected.values()].reduce((sum, v) => sum + v, 0);
  const walletTotal = -movements.reduce((sum, m) => sum + m.net, 0);
  if (storeTotal !== walletTotal) problems.push(`store total ${storeTotal} ≠ wallet total ${walletTotal}`);
  const perAccount = new Map<string, number>();
  for (const e of ledger) {
    if (e.account_id === null) continue;
    const sign = e.type === 'authorization' ? 1 : e.type === 'void' || e.type === 'refund' ? -1 : 0;
    perAccount.set(e.account_id, (perAccount.get(e.account_id) ?? 0) + sign * e.amount);
  }
  const walletPerAccount = new Map<string, number>();
  for (const m of movements) {
    if (m.account_id !== null)
      walletPerAccount.set(m.account_id, (walletPerAccount.get(m.account_id) ?? 0) - m.net);
  }
  for (const account of new Set([...perAccount.keys(), ...walletPerAccount.keys()])) {
    const store = perAccount.get(account) ?? 0;
    const atWallet = walletPerAccount.get(account) ?? 0;
    if (store !== atWallet)
      problems.push(`account ${account}: store took ${store}, wallet debited ${atWallet}`);
  }
  return { storeTotal, walletTotal };
}

/** After the drain: nothing pending, no ledger entry rejected (a loss), every reversal delivered. */
function checkOutbox(gateway: Db, problems: string[]): void {
  const rows = gateway
    .prepare('SELECT kind, status, count(*) AS n FROM outbox GROUP BY kind, status')
    .all() as { kind: string; status: string; n: number }[];
  for (const row of rows) {
    if (row.status !== 'done') problems.push(`outbox: ${row.n} ${row.kind} rows ${row.status}`);
  }
}

function deviceCaps(wallet: Database.Database): Map<string, number> {
  const rows = wallet.prepare('SELECT id, offline_limit FROM devices').all() as {
    id: string;
    offline_limit: number;
  }[];
  return new Map(rows.map((r) => [r.id, r.offline_limit]));
}

/**
 * Replays each offline approval at its moment: what was unsynced then (approvals whose ledger entry sync/ had not
 * marked by that millisecond) must leave the device and the store within their limits. A mark in the same
 * millisecond counts as done, so the replay can only be lenient, never report a breach that did not happen.
 */
function checkOfflineLimits(
  authorizations: readonly LedgerRow[],
  caps: Map<string, number>,
  limits: OfflineLimits,
  problems: string[],
): void {
  const offline = authorizations.filter((e) => e.mode === 'offline');
  const doneBy = (e: LedgerRow, t: number): boolean => e.done_at !== null && e.done_at <= t;
  for (const e of offline) {
    const t = Date.parse(e.occurred_at);
    const device = e.device_id ?? '';
    if (e.amount > limits.perTransactionLimit)
      problems.push(`offline ${e.payment_id}: ${e.amount} over per-transaction`);
    const before = offline.filter((o) => o.seq < e.seq && !doneBy(o, t));
    const storeTotal = before.reduce((sum, o) => sum + o.amount, 0) + e.amount;
    if (storeTotal > limits.storeLimit)
      problems.push(`offline ${e.payment_id}: store exposure ${storeTotal}`);
    const mine = before.filter((o) => o.device_id === e.device_id);
    const cap = Math.min(caps.get(device) ?? 0, limits.perDeviceLimit);
    const deviceTotal = mine.reduce((sum, o) => sum + o.amount, 0) + e.amount;
    if (deviceTotal > cap)
      problems.push(`offline ${e.payment_id}: device ${device} exposure ${deviceTotal} > ${cap}`);
    const reset = Math.max(
      0,
      ...authorizations
        .filter((r) => r.device_id === e.device_id && r.seq < e.seq && (r.mode === 'online' || doneBy(r, t)))
        .map((r) => r.seq),
    );
    const consecutive = mine.filter((o) => o.seq > reset).length;
    if (consecutive >= limits.consecutiveMax)
      problems.push(`offline ${e.payment_id}: ${consecutive} consecutive offline before it`);
  }
}

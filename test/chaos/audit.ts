// The books after a chaos run, read from both SQLite files once the gateway has stopped or drained: what registers
// were told against the gateway's ledger, the ledger against the wallet's money movements, and the offline limits
// replayed over the ledger's timeline; then the wallet's own copy of the ledger (its settled entries) and the
// account balances against the gateway. Every broken promise is one line in `problems`; the suites expect none.
import type Database from 'better-sqlite3';
import type { Db } from '../../gateway/db/open.js';
import { findChainBreak, GENESIS_HASH } from '../../gateway/ledger/chain.js';
import { Ledger } from '../../gateway/ledger/ledger.js';
import type { SettledEntry } from '../../wallet/ledger-ingest.js';

/** A payment a register was told is approved. */
export interface ToldApproved {
  paymentId: string;
  amount: number;
  /** The states it may be in at the audit: `approved`, unless the register voided or refunded it since. */
  states?: readonly string[];
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
  /** Offline approvals the wallet rejected for a reason the suite expects (the store's losses), and their sum. */
  losses: number;
  lossAmount: number;
  /** What the store kept by its ledger (losses left out) and net debits at the wallet. */
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
  result_reason: string | null;
  done_at: number | null;
}

const PROBLEMS_SHOWN = 20;

export function auditBooks(options: {
  gateway: Db;
  wallet: Database.Database;
  storeId: string;
  told: readonly ToldApproved[];
  limits: OfflineLimits;
  /** Wallet rejections of offline approvals the suite provokes (say insufficient_funds): losses, not problems. */
  lossReasons?: readonly string[];
}): Audit {
  const { gateway, wallet, storeId, told, limits } = options;
  const problems: string[] = [];
  const payments = gateway
    .prepare('SELECT id, state, amount, authorization_id FROM payments')
    .all() as PaymentRow[];
  const ledger = gateway
    .prepare(
      `SELECT l.*, o.status, o.result_reason, o.done_at FROM ledger l
       LEFT JOIN outbox o ON o.ledger_seq = l.seq AND o.kind = 'ledger_entry' ORDER BY l.seq`,
    )
    .all() as LedgerRow[];
  const authorizations = ledger.filter((e) => e.type === 'authorization');
  const losses = acceptedLosses(authorizations, options.lossReasons ?? []);

  for (const p of payments) {
    if (p.state === 'authorizing' || p.state === 'awaiting_scan')
      problems.push(`payment ${p.id} left ${p.state}`);
  }
  const chain = new Ledger(gateway).verify();
  if (!chain.ok) problems.push(`ledger chain broken: ${JSON.stringify(chain.break)}`);

  const lost = checkTold(told, payments, authorizations, problems);
  const booked = ledger.filter((e) => !losses.has(e.authorization_id));
  const totals = checkWallet(wallet, storeId, payments, booked, problems);
  const voided = voidTimes(ledger);
  checkOutbox(gateway, losses, voided, problems);
  checkOfflineLimits(authorizations, voided, deviceCaps(wallet), limits, problems);

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
      losses: losses.size,
      lossAmount: [...losses.values()].reduce((sum, amount) => sum + amount, 0),
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
    const stateExpected = (t.states ?? ['approved']).includes(state ?? '');
    if (!stateExpected || entries.length !== 1 || entries[0]!.amount !== t.amount) {
      lost += 1;
      problems.push(
        `told approved ${t.paymentId} (${t.amount}): gateway state ${state}, ${entries.length} authorization entries`,
      );
    }
  }
  return lost;
}

/** Authorization ids of offline approvals the wallet rejected for one of `reasons`, with their amounts. */
function acceptedLosses(
  authorizations: readonly LedgerRow[],
  reasons: readonly string[],
): Map<string, number> {
  const losses = new Map<string, number>();
  for (const e of authorizations) {
    if (e.mode === 'offline' && e.status === 'rejected' && reasons.includes(e.result_reason ?? ''))
      losses.set(e.authorization_id, e.amount);
  }
  return losses;
}

/**
 * Per authorization id, the wallet's net movement (debit, reversal, refunds) must equal what the ledger says the
 * store took: −amount for an approved payment (once), less what was voided or refunded, 0 for every other id the
 * gateway sent; and the wallet moved no money for ids the gateway does not know. Then the same per account.
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
  const refunds = wallet
    .prepare(
      `SELECT r.authorization_id AS id, sum(m.amount) AS net FROM refunds r
       JOIN movements m ON m.cause = 'refund:' || r.id WHERE r.store_id = ? GROUP BY r.authorization_id`,
    )
    .all(storeId) as { id: string; net: number }[];
  const refunded = new Map(refunds.map((r) => [r.id, r.net]));
  for (const m of movements) m.net += refunded.get(m.id) ?? 0;
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

/**
 * After the drain: nothing pending, every reversal delivered, no ledger entry rejected but the accepted losses (and
 * a refund the wallet refused because the approval it refunds is one of them) and offline approvals voided before
 * their upload (the void's reversal reached the wallet first, so the wallet rightly never charged them).
 */
function checkOutbox(
  gateway: Db,
  losses: ReadonlyMap<string, number>,
  voided: ReadonlyMap<string, number>,
  problems: string[],
): void {
  const rows = gateway
    .prepare(
      `SELECT o.kind, o.status, o.result_reason AS reason, l.type, l.payment_id,
         coalesce(l.authorization_id, o.authorization_id) AS authorization_id
       FROM outbox o LEFT JOIN ledger l ON l.seq = o.ledger_seq WHERE o.status <> 'done'`,
    )
    .all() as {
    kind: string;
    status: string;
    reason: string | null;
    type: string | null;
    payment_id: string | null;
    authorization_id: string | null;
  }[];
  const counts = new Map<string, number>();
  for (const row of rows) {
    const rejected = row.status === 'rejected';
    const isLoss = rejected && losses.has(row.authorization_id ?? '');
    if (isLoss && (row.type === 'authorization' || row.kind === 'refund')) continue;
    const voidedFirst = rejected && row.reason === 'reversed' && voided.has(row.payment_id ?? '');
    if (voidedFirst && row.type === 'authorization') continue;
    const key = `${row.kind} rows ${row.status}${row.reason === null ? '' : ` (${row.reason})`}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, n] of counts) problems.push(`outbox: ${n} ${key}`);
}

/** When each voided payment's void was written, unix ms: from then on its offline approval holds nothing. */
function voidTimes(ledger: readonly LedgerRow[]): Map<string, number> {
  return new Map(
    ledger.filter((e) => e.type === 'void').map((e) => [e.payment_id, Date.parse(e.occurred_at)]),
  );
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
 * marked, and that were not voided, by that millisecond) must leave the device and the store within their limits.
 * A mark or void in the same millisecond counts as done, so the replay can only be lenient, never report a breach
 * that did not happen.
 */
function checkOfflineLimits(
  authorizations: readonly LedgerRow[],
  voidedAt: ReadonlyMap<string, number>,
  caps: Map<string, number>,
  limits: OfflineLimits,
  problems: string[],
): void {
  const offline = authorizations.filter((e) => e.mode === 'offline');
  const doneBy = (e: LedgerRow, t: number): boolean => e.done_at !== null && e.done_at <= t;
  const voidedBy = (e: LedgerRow, t: number): boolean =>
    (voidedAt.get(e.payment_id) ?? Number.POSITIVE_INFINITY) <= t;
  for (const e of offline) {
    const t = Date.parse(e.occurred_at);
    const device = e.device_id ?? '';
    if (e.amount > limits.perTransactionLimit)
      problems.push(`offline ${e.payment_id}: ${e.amount} over per-transaction`);
    const before = offline.filter((o) => o.seq < e.seq && !doneBy(o, t) && !voidedBy(o, t));
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

export interface WalletCopyAudit {
  problems: string[];
  figures: {
    /** Told approvals not at the wallet exactly once (settled, or rejected as an accepted loss). */
    lost: number;
    /** What the wallet's settled entries say the store took: settled approvals less voids and refunds. */
    settledTotal: number;
    /** What the accounts' balances went down by since the run began. */
    balancesMoved: number;
  };
}

/**
 * The wallet's copy of the store's ledger, as the sandbox serves it (GET /v1/sandbox/stores/:storeId/settled), after
 * the drain: the same entries as the gateway's ledger, each once, in a chain that verifies from genesis, each marked
 * as the gateway marked it; every told approval there once; and the balances moved by exactly what it settled.
 */
export function auditWalletCopy(options: {
  gateway: Db;
  settled: readonly SettledEntry[];
  told: readonly ToldApproved[];
  /** Per account: its balance when the run began and now. */
  balances: ReadonlyMap<string, { before: number; after: number }>;
  lossReasons?: readonly string[];
}): WalletCopyAudit {
  const { settled, balances } = options;
  const problems: string[] = [];
  const chain = findChainBreak(settled, 0, GENESIS_HASH);
  if (chain !== null) problems.push(`wallet copy: chain breaks at seq ${chain.seq} (${chain.problem})`);
  compareWithGateway(options.gateway, settled, problems);
  const lost = checkToldAtWallet(options.told, settled, options.lossReasons ?? [], problems);
  const taken = takenPerAccount(settled);
  let balancesMoved = 0;
  for (const account of new Set([...balances.keys(), ...taken.keys()])) {
    const balance = balances.get(account);
    const moved = balance === undefined ? 0 : balance.before - balance.after;
    balancesMoved += moved;
    if (moved !== (taken.get(account) ?? 0))
      problems.push(`account ${account}: wallet settled ${taken.get(account) ?? 0}, balance moved ${moved}`);
  }
  const settledTotal = [...taken.values()].reduce((sum, v) => sum + v, 0);
  const shown = problems.slice(0, PROBLEMS_SHOWN);
  if (problems.length > PROBLEMS_SHOWN) shown.push(`… and ${problems.length - PROBLEMS_SHOWN} more`);
  return { problems: shown, figures: { lost, settledTotal, balancesMoved } };
}

/** Entry by entry: the same seq, id and hash as the gateway's, and the wallet's status as sync/ recorded it. */
function compareWithGateway(gateway: Db, settled: readonly SettledEntry[], problems: string[]): void {
  const rows = gateway
    .prepare(
      `SELECT l.seq, l.entry_id, l.hash, o.status FROM ledger l
       LEFT JOIN outbox o ON o.ledger_seq = l.seq AND o.kind = 'ledger_entry' ORDER BY l.seq`,
    )
    .all() as { seq: number; entry_id: string; hash: string; status: string | null }[];
  if (rows.length !== settled.length)
    problems.push(`wallet copy: ${settled.length} entries, gateway ledger ${rows.length}`);
  rows.forEach((row, i) => {
    const copy = settled[i];
    if (copy === undefined) return;
    if (copy.seq !== row.seq || copy.entryId !== row.entry_id || copy.hash !== row.hash)
      problems.push(`wallet copy: entry ${i + 1} is seq ${copy.seq}, gateway has seq ${row.seq} there`);
    const marked = row.status === 'done' ? 'settled' : row.status;
    if (copy.status !== marked)
      problems.push(`wallet copy: seq ${row.seq} ${copy.status} at the wallet, ${row.status} in the outbox`);
  });
}

function checkToldAtWallet(
  told: readonly ToldApproved[],
  settled: readonly SettledEntry[],
  lossReasons: readonly string[],
  problems: string[],
): number {
  const byPayment = new Map<string, SettledEntry[]>();
  for (const e of settled) {
    if (e.type !== 'authorization') continue;
    byPayment.set(e.paymentId, [...(byPayment.get(e.paymentId) ?? []), e]);
  }
  let lost = 0;
  for (const t of told) {
    const entries = byPayment.get(t.paymentId) ?? [];
    const entry = entries[0];
    // An offline approval voided before its upload: the void's reversal reached the wallet first.
    const voidedFirst = entry?.reason === 'reversed' && (t.states ?? []).includes('voided');
    const accepted =
      entry !== undefined &&
      (entry.status === 'settled' ||
        (entry.mode === 'offline' && (voidedFirst || lossReasons.includes(entry.reason ?? ''))));
    if (entries.length !== 1 || !accepted || entry.amount !== t.amount) {
      lost += 1;
      const statuses = entries.map((e) => `${e.status}${e.reason ? `:${e.reason}` : ''}`).join(',');
      problems.push(
        `told approved ${t.paymentId} (${t.amount}, ${t.states ?? 'approved'}): at the wallet [${statuses}]`,
      );
    }
  }
  return lost;
}

/**
 * Per account, what the settled entries took: each settled approval less its settled refunds, nothing at all once
 * it was voided or reversed (the wallet credits back what is left); a rejected approval took nothing.
 */
function takenPerAccount(settled: readonly SettledEntry[]): Map<string, number> {
  const byAuthorization = new Map<string, { account: string; amount: number }>();
  const reversed = new Set<string>();
  const refunds = new Map<string, number>();
  for (const e of settled) {
    if (e.status !== 'settled') continue;
    if (e.type === 'authorization' && e.accountId !== undefined)
      byAuthorization.set(e.authorizationId, { account: e.accountId, amount: e.amount });
    else if (e.type === 'void' || e.type === 'reversal') reversed.add(e.authorizationId);
    else if (e.type === 'refund')
      refunds.set(e.authorizationId, (refunds.get(e.authorizationId) ?? 0) + e.amount);
  }
  const taken = new Map<string, number>();
  for (const [id, approval] of byAuthorization) {
    const kept = reversed.has(id) ? 0 : approval.amount - (refunds.get(id) ?? 0);
    taken.set(approval.account, (taken.get(approval.account) ?? 0) + kept);
  }
  return taken;
}

/**
 * Payments a register was told are declined: none has an authorization entry in the ledger, and the wallet holds
 * no standing approval of one (an approval the wallet made while the gateway could not hear it must be reversed).
 */
export function auditToldDeclined(options: {
  gateway: Db;
  wallet: Database.Database;
  declined: readonly string[];
}): string[] {
  const problems: string[] = [];
  const payment = options.gateway.prepare<[string], { authorization_id: string | null }>(
    'SELECT authorization_id FROM payments WHERE id = ?',
  );
  const entries = options.gateway.prepare<[string], { n: number }>(
    "SELECT count(*) AS n FROM ledger WHERE payment_id = ? AND type = 'authorization'",
  );
  const atWallet = options.wallet.prepare<[string], { status: string; reversed: number }>(
    'SELECT status, reversed FROM authorizations WHERE id = ?',
  );
  for (const id of options.declined) {
    if (entries.get(id)!.n > 0) problems.push(`told declined ${id}: an authorization entry in the ledger`);
    const authorizationId = payment.get(id)?.authorization_id;
    if (authorizationId == null) continue;
    const held = atWallet.get(authorizationId);
    if (held?.status === 'approved' && held.reversed === 0)
      problems.push(`told declined ${id}: the wallet holds approval ${authorizationId}, not reversed`);
  }
  return problems.slice(0, PROBLEMS_SHOWN);
}

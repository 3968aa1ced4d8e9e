// `tillgate sync`: uploads the ledger backlog now, with a progress bar, then sends due reversals (and refunds, when
// the caller can settle them) and prints a summary. It takes the uploader lease, so it never races a running gateway:
// while the gateway holds the lease, it follows the backlog going down instead, for at most --wait-sec.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SingleBar } from 'cli-progress';
import { integerOption, parseCommandArgs } from '../gateway/cli/args.js';
import {
  type CliIo,
  type Command,
  failure,
  printJson,
  type TextSink,
  usageError,
} from '../gateway/cli/command.js';
import { loadConfigFile } from '../gateway/cli/config-file.js';
import { DEFAULT_DATA_DIR, dataDirOf, GATEWAY_DB_FILE } from '../gateway/cli/demo-file.js';
import { stopSignal } from '../gateway/cli/stop.js';
import type { Config } from '../gateway/config.js';
import { type Db, openDatabase } from '../gateway/db/open.js';
import { createLogger } from '../gateway/log.js';
import { HttpWalletClient } from '../gateway/wallet-client/http-wallet-client.js';
import { backoffDelayMs, sleep } from './backoff.js';
import type { RefundSettled } from './call-sender.js';
import { Lease } from './lease.js';
import { type CommandIo, runStandalone } from './standalone.js';
import { type SyncStatus, syncStatus } from './status.js';
import { emptySummary, SyncWorker, UPLOADER_LEASE, type UploadSummary } from './worker.js';

/** With --data DIR and no --config, the gateway's configuration (wallet URL and store key) is looked for here. */
export const DATA_DIR_CONFIG_NAME = 'gateway.json';

const OPTIONS = {
  config: { type: 'string' },
  data: { type: 'string' },
  'wait-sec': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const WAIT_SEC_DEFAULT = 60;
const LEASE_POLL_MS = 500;
const RETRY = { initialDelayMs: 500, maxDelayMs: 10_000 };
/**
 * SQLite's page cache for this command's connection, in KiB (SQLite's own default; better-sqlite3 builds with
 * 16 MB). The upload reads the ledger and the outbox once, in order, so a larger cache only holds pages that are
 * not read again: filled, it was 16 MB of this command's peak memory on a backlog of 1,000,000 entries.
 */
const PAGE_CACHE_KIB = 2_000;

export interface SyncCommandHooks {
  /** The payments side's refund settlement for this database; without it, refunds are left to the gateway. */
  refundSettler?: (db: Db) => RefundSettled;
}

export function makeSyncCommand(hooks: SyncCommandHooks = {}): Command {
  return {
    name: 'sync',
    summary: 'upload the ledger backlog to the wallet now, with a progress bar',
    usage: `Usage: tillgate sync [--config FILE | --data DIR] [--wait-sec N] [--json]

Uploads every ledger entry the wallet has not answered yet, in batches, then sends the reversals that are due,
and prints what the wallet settled and rejected (store losses). While a running gateway holds the uploader
lease, follows its progress instead. Exit status 1 when entries are left, or the wallet refuses the chain.

  --config FILE   the gateway config: its dataDir holds the database, its wallet section the URL and store key
  --data DIR      the data directory instead (default ./${DEFAULT_DATA_DIR}); the config is DIR/${DATA_DIR_CONFIG_NAME} if there
  --wait-sec N    stop retrying (or following a running gateway) after N seconds (default ${WAIT_SEC_DEFAULT})
  --json          print {run, status} as JSON instead of the summary`,
    run: (argv, io) => runSync(argv, io, hooks),
  };
}

export const syncCommand: Command = makeSyncCommand();

/** `tillgate sync ARGV` with its exit status, for callers outside the dispatcher. */
export function runSyncCommand(argv: string[], io: CommandIo, hooks?: SyncCommandHooks): Promise<number> {
  return runStandalone(makeSyncCommand(hooks), argv, io);
}

async function runSync(argv: string[], io: CliIo, hooks: SyncCommandHooks): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  if (values.config !== undefined && values.data !== undefined)
    throw usageError('give --config or --data, not both');
  const waitSec =
    integerOption(values['wait-sec'], '--wait-sec', { min: 0, max: 86_400 }) ?? WAIT_SEC_DEFAULT;
  const { dbFile, config } = locate(io, values);
  if (!existsSync(dbFile)) throw failure(`no gateway database at ${dbFile}`);
  const db = openDatabase(dbFile);
  try {
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    const round = config === null ? followOnly(db) : uploadRound(db, config, io.stderr, hooks);
    const run = await withProgress(round, pendingOf(db), io, waitSec);
    const status = syncStatus(db);
    if (values.json) printJson(io, { run, status });
    else io.stdout.write(describe(run, status, hooks.refundSettler !== undefined));
    return run.ok && status.pending === 0 && status.chainBroken === undefined ? 0 : 1;
  } finally {
    db.close();
  }
}

function locate(io: CliIo, values: { config?: string | undefined; data?: string | undefined }) {
  if (values.config !== undefined) {
    const config = loadConfigFile(io, values.config);
    return { dbFile: join(config.dataDir, GATEWAY_DB_FILE), config };
  }
  const dataDir = dataDirOf(io, values.data);
  const configFile = join(dataDir, DATA_DIR_CONFIG_NAME);
  const config = existsSync(configFile) ? { ...loadConfigFile(io, configFile), dataDir } : null;
  return { dbFile: join(dataDir, GATEWAY_DB_FILE), config };
}

type Round = (signal: AbortSignal, onEntries: (n: number) => void) => Promise<UploadSummary>;

function uploadRound(db: Db, config: Config, stderr: TextSink, hooks: SyncCommandHooks): Round {
  // Errors only (a refused chain, loudly): the summary says the rest, and warnings would break up the bar.
  const level = config.log.level === 'silent' ? 'silent' : 'error';
  const logger = createLogger({ level, destination: stderr, name: 'tillgate-sync' });
  const worker = new SyncWorker({
    db,
    wallet: new HttpWalletClient({ url: config.wallet.url, storeKey: config.wallet.storeKey }),
    storeId: config.storeId,
    config: config.sync,
    logger: logger.child({ module: 'sync' }),
    now: Date.now,
    random: Math.random,
    onRefundSettled: hooks.refundSettler?.(db),
  });
  return (signal, onEntries) =>
    worker.pass(signal, { retryBrokenChain: true, onBatch: (step) => onEntries(step.entries) });
}

/** Without the wallet's URL and key: only a running gateway can upload; this watches it do so. */
function followOnly(db: Db): Round {
  const lease = new Lease(db, UPLOADER_LEASE, 1_000);
  const pending = pendingOf(db);
  return async () => {
    const holder = lease.current();
    const left = pending();
    if (holder !== null && holder.expiresAt > Date.now())
      return { ...emptySummary(), ok: false, pending: left, leaseBusy: holder };
    if (left === 0) return { ...emptySummary(), pending: 0 };
    throw failure(
      `${left} entries wait and no gateway is uploading them; pass --config FILE so this command can`,
    );
  };
}

function pendingOf(db: Db): () => number {
  const statement = db.prepare<[], { n: number }>(
    "SELECT count(*) AS n FROM outbox WHERE kind = 'ledger_entry' AND status = 'pending'",
  );
  return () => statement.get()!.n;
}

/** Rounds until the backlog is empty, the chain is refused, or --wait-sec of failures or of waiting has passed. */
async function withProgress(
  round: Round,
  pending: () => number,
  io: CliIo,
  waitSec: number,
): Promise<UploadSummary> {
  const stop = stopSignal(io);
  const bar = await progressBar(io.stderr);
  const total = emptySummary();
  const giveUpAt = Date.now() + waitSec * 1000;
  let size = pending();
  let failures = 0;
  bar.start(size, 0);
  try {
    for (;;) {
      const run = await round(stop, (n) => bar.increment(n));
      addUp(total, run);
      size = Math.max(size, run.pending + total.entries);
      bar.setTotal(size);
      bar.update(size - run.pending);
      if (stop.aborted || run.chainBroken || (run.pending === 0 && (run.ok || run.leaseBusy))) break;
      failures = run.ok || run.leaseBusy ? 0 : failures + 1;
      if (Date.now() >= giveUpAt) break;
      await sleep(run.leaseBusy ? LEASE_POLL_MS : backoffDelayMs(RETRY, failures, Math.random), stop);
    }
  } finally {
    bar.stop();
  }
  if (stop.aborted) return { ...total, ok: false, error: 'interrupted' };
  // A running gateway holding the lease and emptying the backlog is what was asked for.
  if (total.leaseBusy && total.pending === 0) total.ok = true;
  return total;
}

/** cli-progress is imported when a bar is drawn: every command loads this module (see commands.ts). */
async function progressBar(stderr: TextSink): Promise<SingleBar> {
  const { SingleBar } = await import('cli-progress');
  const stream = stderr as NodeJS.WritableStream & { isTTY?: boolean };
  return new SingleBar({
    stream,
    format: 'uploading |{bar}| {value}/{total} entries | {percentage}% | {eta_formatted} left',
    barsize: 30,
    hideCursor: true,
    noTTYOutput: stream.isTTY !== true,
    notTTYSchedule: 2_000,
    etaBuffer: 50,
  });
}

/** Adds one round into the running total; the last round decides `ok`, `pending` and what went wrong. */
function addUp(total: UploadSummary, run: UploadSummary): void {
  for (const key of ['batches', 'entries', 'settled', 'rejected', 'lossAmount', 'durationMs'] as const)
    total[key] += run[key];
  for (const key of ['done', 'rejected', 'failed', 'deferred'] as const) total.calls[key] += run.calls[key];
  total.ok = run.ok;
  total.pending = run.pending;
  for (const key of ['error', 'chainBroken', 'leaseBusy'] as const) {
    if (run[key] === undefined) delete total[key];
    else Object.assign(total, { [key]: run[key] });
  }
}

function describe(run: UploadSummary, status: SyncStatus, refundsHere: boolean): string {
  const refundsNote = refundsHere ? '' : ' (refunds are sent by the running gateway)';
  const lines = [
    `uploaded ${run.entries} ledger entries in ${run.batches} batches: ${run.settled} settled, ${run.rejected} rejected (${(run.durationMs / 1000).toFixed(1)} s)`,
    `reversals/refunds: ${run.calls.done} confirmed, ${run.calls.rejected} refused, ${run.calls.failed} failed${refundsNote}`,
    `backlog: ${status.pending} entries pending, ${status.pendingReversals} reversals, ${status.pendingRefunds} refunds`,
    `all time: ${status.settled} settled, ${status.rejected} rejected; store losses ${status.lossAmount} in ${status.lossCount} approvals`,
  ];
  if (run.leaseBusy)
    lines.push(`the running gateway (${run.leaseBusy.holder}) holds the uploader lease and uploads`);
  if (status.chainBroken) {
    const { seq, problem } = status.chainBroken;
    lines.push(
      `CHAIN BROKEN: the wallet refuses this ledger at seq ${seq} (${problem}); run tillgate verify-ledger`,
    );
  } else if (run.error) lines.push(`last error: ${run.error}`);
  return `${lines.join('\n')}\n`;
}

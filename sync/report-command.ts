// `tillgate report incident`: every ledger entry of the given accounts (and the voids and refunds of their payments),
// with what the wallet made of it — settled, rejected and why, or still pending — as CSV for compensation.
// Reads the database without writing to it.
import { join } from 'node:path';
import { parseCommandArgs } from '../gateway/cli/args.js';
import { type CliIo, type Command, failure, usageError } from '../gateway/cli/command.js';
import { loadConfigFile } from '../gateway/cli/config-file.js';
import { DEFAULT_DATA_DIR, dataDirOf, GATEWAY_DB_FILE } from '../gateway/cli/demo-file.js';
import { openReadOnly } from '../gateway/cli/readonly-db.js';
import { type CommandIo, runStandalone } from './standalone.js';

const OPTIONS = {
  account: { type: 'string', multiple: true },
  from: { type: 'string' },
  to: { type: 'string' },
  config: { type: 'string' },
  data: { type: 'string' },
} as const;

const ACCOUNTS_MAX = 1_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export const reportCommand: Command = {
  name: 'report',
  summary:
    'report incident: CSV of every ledger entry of some accounts, with its sync status, for compensation',
  usage: `Usage: tillgate report incident --account ID[,ID...] [--from RFC3339] [--to RFC3339] [--config FILE | --data DIR]

Writes CSV to stdout: every ledger entry of the accounts' payments (voids and refunds included) that occurred
between --from and --to (both included), with what the wallet made of it (settled, rejected and its reason,
pending), and the amount lost where the wallet rejected an approval nothing took back. Totals go to stderr.

  --account ID    16 hex characters; repeat it or separate ids with commas (at most ${ACCOUNTS_MAX})
  --from, --to    RFC 3339 times, e.g. 2026-01-01T09:00:00+09:00
  --config FILE   the gateway config; its dataDir holds the database
  --data DIR      the data directory instead (default ./${DEFAULT_DATA_DIR})`,
  run: runReport,
};

/** `tillgate report ARGV` with its exit status, for callers outside the dispatcher. */
export function runReportCommand(argv: string[], io: CommandIo): Promise<number> {
  return runStandalone(reportCommand, argv, io);
}

export const INCIDENT_COLUMNS = [
  'seq',
  'occurred_at',
  'entry_id',
  'type',
  'mode',
  'payment_id',
  'authorization_id',
  'account_id',
  'device_id',
  'counter',
  'amount',
  'currency',
  'lane_id',
  'register_id',
  'sync_status',
  'sync_reason',
  'synced_at',
  'loss_amount',
] as const;

interface IncidentRow {
  seq: number;
  occurred_at: string;
  entry_id: string;
  type: string;
  mode: string;
  payment_id: string;
  authorization_id: string;
  account_id: string | null;
  device_id: string | null;
  counter: number | null;
  amount: number;
  currency: string;
  lane_id: string;
  register_id: string;
  status: 'pending' | 'done' | 'rejected' | null;
  reason: string | null;
  done_at: number | null;
  loss_amount: number;
}

interface Options {
  accounts: string[];
  fromMs: number;
  toMs: number;
}

const INCIDENT_SQL = `SELECT l.*, o.status, o.result_reason AS reason, o.done_at,
    CASE WHEN EXISTS (SELECT 1 FROM sync_losses s WHERE s.seq = l.seq) THEN l.amount ELSE 0 END AS loss_amount
  FROM ledger l LEFT JOIN outbox o ON o.ledger_seq = l.seq AND o.kind = 'ledger_entry'
  WHERE l.payment_id IN (SELECT payment_id FROM ledger WHERE account_id IN (SELECT value FROM json_each(?)))
  ORDER BY l.seq`;

async function runReport(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, {
    min: 1,
    max: 1,
    name: 'the report (incident)',
  });
  if (positionals[0] !== 'incident')
    throw usageError(`no report ${JSON.stringify(positionals[0])}; try incident`);
  if (values.config !== undefined && values.data !== undefined)
    throw usageError('give --config or --data, not both');
  const options = parseIncident(values);
  const dataDir =
    values.config === undefined ? dataDirOf(io, values.data) : loadConfigFile(io, values.config).dataDir;
  const opened = openReadOnly(join(dataDir, GATEWAY_DB_FILE));
  try {
    const rows = opened.db
      .prepare<[string], IncidentRow>(INCIDENT_SQL)
      .iterate(JSON.stringify(options.accounts));
    const totals = writeCsv(io, rows, options);
    io.stderr.write(
      `${totals.entries} entries for ${options.accounts.length} account(s): ${totals.rejected} rejected ` +
        `(loss ${totals.lossAmount}), ${totals.pending} pending\n`,
    );
    return 0;
  } catch (error) {
    throw failure(`cannot read the ledger: ${(error as Error).message}`, error);
  } finally {
    opened.close();
  }
}

function parseIncident(values: {
  account?: string[] | undefined;
  from?: string | undefined;
  to?: string | undefined;
}): Options {
  const ids = (values.account ?? []).flatMap((v) => v.split(',')).map((v) => v.trim().toLowerCase());
  const accounts = [...new Set(ids)];
  if (accounts.length === 0) throw usageError('--account is required');
  if (accounts.length > ACCOUNTS_MAX) throw usageError(`--account: at most ${ACCOUNTS_MAX} accounts`);
  const bad = accounts.find((a) => !/^[0-9a-f]{16}$/.test(a));
  if (bad !== undefined)
    throw usageError(`--account: ${JSON.stringify(bad.slice(0, 40))} is not 16 hex characters`);
  const fromMs = values.from === undefined ? Number.NEGATIVE_INFINITY : parseTime('--from', values.from);
  const toMs = values.to === undefined ? Number.POSITIVE_INFINITY : parseTime('--to', values.to);
  if (fromMs > toMs) throw usageError('--from is after --to');
  return { accounts, fromMs, toMs };
}

function parseTime(flag: string, text: string): number {
  const ms = Date.parse(text);
  if (!RFC3339.test(text) || Number.isNaN(ms))
    throw usageError(`${flag}: an RFC 3339 time such as 2026-01-01T09:00:00+09:00`);
  return ms;
}

function writeCsv(io: CliIo, rows: Iterable<IncidentRow>, options: Options) {
  const totals = { entries: 0, rejected: 0, pending: 0, lossAmount: 0 };
  io.stdout.write(`${INCIDENT_COLUMNS.join(',')}\n`);
  for (const row of rows) {
    const at = Date.parse(row.occurred_at);
    if (!(at >= options.fromMs && at <= options.toMs)) continue;
    const status = syncStatusOf(row.status);
    totals.entries += 1;
    if (status === 'rejected') totals.rejected += 1;
    if (status === 'pending') totals.pending += 1;
    totals.lossAmount += row.loss_amount;
    const record = {
      ...row,
      sync_status: status,
      sync_reason: row.reason,
      synced_at: row.done_at === null ? null : new Date(row.done_at).toISOString(),
    };
    io.stdout.write(`${INCIDENT_COLUMNS.map((column) => csvField(record[column])).join(',')}\n`);
  }
  return totals;
}

function syncStatusOf(status: IncidentRow['status']): string {
  if (status === null) return 'not_queued';
  return status === 'done' ? 'settled' : status;
}

/** RFC 4180: quoted when it holds a comma, quote or line break; a leading formula character is neutralised. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

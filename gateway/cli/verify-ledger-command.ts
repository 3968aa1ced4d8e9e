// `tillgate verify-ledger`: walks the gateway's hash-chained ledger (gateway/ledger) from the genesis hash
// and says whether every entry links and hashes; exit 1 at the first break. It also checks the store's unsynced
// offline counter against the sum it stands for (gateway/offline/state.ts). It never writes to the database.
import { join } from 'node:path';
import type { ChainReport } from '../ledger/ledger.js';
import { Ledger } from '../ledger/ledger.js';
import { checkStoreExposure, type ExposureCheck } from '../offline/state.js';
import { parseCommandArgs } from './args.js';
import {
  type CliIo,
  type Command,
  EXIT_FAILURE,
  EXIT_OK,
  failure,
  printJson,
  usageError,
} from './command.js';
import { loadConfigFile } from './config-file.js';
import { DEFAULT_DATA_DIR, dataDirOf, GATEWAY_DB_FILE } from './demo-file.js';
import { openReadOnly } from './readonly-db.js';

const OPTIONS = {
  config: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const PROBLEMS: Record<NonNullable<ChainReport['break']>['problem'], string> = {
  seq_gap: 'its sequence number does not follow the entry before it',
  prev_hash_mismatch: 'its prevHash is not the hash of the entry before it',
  hash_mismatch: 'its contents do not match its hash (the row was changed)',
};

export const verifyLedgerCommand: Command = {
  name: 'verify-ledger',
  summary: "check the gateway ledger's hash chain",
  usage: `Usage: tillgate verify-ledger [--config FILE | --data DIR] [--json]

Reads DATADIR/${GATEWAY_DB_FILE} without writing to it and checks every ledger entry's sequence number,
prevHash and hash, and that the offline counters — the store's unsynced total, each device's unsynced total and
consecutive count — equal what its ledger entries and outbox rows give. Exit status 1 when the chain is broken or
a counter is off.

  --config FILE  the gateway config; its dataDir holds the database
  --data DIR     the data directory instead (default ./${DEFAULT_DATA_DIR})
  --json         print {ok, entries, headSeq, headHash, break?,
                 exposure?: {counter, derived, ok, devices?: {checked, mismatched, mismatches}}}`,
  run: runVerifyLedger,
};

async function runVerifyLedger(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  if (values.config !== undefined && values.data !== undefined)
    throw usageError('give --config or --data, not both');
  const dataDir =
    values.config === undefined ? dataDirOf(io, values.data) : loadConfigFile(io, values.config).dataDir;
  const file = join(dataDir, GATEWAY_DB_FILE);
  const report = verifyFile(file, io);
  if (values.json) printJson(io, report);
  if (report.break !== undefined) {
    const { seq, problem } = report.break;
    io.stderr.write(
      `tillgate verify-ledger: the ledger chain is broken at seq ${seq}: ${PROBLEMS[problem]}; every entry before it checks\n`,
    );
    return EXIT_FAILURE;
  }
  if (report.exposure?.ok === false) {
    io.stderr.write(exposureProblems(report.exposure));
    return EXIT_FAILURE;
  }
  if (!values.json) io.stdout.write(summary(report, file));
  return EXIT_OK;
}

type VerifyReport = ChainReport & { exposure?: ExposureCheck };

/** One line per counter that is off, then what to do; offline limits were decided against the counters. */
function exposureProblems(exposure: ExposureCheck): string {
  const lines: string[] = [];
  if (exposure.counter !== exposure.derived) {
    lines.push(
      `the store's unsynced offline counter says ${exposure.counter} but its ledger entries sum to ${exposure.derived}`,
    );
  }
  for (const { deviceId, counter, derived } of exposure.devices?.mismatches ?? []) {
    lines.push(
      `device ${deviceId}: its counters say unsynced ${counter.unsyncedTotal}, consecutive ${counter.consecutive}; ` +
        `its ledger entries give ${derived.unsyncedTotal}, ${derived.consecutive}`,
    );
  }
  const devices = exposure.devices;
  if (devices !== undefined && devices.mismatched > devices.mismatches.length) {
    lines.push(
      `and ${devices.mismatched - devices.mismatches.length} more devices (--json lists the first ${devices.mismatches.length})`,
    );
  }
  const cause = 'offline limits were decided against the counters: report this, and keep the file';
  return lines.map((line) => `tillgate verify-ledger: ${line}; ${cause}\n`).join('');
}

function verifyFile(file: string, io: CliIo): VerifyReport {
  const opened = openReadOnly(file);
  try {
    if (opened.note !== undefined) io.stderr.write(`note: ${opened.note}\n`);
    const report: VerifyReport = new Ledger(opened.db).verify();
    const exposure = checkStoreExposure(opened.db);
    if (exposure !== null) report.exposure = exposure;
    return report;
  } catch (error) {
    throw failure(`cannot read the ledger in ${file}: ${(error as Error).message}`, error);
  } finally {
    opened.close();
  }
}

function summary(report: VerifyReport, file: string): string {
  const entries = `${report.entries} ${report.entries === 1 ? 'entry' : 'entries'}`;
  return `ledger chain intact: ${entries} in ${file}\nhead: seq ${report.headSeq}, hash ${report.headHash}\n`;
}

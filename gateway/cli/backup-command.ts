// `tillgate backup`: a consistent copy of the gateway's database with SQLite's online backup API (better-sqlite3
// db.backup), safe while the gateway takes payments. The copy is written beside its destination, made a single
// self-contained file (journal_mode DELETE), checked whole, and only then renamed into place (mode 0600).
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { parseCommandArgs, requiredOption } from './args.js';
import { type CliIo, type Command, EXIT_OK, failure, printJson, workingDir } from './command.js';
import { checkCopy, describeCopy, locateDatabase } from './database-copy.js';
import { DEFAULT_DATA_DIR } from './demo-file.js';
import { openReadOnly } from './readonly-db.js';

const OPTIONS = {
  config: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const backupCommand: Command = {
  name: 'backup',
  summary: "copy the gateway's database, safely while it runs",
  usage: `Usage: tillgate backup [--config FILE | --data DIR] --out FILE|DIR [--force] [--json]

Copies DATADIR/gateway.sqlite with SQLite's online backup API: the gateway keeps taking payments, and the copy is
one consistent moment of the ledger, payments, replay counters and sync state. The copy is checked (integrity,
ledger hash chain) before it is renamed into place, mode 0600. Restore it with \`tillgate restore\`.

  --config FILE  the gateway config; its dataDir holds the database
  --data DIR     the data directory instead (default ./${DEFAULT_DATA_DIR})
  --out FILE     where the copy goes; an existing directory gets gateway-YYYYMMDDTHHMMSSZ.sqlite inside it
  --force        replace FILE if it exists
  --json         print {file, bytes, schemaVersion, ledger: {entries, headSeq, headHash}, payments, pendingUploads}`,
  run: runBackup,
};

async function runBackup(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const source = locateDatabase(io, values);
  const out = destination(resolve(workingDir(io), requiredOption(values.out, '--out')));
  if (existsSync(out) && !values.force) throw failure(`${out} exists; give --force to replace it`);
  const temp = `${out}.${process.pid}.partial`;
  try {
    await copyOnline(source.file, temp, io);
    const summary = checkCopy(temp, statSync(temp).size);
    renameSync(temp, out);
    const result = { ...summary, file: out };
    if (values.json) printJson(io, result);
    else io.stdout.write(`backup of ${source.file} written to ${out}\n${describeCopy(result)}\n`);
    return EXIT_OK;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** A directory gets a file named for the moment (UTC), so a timer can keep many. */
function destination(out: string): string {
  if (!existsSync(out) || !statSync(out).isDirectory()) return out;
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return join(out, `gateway-${stamp}.sqlite`);
}

async function copyOnline(sourceFile: string, target: string, io: CliIo): Promise<void> {
  const source = openReadOnly(sourceFile);
  try {
    if (source.note !== undefined) io.stderr.write(`note: ${source.note}\n`);
    // Made empty and private first: the copy is never readable by others, not even while it is written.
    writeFileSync(target, '', { mode: 0o600, flag: 'wx' });
    await source.db.backup(target);
  } catch (error) {
    throw failure(`cannot copy ${sourceFile} to ${target}: ${(error as Error).message}`, error);
  } finally {
    source.close();
  }
  const copy = new Database(target);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  chmodSync(target, 0o600);
  const fd = openSync(target, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

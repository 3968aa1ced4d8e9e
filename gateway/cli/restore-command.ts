// `tillgate restore`: puts a copy made by `tillgate backup` in place of the gateway's database. The copy is checked
// before anything is touched; a running gateway (it holds the file open) is refused; the database it replaces is
// kept beside it, never deleted. What a restore means for the ledger upstream is in docs/deployment.md.
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { sqlitePrimaryCode } from '../errors.js';
import { parseCommandArgs, requiredOption } from './args.js';
import { type CliIo, type Command, EXIT_OK, failure, printJson, workingDir } from './command.js';
import { checkCopy, describeCopy, locateDatabase } from './database-copy.js';
import { DEFAULT_DATA_DIR } from './demo-file.js';

const OPTIONS = {
  from: { type: 'string' },
  config: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'put a backup in place of the gateway database (gateway stopped)',
  usage: `Usage: tillgate restore --from FILE [--config FILE | --data DIR] [--json]

Replaces DATADIR/gateway.sqlite with FILE, a copy made by \`tillgate backup\`. Stop the gateway first
(systemctl stop tillgate): restore refuses while a process holds the database. FILE is checked (integrity, schema,
ledger hash chain) before anything changes; the database it replaces is kept as gateway.sqlite.replaced-TIME.
Afterwards start the gateway and run \`tillgate sync\`; read docs/deployment.md (Backup and restore) first.

  --from FILE    the backup
  --config FILE  the gateway config; its dataDir holds the database
  --data DIR     the data directory instead (default ./${DEFAULT_DATA_DIR})
  --json         print {restoredFrom, file, replacedKeptAs, ledger, payments, pendingUploads}`,
  run: runRestore,
};

async function runRestore(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const from = resolve(workingDir(io), requiredOption(values.from, '--from'));
  const target = locateDatabase(io, values);
  if (!existsSync(from)) throw failure(`no backup at ${from}`);
  const summary = checkCopy(from, statSync(from).size);
  mkdirSync(target.dataDir, { recursive: true, mode: 0o700 });
  if (existsSync(target.file)) assertNotInUse(target.file);
  const keptAs = existsSync(target.file) ? setAside(target.file) : null;
  const temp = `${target.file}.restoring`;
  copyFileSync(from, temp);
  chmodSync(temp, 0o600);
  matchOwner(temp, target.dataDir);
  renameSync(temp, target.file);
  const result = { ...summary, restoredFrom: from, file: target.file, replacedKeptAs: keptAs };
  if (values.json) printJson(io, result);
  else {
    io.stdout.write(
      [
        `restored ${target.file} from ${from}`,
        describeCopy(result),
        keptAs === null
          ? '  (there was no database before)'
          : `  the database it replaced is kept as ${keptAs}`,
        'Start the gateway, then run `tillgate sync` and check `tillgate status` (docs/deployment.md).',
        '',
      ].join('\n'),
    );
  }
  return EXIT_OK;
}

/**
 * A running gateway keeps the database open; an exclusive lock is then impossible. A file SQLite cannot read as a
 * database (a damaged one: what a restore is for) cannot be locked this way, and no gateway starts on it: it is
 * replaced, and kept beside.
 */
function assertNotInUse(file: string): void {
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (error) {
    const code = sqlitePrimaryCode(error);
    if (code === 'SQLITE_BUSY') {
      throw failure(`${file} is in use: stop the gateway (and any tillgate sync) first`, error);
    }
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return;
    throw failure(`cannot check ${file}: ${(error as Error).message}`, error);
  } finally {
    db.close();
  }
}

/** Moves the database and its WAL aside under one name; the -shm index is rebuilt by SQLite and is removed. */
function setAside(file: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const keptAs = `${file}.replaced-${stamp}`;
  renameSync(file, keptAs);
  if (existsSync(`${file}-wal`)) renameSync(`${file}-wal`, `${keptAs}-wal`);
  rmSync(`${file}-shm`, { force: true });
  return keptAs;
}

/** Run as root for a service user, the restored file belongs to whoever owns the data directory. */
function matchOwner(file: string, dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = statSync(dataDir);
  chownSync(file, uid, gid);
}

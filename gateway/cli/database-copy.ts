// What `tillgate backup` and `tillgate restore` share: where the gateway's database is (--config or --data), and
// the check of a copy before anyone relies on it — SQLite's integrity check, a schema this tillgate knows, and the
// ledger's hash chain.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../db/migrations.js';
import { Ledger } from '../ledger/ledger.js';
import { type CliIo, failure, usageError } from './command.js';
import { loadConfigFile } from './config-file.js';
import { dataDirOf, GATEWAY_DB_FILE } from './demo-file.js';

export interface DatabaseLocation {
  dataDir: string;
  file: string;
}

export function locateDatabase(io: CliIo, values: { config?: string; data?: string }): DatabaseLocation {
  if (values.config !== undefined && values.data !== undefined)
    throw usageError('give --config or --data, not both');
  const dataDir =
    values.config === undefined ? dataDirOf(io, values.data) : loadConfigFile(io, values.config).dataDir;
  return { dataDir, file: join(dataDir, GATEWAY_DB_FILE) };
}

export interface CopySummary {
  file: string;
  bytes: number;
  schemaVersion: number;
  ledger: { entries: number; headSeq: number; headHash: string };
  payments: number;
  /** Ledger entries the wallet had not answered when the copy was taken. */
  pendingUploads: number;
}

/** Opens `file` read-only and checks it whole; a failure says what is wrong with it. */
export function checkCopy(file: string, bytes: number): CopySummary {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw failure(`cannot open ${file}: ${(error as Error).message}`, error);
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw failure(`${file} is damaged: ${String(integrity)}`);
    const schemaVersion = db.pragma('user_version', { simple: true }) as number;
    if (schemaVersion === 0) throw failure(`${file} is not a tillgate gateway database`);
    if (schemaVersion > MIGRATIONS.length) {
      throw failure(
        `${file} has schema ${schemaVersion}, newer than this tillgate (${MIGRATIONS.length}): upgrade first`,
      );
    }
    const chain = new Ledger(db).verify();
    if (chain.break !== undefined) {
      throw failure(`${file}: the ledger chain is broken at seq ${chain.break.seq} (${chain.break.problem})`);
    }
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      file,
      bytes,
      schemaVersion,
      ledger: { entries: chain.entries, headSeq: chain.headSeq, headHash: chain.headHash },
      payments: count('SELECT count(*) AS n FROM payments'),
      pendingUploads: count(
        "SELECT count(*) AS n FROM outbox WHERE kind = 'ledger_entry' AND status = 'pending'",
      ),
    };
  } catch (error) {
    if (
      (error as { code?: string }).code === 'SQLITE_NOTADB' ||
      (error as { code?: string }).code === 'SQLITE_CORRUPT'
    ) {
      throw failure(`${file} is not a readable SQLite database: ${(error as Error).message}`, error);
    }
    throw error;
  } finally {
    db.close();
  }
}

export function describeCopy(summary: CopySummary): string {
  const { ledger } = summary;
  return [
    `  ledger     ${ledger.entries} ${ledger.entries === 1 ? 'entry' : 'entries'}, chain intact; head #${ledger.headSeq} ${ledger.headHash.slice(0, 16)}…`,
    `  payments   ${summary.payments}`,
    `  not yet uploaded  ${summary.pendingUploads} ledger ${summary.pendingUploads === 1 ? 'entry' : 'entries'}`,
    `  size       ${summary.bytes} bytes, schema ${summary.schemaVersion}`,
  ].join('\n');
}

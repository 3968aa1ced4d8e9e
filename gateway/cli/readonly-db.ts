// Opens the gateway's SQLite file for reading only, whoever runs the command. A WAL database needs its
// -shm file; when the gateway is stopped (no -shm) and the directory is not writable by this user, SQLite
// cannot make one, so the file (and any -wal) is copied to a private temp directory and read there.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type Db, openDatabase } from '../db/open.js';
import { failure } from './command.js';

export interface ReadOnlyDb {
  db: Db;
  /** Set when a copy is read; says why. */
  note?: string;
  close(): void;
}

const CANNOT_MAKE_SHM = new Set(['SQLITE_READONLY_DIRECTORY', 'SQLITE_CANTOPEN', 'SQLITE_READONLY']);

export function openReadOnly(file: string): ReadOnlyDb {
  if (!existsSync(file)) throw failure(`no gateway database at ${file}`);
  try {
    const db = probe(openDatabase(file, { readonly: true }));
    return { db, close: () => db.close() };
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (!CANNOT_MAKE_SHM.has(code) || existsSync(`${file}-shm`)) {
      throw failure(`cannot read ${file}: ${(error as Error).message}`, error);
    }
    return openCopy(file);
  }
}

/** SQLite opens lazily: the first read is where a missing -shm shows. */
function probe(db: Db): Db {
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function openCopy(file: string): ReadOnlyDb {
  const dir = mkdtempSync(join(tmpdir(), 'tillgate-verify-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const copy = join(dir, basename(file));
    copyFileSync(file, copy);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
    const db = probe(openDatabase(copy, { readonly: true }));
    const note = `the gateway is stopped and ${file}'s directory is not writable by this user: read a private copy`;
    return {
      db,
      note,
      close: () => {
        db.close();
        remove();
      },
    };
  } catch (error) {
    remove();
    throw failure(`cannot read ${file} (not even a copy): ${(error as Error).message}`, error);
  }
}

// The sandbox wallet's own SQLite file: WAL + synchronous=FULL (a commit that returned is on disk),
// the schema by PRAGMA user_version, and small helpers that run SQL through a per-database statement cache.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;
export type SqlValue = string | number | bigint | Buffer | null;

/** One entry per schema version; never edit an entry that has shipped, add a new one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    balance INTEGER NOT NULL CHECK (balance >= 0),
    currency TEXT NOT NULL,
    frozen INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );

  -- Every balance change with the record that caused it; the UNIQUE cause makes a second debit impossible.
  CREATE TABLE movements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    amount INTEGER NOT NULL,
    cause TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE issuer_keys (
    kid INTEGER PRIMARY KEY CHECK (kid BETWEEN 0 AND 255),
    seed BLOB NOT NULL,
    public_key TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    public_key TEXT NOT NULL,
    kid INTEGER NOT NULL,
    certificate TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    offline_limit INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    -- The highest PC1 counter this wallet has seen for the device, from any store, online or offline.
    max_counter INTEGER NOT NULL DEFAULT -1
  );

  CREATE TABLE stores (
    store_id TEXT PRIMARY KEY,
    key_sha256 TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    rotated_at INTEGER NOT NULL
  );

  -- origin: an online request, an offline approval learnt from a ledger upload, or a reversal that came first.
  CREATE TABLE authorizations (
    id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('online','offline','reversal')),
    status TEXT NOT NULL CHECK (status IN ('approved','declined')),
    reason TEXT,
    lane_id TEXT,
    account_id TEXT,
    device_id TEXT,
    counter INTEGER,
    amount INTEGER,
    currency TEXT,
    code_sha256 TEXT,
    requested_at INTEGER,
    created_at INTEGER NOT NULL,
    reversed INTEGER NOT NULL DEFAULT 0,
    reversed_at INTEGER
  );
  CREATE INDEX authorizations_device_counter ON authorizations(device_id, counter) WHERE status = 'approved';

  CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    authorization_id TEXT NOT NULL REFERENCES authorizations(id),
    store_id TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    created_at INTEGER NOT NULL
  );
  CREATE INDEX refunds_authorization ON refunds(authorization_id);

  CREATE TABLE ledger_entries (
    store_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    hash TEXT NOT NULL,
    entry_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('settled','rejected')),
    reason TEXT,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (store_id, seq),
    UNIQUE (store_id, entry_id)
  );

  CREATE TABLE chain_heads (
    store_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE ledger_batches (
    store_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    response_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (store_id, batch_id)
  );

  CREATE TABLE numeric_codes (
    code_sha256 TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );

  -- seq is the feed cursor; AUTOINCREMENT so a cursor is never reused.
  CREATE TABLE risk_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
];

export function openWalletDb(file: string): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`SQLite refused WAL mode (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `wallet database schema version ${current} is newer than this tillgate (${MIGRATIONS.length})`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

function prepared(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (cache === undefined) {
    cache = new Map();
    statements.set(db, cache);
  }
  let statement = cache.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

export function one<Row>(db: Db, sql: string, ...params: SqlValue[]): Row | undefined {
  return prepared(db, sql).get(...params) as Row | undefined;
}

export function all<Row>(db: Db, sql: string, ...params: SqlValue[]): Row[] {
  return prepared(db, sql).all(...params) as Row[];
}

export function run(db: Db, sql: string, ...params: SqlValue[]): Database.RunResult {
  return prepared(db, sql).run(...params);
}

export function getMeta(db: Db, key: string): string | undefined {
  return one<{ value: string }>(db, 'SELECT value FROM meta WHERE key = ?', key)?.value;
}

export function setMeta(db: Db, key: string, value: string): void {
  run(
    db,
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    key,
    value,
  );
}

// Prepared statements kept per database handle: prepared on first use, dropped with the handle.
import type Database from 'better-sqlite3';
import type { Db } from '../gateway/db/open.js';

export type Statement = Database.Statement<unknown[]>;

/** A function giving, for a database handle, its own prepared copy of each named SQL statement. */
export function preparedOnce<K extends string>(sql: Record<K, string>): (db: Db) => Record<K, Statement> {
  const cache = new WeakMap<Db, Record<K, Statement>>();
  return (db) => {
    let statements = cache.get(db);
    if (statements === undefined) {
      const entries = Object.entries<string>(sql).map(([name, text]) => [name, db.prepare(text)]);
      statements = Object.fromEntries(entries) as Record<K, Statement>;
      cache.set(db, statements);
    }
    return statements;
  };
}

// Group commit on a real SQLite file (WAL, synchronous=FULL): what one turn writes is one COMMIT, invisible to
// other connections until then; durable() settles after it; a write that throws undoes only itself; a group that
// SQLite cannot commit (a full database) rejects its waiters and leaves nothing half-written.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommitGroup, StorageLost } from './commit-group.js';
import { type Db, openDatabase } from './open.js';

let dir: string;
let db: Db;
let reader: Database.Database;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tillgate-commit-group-'));
  const file = join(dir, 'g.sqlite');
  db = openDatabase(file);
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY, pad TEXT)');
  reader = new Database(file, { readonly: true });
});

afterEach(() => {
  reader.close();
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const count = () => (reader.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
const insert = (n: number) => db.prepare('INSERT INTO t (n) VALUES (?)').run(n);

describe('CommitGroup', () => {
  it('commits the writes of one turn together, after the turn, and durable() settles after that', async () => {
    const group = new CommitGroup(db);
    for (let n = 1; n <= 5; n++) group.write(() => insert(n));
    expect(db.inTransaction).toBe(true);
    expect(count()).toBe(0);
    const order: string[] = [];
    const durable = group.durable().then(() => order.push(`durable with ${count()} rows`));
    await durable;
    expect(order).toEqual(['durable with 5 rows']);
    expect(db.inTransaction).toBe(false);
    // With nothing open, durable() is settled already.
    await group.durable();
  });

  it('a write that throws undoes only itself; the others of its group commit', async () => {
    const group = new CommitGroup(db);
    group.write(() => insert(1));
    expect(() =>
      group.write(() => {
        insert(2);
        throw new Error('refused');
      }),
    ).toThrow('refused');
    group.write(() => insert(3));
    await group.durable();
    expect(reader.prepare('SELECT n FROM t ORDER BY n').pluck().all()).toEqual([1, 3]);
  });

  it('a write inside a write that throws undoes only the inner one; an async write is refused and undone', async () => {
    const group = new CommitGroup(db);
    group.write(() => {
      insert(1);
      expect(() =>
        group.write(() => {
          insert(2);
          throw new Error('inner refused');
        }),
      ).toThrow('inner refused');
      db.transaction(() => insert(3))();
    });
    expect(() =>
      group.write(() => {
        insert(4);
        return Promise.resolve();
      }),
    ).toThrow('cannot be asynchronous');
    await group.durable();
    expect(reader.prepare('SELECT n FROM t ORDER BY n').pluck().all()).toEqual([1, 3]);
  });

  it("a group's first write that throws leaves nothing, and the turn's next writes still commit", async () => {
    const group = new CommitGroup(db);
    expect(() =>
      group.write(() => {
        insert(1);
        group.write(() => insert(2));
        throw new Error('refused');
      }),
    ).toThrow('refused');
    group.write(() => insert(3));
    group.write(() => insert(4));
    await group.durable();
    expect(reader.prepare('SELECT n FROM t ORDER BY n').pluck().all()).toEqual([3, 4]);
  });

  it('runs inside a transaction another opened without committing it', () => {
    const group = new CommitGroup(db);
    db.transaction(() => {
      group.write(() => insert(1));
      expect(db.inTransaction).toBe(true);
    }).immediate();
    expect(count()).toBe(1);
  });

  it('closing the connection commits the open group rather than losing it', () => {
    const group = new CommitGroup(db);
    group.write(() => insert(1));
    db.close();
    expect(count()).toBe(1);
  });

  it('flush() commits at once; quiescent() waits until no group is open', async () => {
    const group = new CommitGroup(db);
    group.write(() => insert(1));
    group.flush();
    expect(count()).toBe(1);
    group.write(() => insert(2));
    await group.quiescent();
    expect(count()).toBe(2);
  });

  it('a full database: the write fails, the group is lost, its waiters hear so, and nothing of it is on disk', async () => {
    const group = new CommitGroup(db);
    group.write(() => insert(1));
    await group.durable();
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 1}`);
    group.write(() => insert(2));
    const waiting = group.durable();
    expect(() =>
      group.write(() => {
        for (let n = 10; n < 2_000; n++)
          db.prepare('INSERT INTO t (n, pad) VALUES (?, ?)').run(n, 'x'.repeat(500));
      }),
    ).toThrow(/full/i);
    // SQLite may keep the transaction (statement rollback) or drop it whole; either way nothing half-written.
    const lost = await waiting.then(
      () => false,
      (error: unknown) => error instanceof StorageLost || /full/i.test(String(error)),
    );
    db.pragma('max_page_count = 1073741823');
    group.flush();
    const rows = reader.prepare('SELECT n FROM t ORDER BY n').pluck().all();
    expect(rows).toEqual(lost ? [1] : [1, 2]);
    expect(rows.some((n) => (n as number) >= 10)).toBe(false);
  });
});

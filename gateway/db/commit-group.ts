// Group commit for the gateway's one SQLite connection. With synchronous=FULL every COMMIT waits for the disk, and
// a payment takes several small transactions; under load most of the time went to those waits. Writes made through
// `write()` in one turn of the event loop share one transaction (each its own SAVEPOINT, so one that throws undoes
// only itself) and one COMMIT at the end of the turn (setImmediate). Nothing is durable before that COMMIT, so
// everything that tells the outside world about a write — a register's answer, an event, a wallet call, an upload
// — first awaits `durable()`, which settles once the writes made so far are on disk (at once when none are open).
// If the COMMIT fails (a full or failing disk), every write of the group is gone and `durable()` rejects: callers
// answer with an error, never with what was lost.
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';

interface OpenGroup {
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** One write's savepoint, prepared once (better-sqlite3's db.transaction() builds four wrappers on every call). */
interface Savepoint {
  begin: Statement<[]>;
  release: Statement<[]>;
  undo: Statement<[]>;
}

export class CommitGroup {
  readonly #db: Db;
  #group: OpenGroup | null = null;
  #failure: unknown = null;
  #savepoint: Savepoint | undefined;

  constructor(db: Db) {
    this.#db = db;
    // better-sqlite3 rolls an open transaction back on close(); closing must commit the open group instead,
    // whoever closes the connection.
    const close = db.close.bind(db);
    db.close = () => {
      this.flush();
      return close();
    };
  }

  /** Runs `fn` as a part of the open group (opening one when none is), and returns its result. */
  write<T>(fn: () => T): T {
    if (this.#group === null && this.#db.inTransaction) {
      // Inside a transaction someone else opened: that one commits it.
      return this.#db.transaction(fn)();
    }
    const first = this.#group === null;
    const group = this.#group ?? this.#open();
    try {
      // The group's first write needs no savepoint of its own: should it throw, the transaction holds only it.
      return first ? synchronous(fn()) : this.#inSavepoint(fn);
    } catch (error) {
      if (first && this.#group === group && this.#db.inTransaction) {
        this.#db.exec('ROLLBACK');
        this.#group = null;
        group.resolve(); // nothing of it was written
      }
      throw error;
    } finally {
      // SQLite rolls the whole transaction back itself on some errors (SQLITE_FULL, SQLITE_IOERR, …): then every
      // write of this group is lost, and the callers waiting on it must hear so.
      if (!this.#db.inTransaction && this.#group === group) this.#lose(group, new StorageLost());
    }
  }

  /** Settles when every write made so far is durable; rejects when they were lost. */
  durable(): Promise<void> {
    if (this.#group !== null) return this.#group.done;
    return Promise.resolve();
  }

  /**
   * Settles at a moment when no group is open, so that what is read right after is all on disk: for a reader
   * that sends rows upstream (the ledger upload, queued reversals and refunds). Rejects when a group was lost.
   */
  async quiescent(): Promise<void> {
    while (this.#group !== null) await this.#group.done;
  }

  /** Commits the open group now (before closing the database, or before a step that cannot wait a turn). */
  flush(): void {
    const group = this.#group;
    if (group === null) return;
    this.#group = null;
    try {
      this.#db.exec('COMMIT');
      group.resolve();
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      this.#failure = error;
      group.reject(error);
    }
  }

  /** The error of the last group that could not be committed (for status and logs), if any. */
  get lastFailure(): unknown {
    return this.#failure;
  }

  /** `fn` as one SAVEPOINT of the open group: when it throws, its own writes are undone and the group goes on. */
  #inSavepoint<T>(fn: () => T): T {
    this.#savepoint ??= {
      begin: this.#db.prepare<[]>('SAVEPOINT commit_group_write'),
      release: this.#db.prepare<[]>('RELEASE commit_group_write'),
      undo: this.#db.prepare<[]>('ROLLBACK TO commit_group_write'),
    };
    const savepoint = this.#savepoint;
    savepoint.begin.run();
    try {
      const result = synchronous(fn());
      savepoint.release.run();
      return result;
    } catch (error) {
      // Unless SQLite already undid the whole transaction itself (then write() reports the group lost).
      if (this.#db.inTransaction) {
        savepoint.undo.run();
        savepoint.release.run();
      }
      throw error;
    }
  }

  #open(): OpenGroup {
    this.#db.exec('BEGIN IMMEDIATE');
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Nobody may be waiting on a group that fails; its rejection is still reported to those who are.
    done.catch(() => undefined);
    const group: OpenGroup = { done, resolve, reject };
    this.#group = group;
    setImmediate(() => {
      if (this.#group === group) this.flush();
    });
    return group;
  }

  #lose(group: OpenGroup, error: unknown): void {
    this.#group = null;
    this.#failure = error;
    group.reject(error);
  }
}

function synchronous<T>(result: T): T {
  if (result instanceof Promise) throw new TypeError('a commit group write cannot be asynchronous');
  return result;
}

/** SQLite undid the open group on its own (it does so on a full disk or an I/O error). */
export class StorageLost extends Error {
  readonly code = 'SQLITE_GROUP_LOST';
  constructor() {
    super('SQLite rolled back the open transaction: the writes of this commit group were not saved');
  }
}

const groups = new WeakMap<Db, CommitGroup>();

/** The commit group of a connection: one per connection, so every module of the process shares it. */
export function commitGroup(db: Db): CommitGroup {
  let group = groups.get(db);
  if (group === undefined) {
    group = new CommitGroup(db);
    groups.set(db, group);
  }
  return group;
}

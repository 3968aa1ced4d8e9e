// The uploader lease: a row in SQLite that one process at a time holds, with an expiry, so the gateway's
// background uploader and `tillgate sync` never upload at once. A holder on this host whose process is gone
// is taken over at once, so a crash does not stall uploads for the lease's lifetime.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '../gateway/db/open.js';

export interface LeaseHolder {
  holder: string;
  expiresAt: number;
}

export class Lease {
  readonly holder: string;
  readonly #name: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #claim;
  readonly #steal;
  readonly #read;
  readonly #release;
  /** The expiry this holder last wrote (Unix ms), while it holds the lease. */
  #heldUntil: number | null = null;

  constructor(db: Db, name: string, ttlMs: number, now: () => number = Date.now) {
    this.#name = name;
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    // One statement, so two processes cannot both see the row free and both take it.
    this.#claim = db.prepare(
      `INSERT INTO sync_leases (name, holder, expires_at) VALUES (@name, @holder, @expiresAt)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE sync_leases.holder = excluded.holder OR sync_leases.expires_at <= @now`,
    );
    this.#steal = db.prepare(
      'UPDATE sync_leases SET holder = @holder, expires_at = @expiresAt WHERE name = @name AND holder = @dead',
    );
    this.#read = db.prepare<[string], { holder: string; expires_at: number }>(
      'SELECT holder, expires_at FROM sync_leases WHERE name = ?',
    );
    this.#release = db.prepare('DELETE FROM sync_leases WHERE name = ? AND holder = ?');
  }

  /**
   * Takes or renews the lease; false while another live process holds it. With `minHeldMs`, a lease this holder
   * wrote that still runs that long is kept as it is: no other process can take it before it expires, and each
   * renewal is a commit that waits for the disk.
   */
  acquire(minHeldMs?: number): boolean {
    const now = this.#now();
    if (minHeldMs !== undefined && this.#heldUntil !== null && this.#heldUntil - now >= minHeldMs)
      return true;
    this.#heldUntil = null;
    const params = { name: this.#name, holder: this.holder, expiresAt: now + this.#ttlMs, now };
    const taken = this.#claim.run(params).changes === 1 || this.#stealFromTheDead(params);
    if (taken) this.#heldUntil = params.expiresAt;
    return taken;
  }

  release(): void {
    this.#heldUntil = null;
    this.#release.run(this.#name, this.holder);
  }

  #stealFromTheDead(params: { name: string; holder: string; expiresAt: number; now: number }): boolean {
    const current = this.current();
    if (current === null || !holderIsDeadHere(current.holder)) return false;
    return this.#steal.run({ ...params, dead: current.holder }).changes === 1;
  }

  current(): LeaseHolder | null {
    const row = this.#read.get(this.#name);
    return row === undefined ? null : { holder: row.holder, expiresAt: row.expires_at };
  }
}

/** True when `holder` names a process on this host that no longer exists. */
function holderIsDeadHere(holder: string): boolean {
  const [host, pidText] = holder.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

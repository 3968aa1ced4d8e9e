// Whether the wallet is reachable: any answer from it (an authorization, a key fetch, a feed page) counts as
// contact; no answer within the health window makes the store offline. Switches both ways by itself.
import { EventEmitter } from 'node:events';

export type StoreMode = 'online' | 'offline';

export interface ModeChange {
  mode: StoreMode;
  since: string;
}

export class WalletHealth extends EventEmitter<{ mode: [change: ModeChange] }> {
  readonly #windowMs: number;
  readonly #now: () => number;
  #lastContactAt: number | null = null;
  #lastFailureAt: number | null = null;
  #mode: StoreMode = 'offline';
  #since: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(windowMs: number, now: () => number = Date.now) {
    super();
    this.#windowMs = windowMs;
    this.#now = now;
    this.#since = now();
  }

  /** Records a wallet call's result: true when the wallet answered (whatever it said). */
  record(reachable: boolean): void {
    const now = this.#now();
    if (reachable) this.#lastContactAt = now;
    else this.#lastFailureAt = now;
    this.#evaluate();
  }

  get mode(): StoreMode {
    this.#evaluate();
    return this.#mode;
  }

  view(): { mode: StoreMode; since: string; reachable: boolean; lastContactAt: string | null } {
    const mode = this.mode;
    return {
      mode,
      since: new Date(this.#since).toISOString(),
      reachable: mode === 'online',
      lastContactAt: this.#lastContactAt === null ? null : new Date(this.#lastContactAt).toISOString(),
    };
  }

  /** Re-evaluates on a timer so that silence alone turns the store offline. */
  start(): void {
    this.#timer = setInterval(() => this.#evaluate(), Math.max(250, Math.floor(this.#windowMs / 4)));
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #evaluate(): void {
    const now = this.#now();
    const recent = this.#lastContactAt !== null && now - this.#lastContactAt <= this.#windowMs;
    // A failure after the last contact means the wallet is gone now, whatever the window says.
    const failedSince =
      this.#lastFailureAt !== null &&
      (this.#lastContactAt === null || this.#lastFailureAt > this.#lastContactAt);
    const mode: StoreMode = recent && !failedSince ? 'online' : 'offline';
    if (mode !== this.#mode) {
      this.#mode = mode;
      this.#since = now;
      this.emit('mode', { mode, since: new Date(now).toISOString() });
    }
  }
}

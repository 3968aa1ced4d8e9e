// Hot-plug: a polling-diff watcher over an injectable enumerator (the fallback that works everywhere,
// since node-hid has no attach events and serialport's 'close' does not fire on every platform), and
// the capped exponential backoff with jitter that paces reopen attempts.
import { EventEmitter } from 'node:events';

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /** ± this fraction of the delay, so that scanners on one hub do not retry in lockstep. */
  jitterRatio: number;
}

/** Delay before reopen attempt `attempt` (0-based): initial × 2^attempt, capped, with jitter. */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt, 30));
  const jittered = base + base * options.jitterRatio * (random() * 2 - 1);
  return Math.round(Math.min(options.maxDelayMs, Math.max(0, jittered)));
}

export interface DeviceWatcherEvents {
  attach: [key: string];
  detach: [key: string];
  /** After every successful enumeration: the keys present, and that enumeration's number (see `started`). */
  polled: [keys: ReadonlySet<string>, enumeration: number];
  error: [error: Error];
}

export interface PollingWatcherOptions {
  /** Keys of the devices present now. Enumeration may be slow (a USB bus walk); it is never run twice at once. */
  enumerate: () => Promise<readonly string[]>;
  intervalMs: number;
}

/**
 * Emits 'attach' for keys that appear between two enumerations and 'detach' for keys that disappear
 * (the first enumeration attaches everything present). A failed enumeration emits 'error' and changes
 * nothing: a device is never declared gone because listing failed.
 */
export class PollingWatcher extends EventEmitter<DeviceWatcherEvents> {
  readonly #options: PollingWatcherOptions;
  #present = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #running = false;
  #started = 0;

  constructor(options: PollingWatcherOptions) {
    super();
    this.#options = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** How many enumerations have begun; a snapshot is only as new as its number. */
  get started(): number {
    return this.#started;
  }

  /** Enumerates now and emits the differences; concurrent calls share one enumeration. */
  poll(): Promise<void> {
    this.#polling ??= this.#enumerate().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  async #enumerate(): Promise<void> {
    const enumeration = ++this.#started;
    let keys: readonly string[];
    try {
      keys = await this.#options.enumerate();
    } catch (error) {
      if (this.listenerCount('error') > 0)
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const next = new Set(keys);
    const before = this.#present;
    this.#present = next;
    for (const key of before) if (!next.has(key)) this.emit('detach', key);
    for (const key of next) if (!before.has(key)) this.emit('attach', key);
    this.emit('polled', next, enumeration);
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.poll().finally(() => {
        if (this.#running) this.#schedule();
      });
    }, this.#options.intervalMs);
    this.#timer.unref();
  }
}

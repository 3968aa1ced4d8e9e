// A bound on the log lines one noisy source writes (a scanner fed garbage, a lane flooded with scans): at most
// `lines` per `windowMs`. The first line held back says so once; the next window opens with the count of lines
// held back. So a flood costs at most lines + 2 log lines per window, and nothing is hidden silently.
import type { Logger } from 'pino';

/** Per-scan log lines one scanner (or one lane) may write per window; a bound, not a tuning knob. */
export const SCAN_LOG_LINES = 20;
export const SCAN_LOG_WINDOW_MS = 10_000;

export class LogBudget {
  readonly #lines: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #used = 0;
  #heldBack = 0;

  constructor(options: { lines: number; windowMs: number; now?: () => number }) {
    if (options.lines < 1 || options.windowMs <= 0)
      throw new Error('LogBudget: lines and windowMs must be positive');
    this.#lines = options.lines;
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
  }

  /** True when one more line may be written to `logger` now. */
  allow(logger: Logger): boolean {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      if (this.#heldBack > 0) {
        logger.warn(
          { heldBack: this.#heldBack, windowMs: this.#windowMs },
          'log lines held back in the last window',
        );
      }
      this.#windowStart = now;
      this.#used = 0;
      this.#heldBack = 0;
    }
    if (this.#used < this.#lines) {
      this.#used += 1;
      return true;
    }
    if (this.#heldBack === 0) {
      logger.warn(
        { lines: this.#lines, windowMs: this.#windowMs },
        'too many lines from this source: holding back the rest of the window',
      );
    }
    this.#heldBack += 1;
    return false;
  }
}

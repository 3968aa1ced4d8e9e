// Capped exponential backoff with jitter, and a sleep that a stop signal or a kick cuts short (the deadline of a
// call is gateway/deadline.ts).
// Pure apart from the injected random source and timers, so the delays are testable.

export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * The delay before attempt `failures + 1`: initial·2^(failures−1), capped, then drawn uniformly from its upper
 * half ("equal jitter") so that many gateways retrying after one outage do not arrive together.
 */
export function backoffDelayMs(policy: BackoffPolicy, failures: number, random: () => number): number {
  if (failures <= 0) return 0;
  const exponent = Math.min(failures - 1, 30);
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** Resolves after `ms`, or as soon as any of `signals` aborts; never rejects. Removes its listeners. */
export function sleep(ms: number, ...signals: AbortSignal[]): Promise<void> {
  if (ms <= 0 || signals.some((s) => s.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}

/** A sleep that another part of the program can end early with wake(); at most one sleeper at a time. */
export class Alarm {
  #wake: (() => void) | null = null;
  #pending = false;

  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return;
    }
    const woken = new AbortController();
    this.#wake = () => woken.abort();
    await sleep(ms, signal, woken.signal);
    this.#wake = null;
    this.#pending = false;
  }

  /** Ends the current sleep, or makes the next one return at once. */
  wake(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }
}

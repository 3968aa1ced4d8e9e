// The deadline of a wallet call: a signal that aborts after `ms`, or when `parent` does, kept alive by its own timer.
// Not AbortSignal.any([AbortSignal.timeout(ms), parent]): on Node 20 the combined signal holds its timeout source
// only weakly, and once a garbage collection takes that source the combined signal never aborts
// (nodejs/node#57736; deadline.test.ts shows it with a forced collection). A hung wallet call would then wait for
// the wallet forever instead of for its deadline, and the register with it.

export interface Deadline {
  signal: AbortSignal;
  /** Drops the timer and the listener on the parent (call it once the call is over). */
  dispose(): void;
}

export function deadline(parent: AbortSignal | undefined, ms: number): Deadline {
  const controller = new AbortController();
  const abort = (): void => controller.abort(parent?.reason);
  const timer = setTimeout(
    () => controller.abort(new DOMException(`deadline of ${ms} ms passed`, 'TimeoutError')),
    ms,
  );
  if (parent?.aborted) abort();
  else parent?.addEventListener('abort', abort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', abort);
    },
  };
}

/** `call` under a deadline, disposed of when it settles. */
export async function withDeadline<T>(
  parent: AbortSignal | undefined,
  ms: number,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const limit = deadline(parent, ms);
  try {
    return await call(limit.signal);
  } finally {
    limit.dispose();
  }
}

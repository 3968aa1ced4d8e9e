// Backoff delays grow, are capped and jittered within their upper half; Alarm ends waits early.
import { describe, expect, it } from 'vitest';
import { Alarm, backoffDelayMs } from './backoff.js';

const policy = { initialDelayMs: 100, maxDelayMs: 1_000 };

describe('backoffDelayMs', () => {
  it('doubles from the initial delay up to the cap, drawing from the upper half', () => {
    const low = [1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(policy, n, () => 0));
    const high = [1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(policy, n, () => 1));
    expect(low).toEqual([50, 100, 200, 400, 500, 500]);
    expect(high).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelayMs(policy, 0, () => 1)).toBe(0);
    expect(backoffDelayMs(policy, 10_000, () => 0.5)).toBe(750);
  });
});

describe('Alarm', () => {
  it('ends a sleep on wake(), and a wake before the sleep makes it return at once', async () => {
    const alarm = new Alarm();
    const never = new AbortController().signal;
    const startedAt = performance.now();
    const sleeping = alarm.sleep(5_000, never);
    setTimeout(() => alarm.wake(), 20);
    await sleeping;
    alarm.wake();
    await alarm.sleep(5_000, never);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });

  it('ends a sleep when the stop signal aborts', async () => {
    const stop = new AbortController();
    const startedAt = performance.now();
    setTimeout(() => stop.abort(), 20);
    await new Alarm().sleep(5_000, stop.signal);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });
});

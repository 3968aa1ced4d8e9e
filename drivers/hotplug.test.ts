// Reopen backoff and the polling-diff device watcher.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelayMs, PollingWatcher } from './hotplug.js';

describe('backoffDelayMs', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 5000, jitterRatio: 0.2 };

  it('doubles from the initial delay up to the cap', () => {
    const middle = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((attempt) => backoffDelayMs(attempt, options, middle))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000,
    ]);
  });

  it('spreads retries by the jitter ratio and never passes the cap', () => {
    expect(backoffDelayMs(0, options, () => 0)).toBe(80);
    expect(backoffDelayMs(0, options, () => 0.999999)).toBe(120);
    expect(backoffDelayMs(10, options, () => 0.999999)).toBe(5000);
    expect(backoffDelayMs(10, options, () => 0)).toBe(4000);
  });
});

describe('PollingWatcher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports devices that appear and disappear between enumerations', async () => {
    let present = ['/dev/a'];
    const watcher = new PollingWatcher({ enumerate: async () => present, intervalMs: 1000 });
    const events: string[] = [];
    watcher.on('attach', (key) => events.push(`+${key}`));
    watcher.on('detach', (key) => events.push(`-${key}`));
    await watcher.poll();
    present = ['/dev/a', '/dev/b'];
    await watcher.poll();
    present = ['/dev/b'];
    await watcher.poll();
    await watcher.poll();
    expect(events).toEqual(['+/dev/a', '+/dev/b', '-/dev/a']);
  });

  it('declares nothing gone when enumeration fails', async () => {
    let fail = false;
    const watcher = new PollingWatcher({
      enumerate: async () => {
        if (fail) throw new Error('spawn udevadm ENOENT');
        return ['/dev/a'];
      },
      intervalMs: 1000,
    });
    const events: string[] = [];
    watcher.on('detach', (key) => events.push(`-${key}`));
    watcher.on('error', (error) => events.push(`error: ${error.message}`));
    await watcher.poll();
    fail = true;
    await watcher.poll();
    expect(events).toEqual(['error: spawn udevadm ENOENT']);
  });

  it('polls on its interval, one enumeration at a time, until stopped', async () => {
    vi.useFakeTimers();
    let calls = 0;
    let running = 0;
    let maxRunning = 0;
    const watcher = new PollingWatcher({
      enumerate: async () => {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running--;
        return [];
      },
      intervalMs: 100,
    });
    watcher.start();
    void watcher.poll();
    void watcher.poll();
    await vi.advanceTimersByTimeAsync(350);
    watcher.stop();
    const after = calls;
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(after);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(maxRunning).toBe(1);
  });
});

// LogBudget on a test clock: lines within the budget pass, the rest are held back with one notice, and the next
// window reports how many were held back.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LogBudget } from './log-budget.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { lines, logger };
}

describe('LogBudget', () => {
  it('lets `lines` through per window, says once that it holds back, and counts what it held back', () => {
    let now = 0;
    const { lines, logger } = capture();
    const budget = new LogBudget({ lines: 3, windowMs: 1_000, now: () => now });
    const allowed = Array.from({ length: 100 }, () => budget.allow(logger));
    expect(allowed.filter(Boolean)).toHaveLength(3);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'too many lines from this source: holding back the rest of the window',
    });
    now += 1_000;
    expect(budget.allow(logger)).toBe(true);
    expect(lines[1]).toMatchObject({ heldBack: 97, msg: 'log lines held back in the last window' });
    expect(budget.allow(logger)).toBe(true);
    expect(lines).toHaveLength(2);
  });

  it('refuses a budget of nothing', () => {
    expect(() => new LogBudget({ lines: 0, windowMs: 1 })).toThrow();
  });
});

// How the dashboard and the lane view write money, times and ages: amounts in the currency's minor unit shown
// in major units (¥1,200; $12.00), times in the store's time zone, ages in the largest two units.

export class Formatter {
  readonly timeZone: string;
  readonly #money = new Map<string, { format: Intl.NumberFormat; divisor: number }>();
  readonly #time: Intl.DateTimeFormat;
  readonly #dateTime: Intl.DateTimeFormat;
  readonly #hour: Intl.DateTimeFormat;

  constructor(timeZone: string) {
    this.timeZone = timeZone;
    const base = { timeZone, hourCycle: 'h23' } as const;
    this.#time = new Intl.DateTimeFormat('en-GB', {
      ...base,
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    this.#dateTime = new Intl.DateTimeFormat('sv-SE', {
      ...base,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    this.#hour = new Intl.DateTimeFormat('en-GB', { ...base, hour: '2-digit', minute: '2-digit' });
  }

  /** An amount in minor units, e.g. money(1200, 'JPY') → "¥1,200". */
  money(amount: number, currency: string): string {
    let entry = this.#money.get(currency);
    if (entry === undefined) {
      const format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
      entry = { format, divisor: 10 ** (format.resolvedOptions().maximumFractionDigits ?? 0) };
      this.#money.set(currency, entry);
    }
    return entry.format.format(amount / entry.divisor);
  }

  /** "14:03:27" in the store's time zone. */
  time(at: string | number): string {
    return this.#time.format(new Date(at));
  }

  /** "2026-11-25 14:03" in the store's time zone. */
  dateTime(at: string | number): string {
    return this.#dateTime.format(new Date(at));
  }

  /** "14:00", for chart axes. */
  hour(at: number): string {
    return this.#hour.format(new Date(at));
  }
}

/** "45 s", "3 min", "2 h 5 min", "3 d 4 h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** Seconds from an RFC 3339 time to now (unix ms). */
export function ageSec(at: string, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - Date.parse(at)) / 1000));
}

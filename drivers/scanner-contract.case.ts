// The one contract test suite every Scanner implementation runs (as hono runs its router tests across
// routers): lifecycle, delivery, the PC1 code intact, dedupe, unplug/replug, no partial scan, close.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Scan, Scanner, ScannerStatus } from './scanner.js';

export interface ContractContext {
  /** The scanner's clock; the suite moves it to step over the dedupe window. */
  now: () => number;
  dedupeWindowMs: number;
}

export interface ScannerContractSubject {
  name: string;
  /** A new, unopened scanner using `context.now` and `context.dedupeWindowMs`. */
  create(context: ContractContext): Promise<Scanner>;
  /** Makes the device send one whole scan of `text` with AIM identifier ]Q1. Never throws when unplugged. */
  feed(scanner: Scanner, text: string): Promise<void>;
  /** Sends only the first part of a scan of `text`; absent when the transport's scans are atomic. */
  feedPartial?: (scanner: Scanner, text: string) => Promise<void>;
  unplug(scanner: Scanner): Promise<void>;
  replug(scanner: Scanner): Promise<void>;
  cleanup?: () => Promise<void>;
  /** How long to wait for something that should happen (real hardware paths are slower). */
  waitMs?: number;
  /** How long to watch for something that must not happen. */
  quietMs?: number;
}

const vectors = JSON.parse(
  readFileSync(new URL('../test/vectors/paycode-v1.json', import.meta.url), 'utf8'),
) as { cases: Array<{ code: string }> };

/** A real 301-character PC1 pay code. */
export const PC1_CODE = vectors.cases[0]!.code;

export function runScannerContract(subject: ScannerContractSubject): void {
  const waitMs = subject.waitMs ?? 2000;
  const quietMs = subject.quietMs ?? 40;

  describe(`Scanner contract: ${subject.name}`, () => {
    let clockMs = 1_750_000_000_000;
    let scanner: Scanner | undefined;
    let scans: Scan[] = [];
    let statuses: ScannerStatus[] = [];
    const dedupeWindowMs = 1000;

    async function make(): Promise<Scanner> {
      scans = [];
      statuses = [];
      scanner = await subject.create({ now: () => clockMs, dedupeWindowMs });
      scanner.on('scan', (scan) => scans.push(scan));
      scanner.on('status', (status) => statuses.push(status));
      return scanner;
    }

    async function ready(): Promise<Scanner> {
      const s = await make();
      await s.open();
      await until(() => s.attached, waitMs, 'attached after open');
      await s.claim();
      await s.enable();
      return s;
    }

    afterEach(async () => {
      await scanner?.close();
      scanner = undefined;
      await subject.cleanup?.();
    });

    it('follows the UPOS lifecycle: open, claim, enable, close', async () => {
      const s = await make();
      expect(s.state).toBe('closed');
      await expect(s.claim()).rejects.toMatchObject({ code: 'E_CLOSED' });
      await s.open();
      expect(s.state).toBe('idle');
      await expect(s.open()).rejects.toMatchObject({ code: 'E_ILLEGAL' });
      await expect(s.enable()).rejects.toMatchObject({ code: 'E_NOTCLAIMED' });
      await s.claim();
      await s.enable();
      await s.disable();
      await s.close();
      expect(s.state).toBe('closed');
    });

    it('reports the device attached once opened', async () => {
      const s = await make();
      await s.open();
      await until(() => statuses.some((status) => status.status === 'attached'), waitMs, 'attached status');
      expect(s.attached).toBe(true);
      expect(statuses[0]).toMatchObject({ deviceId: s.deviceId, transport: s.transport, status: 'attached' });
    });

    it('delivers nothing before enable, then a scan with every field', async () => {
      const s = await make();
      await s.open();
      await until(() => s.attached, waitMs, 'attached');
      await s.claim();
      await subject.feed(s, 'EARLY-CODE-0001');
      await quiet(quietMs);
      expect(scans).toEqual([]);
      await s.enable();
      await subject.feed(s, 'PC1:ABC-123');
      await until(() => scans.length === 1, waitMs, 'one scan');
      const scan = scans[0]!;
      expect(scan).toMatchObject({ deviceId: s.deviceId, transport: s.transport, text: 'PC1:ABC-123' });
      expect(scan.aimId).toBe(']Q1');
      expect(scan.symbology).toBe('qr');
      expect(Buffer.from(scan.label).toString('utf8')).toBe('PC1:ABC-123');
      expect(Buffer.from(scan.raw).includes(Buffer.from(scan.label))).toBe(true);
      expect(scan.receivedAt).toBe(clockMs);
    });

    it('delivers the 301-character PC1 code intact', async () => {
      const s = await ready();
      await subject.feed(s, PC1_CODE);
      await until(() => scans.length === 1, waitMs, 'the PC1 scan');
      expect(scans[0]!.text).toBe(PC1_CODE);
      expect(scans[0]!.text).toHaveLength(301);
    });

    it('delivers distinct scans once each, in order', async () => {
      const s = await ready();
      for (const code of ['CODE-AAAA-1', 'CODE-BBBB-2', 'CODE-CCCC-3']) await subject.feed(s, code);
      await until(() => scans.length === 3, waitMs, 'three scans');
      await quiet(quietMs);
      expect(scans.map((scan) => scan.text)).toEqual(['CODE-AAAA-1', 'CODE-BBBB-2', 'CODE-CCCC-3']);
    });

    it('stops delivering when disabled', async () => {
      const s = await ready();
      await s.disable();
      await subject.feed(s, 'CODE-DISABLED');
      await quiet(quietMs);
      expect(scans).toEqual([]);
    });

    it('ignores a double read within the dedupe window and accepts the code after it', async () => {
      const s = await ready();
      await subject.feed(s, 'PC1:SAME-CODE');
      await until(() => scans.length === 1, waitMs, 'first read');
      clockMs += dedupeWindowMs / 2;
      await subject.feed(s, 'PC1:SAME-CODE');
      await quiet(quietMs);
      expect(scans).toHaveLength(1);
      clockMs += dedupeWindowMs + 1;
      await subject.feed(s, 'PC1:SAME-CODE');
      await until(() => scans.length === 2, waitMs, 'read after the window');
    });

    it('reports an unplug as detached and delivers again after replug', async () => {
      const s = await ready();
      await subject.unplug(s);
      await until(() => statuses.some((status) => status.status === 'detached'), waitMs, 'detached status');
      expect(s.attached).toBe(false);
      await subject.feed(s, 'CODE-WHILE-UNPLUGGED');
      await subject.replug(s);
      await until(
        () => statuses.filter((status) => status.status === 'attached').length === 2,
        waitMs,
        'reattached',
      );
      expect(s.attached).toBe(true);
      await subject.feed(s, 'CODE-AFTER-REPLUG');
      await until(() => scans.length === 1, waitMs, 'scan after replug');
      expect(scans.map((scan) => scan.text)).toEqual(['CODE-AFTER-REPLUG']);
    });

    it.skipIf(subject.feedPartial === undefined)(
      'drops a scan cut by an unplug: nothing partial, nothing lost after',
      async () => {
        const s = await ready();
        await subject.feed(s, 'CODE-BEFORE-UNPLUG');
        await until(() => scans.length === 1, waitMs, 'scan before unplug');
        await subject.feedPartial!(s, PC1_CODE);
        await subject.unplug(s);
        await until(() => statuses.some((status) => status.status === 'detached'), waitMs, 'detached');
        await subject.replug(s);
        await until(() => s.attached, waitMs, 'reattached');
        await subject.feed(s, `${PC1_CODE.slice(0, 200)}Z`);
        await until(() => scans.length === 2, waitMs, 'scan after replug');
        await quiet(quietMs);
        expect(scans.map((scan) => scan.text)).toEqual(['CODE-BEFORE-UNPLUG', `${PC1_CODE.slice(0, 200)}Z`]);
      },
    );

    it('emits nothing after close', async () => {
      const s = await ready();
      await s.close();
      const before = statuses.length;
      await subject.feed(s, 'CODE-AFTER-CLOSE');
      await subject.unplug(s);
      await quiet(quietMs);
      expect(scans).toEqual([]);
      expect(statuses).toHaveLength(before);
      expect(s.state).toBe('closed');
    });
  });
}

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export function quiet(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

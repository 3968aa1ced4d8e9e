// Serial framing with serialport's parsers plus a byte cap: every split, oversize frames, no-suffix mode.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PC1_CODE } from './scanner-contract.case.js';
import { createSerialFramer, type SerialFramerOptions, serialFrameEvent } from './serial-framer.js';

function frames(options: Partial<SerialFramerOptions>, chunks: Array<string | Buffer>) {
  const framer = createSerialFramer({ suffix: 'cr', interByteTimeoutMs: 50, maxScanBytes: 4096, ...options });
  const out: string[] = [];
  let overflows = 0;
  framer.on('data', (frame: Buffer) => out.push(frame.toString('latin1')));
  framer.on('overflow', () => overflows++);
  for (const chunk of chunks) framer.write(chunk);
  return { out, overflows: () => overflows, framer };
}

describe('serial framer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('frames on CR, LF and CRLF, one byte at a time', () => {
    const input = ']Q1AAAA\r]Q1BBBB\r';
    expect(frames({ suffix: 'cr' }, [...input]).out).toEqual([']Q1AAAA', ']Q1BBBB']);
    expect(frames({ suffix: 'lf' }, [...input.replaceAll('\r', '\n')]).out).toEqual([']Q1AAAA', ']Q1BBBB']);
    expect(frames({ suffix: 'crlf' }, [...input.replaceAll('\r', '\r\n')]).out).toEqual([
      ']Q1AAAA',
      ']Q1BBBB',
    ]);
  });

  it('frames the 301-character PC1 code split at every byte boundary', () => {
    const raw = `]Q1${PC1_CODE}\r\n`;
    for (let cut = 1; cut < raw.length; cut++) {
      const { out } = frames({ suffix: 'crlf' }, [raw.slice(0, cut), raw.slice(cut)]);
      expect(out, `cut at ${cut}`).toEqual([`]Q1${PC1_CODE}`]);
    }
  });

  it('drops a frame over the cap whole, head and tail, whether it comes in one chunk or many', () => {
    const big = 'X'.repeat(100);
    for (const chunks of [
      [`${big}\rOK-1\r`],
      [...`${big}\rOK-1\r`],
      [big.slice(0, 70), `${big.slice(70)}\rOK-1\r`],
    ]) {
      const result = frames({ maxScanBytes: 64 }, chunks);
      expect(result.out).toEqual(['OK-1']);
      expect(result.overflows()).toBe(1);
      expect(result.framer.pendingBytes).toBe(0);
    }
  });

  it('keeps its buffer bounded while an endless frame streams in', () => {
    const { framer, out, overflows } = frames({ maxScanBytes: 64 }, []);
    for (let i = 0; i < 1000; i++) {
      framer.write('Y'.repeat(50));
      expect(framer.pendingBytes).toBeLessThanOrEqual(64);
    }
    framer.write('\rOK-2\r');
    expect(out).toEqual(['OK-2']);
    expect(overflows()).toBe(1);
  });

  it('accepts a frame of exactly the cap with a CRLF split across chunks', () => {
    const exact = 'Z'.repeat(64);
    expect(frames({ suffix: 'crlf', maxScanBytes: 64 }, [`${exact}\r`, '\n']).out).toEqual([exact]);
  });

  it('never emits an unfinished frame when the stream ends', () => {
    const { framer, out } = frames({}, [']Q1PARTIAL']);
    framer.end();
    expect(out).toEqual([]);
  });

  describe('without a suffix (inter-byte timeout)', () => {
    it('ends a frame after the silence, with a cap that drops the whole oversize burst', () => {
      vi.useFakeTimers();
      const { framer, out, overflows } = frames(
        { suffix: 'none', interByteTimeoutMs: 20, maxScanBytes: 16 },
        [],
      );
      framer.write(']Q1SHORT');
      framer.write('-CODE');
      vi.advanceTimersByTime(21);
      framer.write('W'.repeat(40));
      vi.advanceTimersByTime(5);
      framer.write('W'.repeat(10));
      vi.advanceTimersByTime(21);
      framer.write('NEXT');
      vi.advanceTimersByTime(21);
      expect(out).toEqual([']Q1SHORT-CODE', 'NEXT']);
      expect(overflows()).toBe(1);
    });

    it('drops an oversize burst that ends exactly at the cap boundary', () => {
      vi.useFakeTimers();
      const { framer, out, overflows } = frames(
        { suffix: 'none', interByteTimeoutMs: 20, maxScanBytes: 16 },
        [],
      );
      framer.write('V'.repeat(17));
      vi.advanceTimersByTime(21);
      framer.write('AFTER');
      vi.advanceTimersByTime(21);
      expect(out).toEqual(['AFTER']);
      expect(overflows()).toBe(1);
    });

    it('never emits the unfinished burst when the stream ends or is destroyed', () => {
      vi.useFakeTimers();
      const ended = frames({ suffix: 'none' }, ['PARTIAL']);
      ended.framer.end();
      const destroyed = frames({ suffix: 'none' }, ['PARTIAL']);
      destroyed.framer.destroy();
      vi.advanceTimersByTime(1000);
      expect([...ended.out, ...destroyed.out]).toEqual([]);
    });
  });

  describe('serialFrameEvent', () => {
    const event = (
      frame: string,
      suffix: SerialFramerOptions['suffix'],
      aimPrefix: 'auto' | 'required' | 'none',
    ) => serialFrameEvent(Buffer.from(frame, 'latin1'), { suffix, aimPrefix });

    it('splits the AIM prefix and keeps the suffix in raw', () => {
      const result = event(']C1(01)0123', 'cr', 'auto');
      expect(result).toMatchObject({
        kind: 'scan',
        scan: { text: '(01)0123', aimId: ']C1', symbology: 'gs1-128' },
      });
      expect(result?.kind === 'scan' && Buffer.from(result.scan.raw).toString()).toBe(']C1(01)0123\r');
    });

    it('tolerates the other half of a CRLF on a CR or LF lane and skips empty frames', () => {
      expect(event('\n]Q1ABC', 'cr', 'auto')).toMatchObject({ scan: { text: 'ABC' } });
      expect(event(']Q1ABC\r', 'lf', 'auto')).toMatchObject({ scan: { text: 'ABC' } });
      expect(event('\n', 'cr', 'auto')).toBeUndefined();
      expect(event('', 'cr', 'auto')).toBeUndefined();
    });

    it('rejects a frame without AIM when one is required, and labels that are not UTF-8', () => {
      expect(event('ABC', 'cr', 'required')).toMatchObject({ kind: 'rejected', reason: 'missing_aim' });
      expect(event(']Q1A\xff', 'cr', 'auto')).toMatchObject({ kind: 'rejected', reason: 'bad_encoding' });
      expect(event(']Q1ABC', 'cr', 'none')).toMatchObject({ scan: { text: ']Q1ABC', symbology: 'unknown' } });
    });
  });
});

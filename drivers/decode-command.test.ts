// `tillgate decode`: captures in, JSON lines out, bad lines reported by number.
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type DecodeOptions, parseLine, runDecode } from './decode-command.js';
import { PC1_CODE } from './scanner-contract.case.js';
import { encodeWedge, frameHidPos } from './simulators.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

async function decode(
  options: DecodeOptions,
  lines: string[],
): Promise<{ code: number; out: Array<Record<string, unknown>> }> {
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await runDecode(options, Readable.from([lines.join('\n')]), output);
  const out = Buffer.concat(chunks)
    .toString()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, out };
}

describe('tillgate decode', () => {
  it('decodes a HID POS capture into JSON lines', async () => {
    const lines = [
      '# captured at lane 2',
      '',
      ...frameHidPos(PC1_CODE, { aimId: ']Q1', codeId: 's' }).map(hex),
    ];
    const { code, out } = await decode({ transport: 'hid-pos' }, lines);
    expect(code).toBe(0);
    expect(out).toEqual([
      {
        deviceId: 'stdin',
        transport: 'hid-pos',
        symbology: 'qr',
        aimId: ']Q1',
        length: 301,
        text: PC1_CODE,
        line: 8,
      },
    ]);
  });

  it('decodes keyboard reports with a layout and warns of a mismatch', async () => {
    const lines = encodeWedge(PC1_CODE, { layout: 'us', suffix: 'enter' }).map(({ report }) => hex(report));
    const us = await decode({ transport: 'hid-keyboard', layout: 'us' }, lines);
    expect(us.out).toEqual([
      expect.objectContaining({ transport: 'hid-keyboard', text: PC1_CODE, length: 301 }),
    ]);
    const jis = await decode({ transport: 'hid-keyboard', layout: 'jp106' }, lines);
    expect(jis.out).toEqual([expect.objectContaining({ warning: 'layout_mismatch', likelyLayout: 'us' })]);
  });

  it('uses @timestamps when the capture has them, and otherwise scanner speed', async () => {
    const typed = encodeWedge('88123456789012345678', { layout: 'us', suffix: 'enter', interKeyMs: 80 });
    const stamped = typed.map(({ report, atMs }) => `@${atMs} ${hex(report)}`);
    expect((await decode({ transport: 'hid-keyboard' }, stamped)).out).toEqual([
      expect.objectContaining({ warning: 'human_typing' }),
    ]);
    const unstamped = typed.map(({ report }) => hex(report));
    expect((await decode({ transport: 'hid-keyboard' }, unstamped)).out).toEqual([
      expect.objectContaining({ text: '88123456789012345678' }),
    ]);
  });

  it('frames serial chunks split anywhere, in any hex spelling', async () => {
    const bytes = Buffer.from(`]Q1${PC1_CODE}\r]C0ABC-123\r`);
    const lines = [
      `0x${bytes.subarray(0, 7).toString('hex')}`,
      [...bytes.subarray(7, 100)].map((byte) => `0x${byte.toString(16)}`).join(' '),
      [...bytes.subarray(100)].map((byte) => byte.toString(16).padStart(2, '0')).join(', '),
    ];
    const { code, out } = await decode({ transport: 'serial' }, lines);
    expect(code).toBe(0);
    expect(out).toEqual([
      expect.objectContaining({ transport: 'serial', aimId: ']Q1', text: PC1_CODE, line: 3 }),
      expect.objectContaining({ symbology: 'code128', text: 'ABC-123', length: 7, line: 3 }),
    ]);
  });

  it('reports a bad line by number and goes on', async () => {
    const reports = frameHidPos('PC1:AFTER-BAD', { aimId: ']Q1' }).map(hex);
    const { code, out } = await decode({ transport: 'hid-pos' }, ['zz 01', '02 38', ...reports]);
    expect(code).toBe(1);
    expect(out).toEqual([
      { error: expect.stringMatching(/^line 1: not hex/), line: 1 },
      { error: expect.stringMatching(/^line 2: 2 bytes, a HID POS report has 64/), line: 2 },
      expect.objectContaining({ text: 'PC1:AFTER-BAD', line: 3 }),
    ]);
  });

  it('warns of a capture that ends inside a scan, and of reads the driver would refuse', async () => {
    const cut = frameHidPos(PC1_CODE, { aimId: ']Q1' }).slice(0, 2).map(hex);
    expect((await decode({ transport: 'hid-pos' }, cut)).out).toEqual([
      expect.objectContaining({ warning: 'truncated', message: expect.stringMatching(/112 bytes pending/) }),
    ]);
    const serial = await decode({ transport: 'serial' }, [Buffer.from(']Q1AB\tCD\r').toString('hex')]);
    expect(serial.out).toEqual([expect.objectContaining({ warning: 'control_character', text: 'AB\tCD' })]);
  });

  it('refuses options that make no sense with exit status 2', async () => {
    expect((await decode({ transport: 'serial', suffix: 'enter' }, [])).code).toBe(2);
    expect((await decode({ transport: 'bogus' as 'serial' }, [])).code).toBe(2);
  });

  it('parses hex lines leniently', () => {
    expect(parseLine('  # only a comment')).toBeUndefined();
    expect(parseLine('0x02 0x3 ff # trailing comment')).toEqual({ bytes: Buffer.from([2, 3, 255]) });
    expect(parseLine('@12.5 0a0b')).toEqual({ bytes: Buffer.from([10, 11]), atMs: 12.5 });
    expect(parseLine('abc')).toEqual({ error: expect.stringMatching(/odd number/) });
  });
});

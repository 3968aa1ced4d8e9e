// `tillgate decode` through the dispatcher: stdin to JSON lines, and option mistakes as usage errors.
import { describe, expect, it } from 'vitest';
import { frameHidPos } from '../../drivers/simulators.js';
import { cli } from './test-io.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('tillgate decode', () => {
  it('decodes a HID POS capture from stdin', async () => {
    const capture = frameHidPos('88123456789012345674', { aimId: ']C0' }).map(hex).join('\n');
    const result = await cli(['decode', '--transport', 'hid-pos'], { stdin: `${capture}\n` });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      transport: 'hid-pos',
      text: '88123456789012345674',
      line: 1,
    });
  });

  it('decodes serial bytes with their suffix, and exits 1 for an unreadable line', async () => {
    const result = await cli(['decode', '--transport', 'serial', '--suffix', 'cr'], {
      stdin: `${Buffer.from('HELLO-123\r').toString('hex')}\nzz\n`,
    });
    expect(result.status).toBe(1);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      expect.objectContaining({ transport: 'serial', text: 'HELLO-123' }),
      { error: 'line 2: not hex: "zz"', line: 2 },
    ]);
  });

  it('exits 2 for a missing or unknown transport, or a suffix the transport has not', async () => {
    for (const argv of [
      ['decode'],
      ['decode', '--transport', 'usb'],
      ['decode', '--transport', 'serial', '--suffix', 'enter'],
      ['decode', '--transport', 'hid-keyboard', '--layout', 'dvorak'],
    ]) {
      const result = await cli(argv, { stdin: '' });
      expect(result.status, argv.join(' ')).toBe(2);
      expect(result.stderr).toContain('Usage: tillgate decode');
    }
  });
});

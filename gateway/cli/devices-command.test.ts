// `tillgate devices`: scanners listed and matched to the config's lanes, a HID stack that cannot load
// reported with its reason while serial ports are still listed, and the machine's own devices.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ListDevicesDeps } from '../../drivers/devices-command.js';
import { loadHidBackend } from '../../drivers/hid-loader.js';
import { FakeHidBackend, hidPosDeviceInfo, keyboardDeviceInfo } from '../../drivers/simulators.js';
import { createDevicesCommand } from './devices-command.js';
import { cli, printed, writeGatewayConfig } from './test-io.js';

const dir = mkdtempSync(join(tmpdir(), 'tillgate-devices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hid = new FakeHidBackend([hidPosDeviceInfo(), keyboardDeviceInfo()]);
const serialList = async () => [
  {
    path: '/dev/ttyACM0',
    manufacturer: 'Honeywell',
    serialNumber: 'S123',
    pnpId: undefined,
    locationId: undefined,
    vendorId: '0c2e',
    productId: '0b61',
  },
];
const DLOPEN_ERROR = 'libusb-1.0.so.0: cannot open shared object file: No such file or directory';
/** node-hid's import failing, as the loader expects a missing libusb-1.0 to show. */
const noLibusb = () =>
  loadHidBackend(async () => {
    throw new Error(DLOPEN_ERROR);
  });
/** What node-hid 3 really does without libusb-1.0: it imports, and its first enumeration fails. */
const lazyNoLibusb = async () => ({
  devicesAsync: async () => {
    throw new Error(DLOPEN_ERROR);
  },
  open: async () => {
    throw new Error(DLOPEN_ERROR);
  },
});

function devices(argv: string[], deps: ListDevicesDeps) {
  return cli(['devices', ...argv], { commands: [createDevicesCommand(deps)] });
}

describe('tillgate devices', () => {
  it('lists scanners with the lane each serves and what is missing', async () => {
    const config = writeGatewayConfig(join(dir, 'tillgate.json'), {
      lanes: [
        { id: 'lane-1', scanners: [{ type: 'hid-pos', id: 'pos-a', vendorId: '0c2e' }] },
        { id: 'lane-2', scanners: [{ type: 'serial', id: 'ser-b', path: '/dev/ttyUSB7' }] },
        { id: 'lane-3', scanners: [{ type: 'simulated', id: 'sim-c' }] },
      ],
      registers: [{ id: 'reg-1', laneId: 'lane-1', keySha256: 'a'.repeat(64) }],
    });
    const result = await devices(['--config', config], { hid: hid.loader(), serialList });
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      expect.stringMatching(/^hid-pos\s+\/dev\/hidraw-pos0 0c2e:0b87 .*→ lane lane-1 \(pos-a\)$/),
      expect.stringMatching(/^hid-keyboard\s+\/dev\/hidraw-kbd0 .*→ no lane$/),
      expect.stringMatching(/^serial\s+\/dev\/ttyACM0 0c2e:0b61 Honeywell → no lane$/),
      'missing      lane lane-2 (ser-b, serial): no matching device',
      'simulated    lane lane-3 (sim-c)',
      '',
    ]);
  });

  it('still lists serial ports when node-hid cannot load, and says why and what to install', async () => {
    for (const hid of [noLibusb, lazyNoLibusb]) {
      const result = await devices([], { hid, serialList });
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^serial\s+\/dev\/ttyACM0 /m);
      expect(result.stdout).toMatch(
        /^unavailable {2}hid: node-hid could not be loaded \(libusb-1\.0\.so\.0: cannot open shared object file: No such file or directory\)\. HID scanners \(hid-pos, hid-keyboard\) are unavailable;.*apt-get install libusb-1\.0-0/m,
      );
    }
    const json = printed(await devices(['--json'], { hid: noLibusb, serialList }));
    expect(json.devices).toHaveLength(1);
    expect(json.unavailable).toEqual([{ kind: 'unavailable', transport: 'hid', reason: expect.any(String) }]);
  });

  it('exits 1 when no source can be listed, and says so when nothing is attached', async () => {
    const failing = async () => {
      throw new Error('spawn udevadm ENOENT');
    };
    const none = await devices([], { hid: noLibusb, serialList: failing });
    expect(none.status).toBe(1);
    expect(none.stdout).toMatch(
      /^no scanners found\nunavailable {2}hid: .*\nunavailable {2}serial: .*udevadm ENOENT.*\n$/,
    );
    expect(none.stderr).toBe(
      'tillgate devices: neither HID nor serial devices can be listed here (reasons above)\n',
    );
    const empty = await devices([], { hid: new FakeHidBackend().loader(), serialList: async () => [] });
    expect(empty).toEqual({ status: 0, stdout: 'no scanners found\n', stderr: '' });
  });

  it("lists this machine's devices, or says why each source cannot be listed", async () => {
    const result = await cli(['devices', '--json']);
    expect([0, 1]).toContain(result.status);
    const view = printed(result);
    expect(view).toEqual({
      devices: expect.any(Array),
      missing: [],
      simulated: [],
      unavailable: expect.any(Array),
    });
    for (const source of view.unavailable) expect(source.reason.length).toBeGreaterThan(10);
  });
});

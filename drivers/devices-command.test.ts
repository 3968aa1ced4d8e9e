// `tillgate devices`: listing per source, failures per source, matching devices to lane configs.
import { describe, expect, it } from 'vitest';
import { type ScannerConfig, ScannerConfigSchema } from './config.js';
import { type DeviceReport, formatDevicesView, listDevices, matchDevicesToLanes } from './devices-command.js';
import { FakeHidBackend, hidPosDeviceInfo, keyboardDeviceInfo } from './simulators.js';

const hid = new FakeHidBackend([
  hidPosDeviceInfo(),
  keyboardDeviceInfo(),
  {
    vendorId: 0x046d,
    productId: 0xc077,
    path: '/dev/hidraw-mouse',
    usagePage: 1,
    usage: 2,
    product: 'Mouse',
  },
]);
const ports = async () => [
  {
    path: '/dev/ttyACM0',
    manufacturer: 'Honeywell',
    serialNumber: 'S123',
    pnpId: undefined,
    locationId: undefined,
    vendorId: '0c2e',
    productId: '0b61',
  },
  {
    path: '/dev/ttyS0',
    manufacturer: undefined,
    serialNumber: undefined,
    pnpId: undefined,
    locationId: undefined,
    vendorId: undefined,
    productId: undefined,
  },
];

const config = (input: Record<string, unknown>): ScannerConfig => ScannerConfigSchema.parse(input);

describe('tillgate devices', () => {
  it('lists HID POS scanners, keyboard-wedge candidates and serial ports', async () => {
    const reports = await listDevices({ hid: hid.loader(), serialList: ports });
    expect(reports.map((report) => report.kind === 'device' && [report.mode, report.path])).toEqual([
      ['hid-pos', '/dev/hidraw-pos0'],
      ['hid-keyboard', '/dev/hidraw-kbd0'],
      ['serial', '/dev/ttyACM0'],
      ['serial', '/dev/ttyS0'],
    ]);
    expect(reports[2]).toMatchObject({ vendorId: 0x0c2e, productId: 0x0b61, serialNumber: 'S123' });
    const all = await listDevices({ hid: hid.loader(), serialList: ports, includeOtherHid: true });
    expect(all.some((report) => report.kind === 'device' && report.mode === 'hid-other')).toBe(true);
  });

  it('reports a source that fails and still lists the other', async () => {
    const reports = await listDevices({
      hid: hid.loader(),
      serialList: async () => {
        throw new Error('spawn udevadm ENOENT');
      },
    });
    expect(reports.at(-1)).toEqual({
      kind: 'unavailable',
      transport: 'serial',
      reason: expect.stringMatching(/udevadm ENOENT.*install the udev package/),
    });
    expect(reports.filter((report) => report.kind === 'device')).toHaveLength(2);
  });

  it('says which lane each device serves, what is missing, and what matches twice', async () => {
    const reports: DeviceReport[] = [
      ...(await listDevices({ hid: hid.loader(), serialList: ports })),
      { kind: 'unavailable', transport: 'hid', reason: 'nothing' },
    ];
    const view = matchDevicesToLanes(reports, [
      { id: 'lane-1', scanners: [config({ type: 'hid-pos', id: 'pos-a', vendorId: '0c2e' })] },
      {
        id: 'lane-2',
        scanners: [
          config({ type: 'serial', id: 'ser-b', vendorId: '0c2e', productId: '0b61' }),
          config({ type: 'hid-keyboard', id: 'kbd-c', vendorId: '05f9', layout: 'jp106' }),
          config({ type: 'hid-pos', id: 'pos-d', serialNumber: 'NOT-HERE' }),
          config({ type: 'simulated', id: 'sim-e' }),
        ],
      },
      { id: 'lane-3', scanners: [config({ type: 'hid-pos', id: 'pos-f' })] },
    ]);
    const lanesOf = (path: string) =>
      view.devices.find(({ device }) => device.path === path)!.lanes.map((lane) => lane.scannerId);
    expect(lanesOf('/dev/hidraw-pos0')).toEqual(['pos-a', 'pos-f']);
    expect(lanesOf('/dev/ttyACM0')).toEqual(['ser-b']);
    expect(lanesOf('/dev/hidraw-kbd0')).toEqual(['kbd-c']);
    expect(lanesOf('/dev/ttyS0')).toEqual([]); // no metadata: never assumed to be the vid/pid-configured scanner
    expect(view.missing).toEqual([{ laneId: 'lane-2', scannerId: 'pos-d', type: 'hid-pos' }]);
    expect(view.simulated).toEqual([{ laneId: 'lane-2', scannerId: 'sim-e', type: 'simulated' }]);
    const text = formatDevicesView(view);
    expect(text).toContain(
      'hid-pos      /dev/hidraw-pos0 0c2e:0b87 Honeywell Simulated HID POS scanner → lane lane-1 (pos-a), lane lane-3 (pos-f)  ! matches several scanner configs',
    );
    expect(text).toContain('missing      lane lane-2 (pos-d, hid-pos): no matching device');
    expect(text).toContain('unavailable  hid: nothing');
  });
});

// `tillgate devices`: the scanners attached to this machine, in which mode, and which lane of the config
// each one serves. A source that cannot be listed (node-hid without its native library) says why.
import type { DevicesView, ListDevicesDeps } from '../../drivers/devices-command.js';
import { hidUnavailableMessage } from '../../drivers/hid-loader.js';
import { parseCommandArgs } from './args.js';
import { type CliIo, type Command, EXIT_FAILURE, EXIT_OK, printJson } from './command.js';
import { loadConfigFile } from './config-file.js';

const HID_LOAD_FAILED = 'node-hid could not be loaded';

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  all: { type: 'boolean' },
} as const;

/** The command with its device sources injectable; the table uses node-hid and serialport. */
export function createDevicesCommand(deps: ListDevicesDeps = {}): Command {
  return {
    name: 'devices',
    summary: 'list attached scanners, their mode and the lane each serves',
    usage: `Usage: tillgate devices [--config FILE] [--all] [--json]

Lists HID POS scanners, keyboard-wedge candidates and serial ports. With --config, says which lane's scanner
each one matches and which configured scanners have no device. Exit status 1 when neither HID nor serial
devices can be listed on this machine.

  --config FILE  the gateway config whose lanes[].scanners[] to match
  --all          also list HID devices that are neither scanners nor keyboards
  --json         print {devices, missing, simulated, unavailable}`,
    run: (argv, io) => runDevices(argv, io, deps),
  };
}

async function runDevices(argv: string[], io: CliIo, deps: ListDevicesDeps): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const lanes = values.config === undefined ? [] : loadConfigFile(io, values.config).lanes;
  // The driver layer and serialport are imported on use: every command loads this module (see commands.ts).
  const drivers = await import('../../drivers/devices-command.js');
  const reports = await drivers.listDevices({ ...deps, includeOtherHid: values.all ?? false });
  const view = withHidRemedy(drivers.matchDevicesToLanes(reports, lanes));
  if (values.json) printJson(io, view);
  else io.stdout.write(humanView(view, drivers.formatDevicesView(view)));
  const unavailable = new Set(view.unavailable.map((source) => source.transport));
  if (unavailable.has('hid') && unavailable.has('serial')) {
    io.stderr.write('tillgate devices: neither HID nor serial devices can be listed here (reasons above)\n');
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/**
 * node-hid imports without its native library and fails only when it first enumerates, so the loader's
 * explanation (what to install) is added here to a bare dlopen error.
 */
function withHidRemedy(view: DevicesView): DevicesView {
  const unavailable = view.unavailable.map((source) =>
    source.transport === 'hid' && !source.reason.startsWith(HID_LOAD_FAILED)
      ? { ...source, reason: hidUnavailableMessage(new Error(source.reason)) }
      : source,
  );
  return { ...view, unavailable };
}

/** The driver's lines (`formatted`), led by "no scanners found" when there is nothing else to show. */
function humanView(view: DevicesView, formatted: string): string {
  const nothing = [view.devices, view.missing, view.simulated].every((list) => list.length === 0);
  const lines = nothing ? ['no scanners found'] : [];
  if (formatted !== '') lines.push(formatted);
  return `${lines.join('\n')}\n`;
}

export const devicesCommand = createDevicesCommand();

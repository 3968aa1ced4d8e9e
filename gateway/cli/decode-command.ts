// `tillgate decode`: drivers/decode-command.ts on stdin and stdout, for a technician's capture of reports.
import { Writable } from 'node:stream';
import type { DecodeTransport } from '../../drivers/decode-command.js';
import type { KeyboardLayoutName } from '../../drivers/keyboard-layouts.js';
import { parseCommandArgs, requiredOption } from './args.js';
import { type CliIo, type Command, EXIT_USAGE, type TextSink, usageError } from './command.js';

const TRANSPORTS: readonly DecodeTransport[] = ['hid-keyboard', 'hid-pos', 'serial'];

const OPTIONS = {
  transport: { type: 'string' },
  layout: { type: 'string' },
  suffix: { type: 'string' },
} as const;

export const decodeCommand: Command = {
  name: 'decode',
  summary: 'decode captured scanner reports (hex lines on stdin) into scans (JSON lines)',
  usage: `Usage: tillgate decode --transport hid-keyboard|hid-pos|serial [--layout us|jp106] [--suffix S] < capture

Reads one report per line as hex (hid-keyboard: 8 bytes, or 9 with a report ID; hid-pos: 64 bytes; serial: any
chunk), optionally prefixed with @<ms> for its arrival time; # starts a comment. Prints each scan the driver
would decode as a JSON line, {"warning": …} for reads it would refuse and {"error": …} for unreadable lines.
Exit status 1 when a line could not be read.

  --transport T  hid-keyboard, hid-pos or serial
  --layout L     keyboard layout for hid-keyboard: us (default) or jp106
  --suffix S     the scanner's suffix: enter|tab|none (hid-keyboard), cr|lf|crlf|none (serial)`,
  run: runDecodeCommand,
};

async function runDecodeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const transport = requiredOption(values.transport, '--transport');
  if (!TRANSPORTS.includes(transport as DecodeTransport)) {
    throw usageError(`--transport must be one of ${TRANSPORTS.join(', ')}`);
  }
  const options = {
    transport: transport as DecodeTransport,
    ...(values.layout === undefined ? {} : { layout: values.layout as KeyboardLayoutName }),
    ...(values.suffix === undefined ? {} : { suffix: values.suffix }),
  };
  // The driver layer is imported on use: every command loads this module (see commands.ts).
  const { runDecode } = await import('../../drivers/decode-command.js');
  const status = await runDecode(options, io.stdin, writableOf(io.stdout));
  // The driver has checked --layout and --suffix against the transport and printed why it refused them.
  if (status === EXIT_USAGE) throw usageError('--layout or --suffix does not fit the transport');
  return status;
}

function writableOf(sink: TextSink): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      sink.write(String(chunk));
      done();
    },
  });
}

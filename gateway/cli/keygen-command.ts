// `tillgate keygen`: a new random register or operator key and the SHA-256 the config holds instead of it
// (registers[].keySha256, registers[].nextKeySha256 during a rotation, operators[].keySha256).
import { newKey, sha256Hex } from '../http/auth.js';
import { parseCommandArgs } from './args.js';
import { type CliIo, type Command, EXIT_OK, printJson, usageError } from './command.js';

const OPTIONS = { for: { type: 'string' }, json: { type: 'boolean' } } as const;
const PREFIX = { register: 'rk_', operator: 'op_' } as const;

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'make a register or operator key and the SHA-256 the config keeps',
  usage: `Usage: tillgate keygen [--for register|operator] [--json]

Prints a new random key (32 bytes, base64url, prefixed rk_ or op_) and its SHA-256. The key goes to the register
or the person; only the SHA-256 goes in the config: registers[].keySha256 (or nextKeySha256 while rotating),
operators[].keySha256. The key is shown once and kept nowhere.

  --for KIND   register (default) or operator
  --json       print {key, keySha256}`,
  run: runKeygen,
};

async function runKeygen(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const kind = values.for ?? 'register';
  if (kind !== 'register' && kind !== 'operator') throw usageError('--for must be register or operator');
  const key = newKey(PREFIX[kind]);
  const keySha256 = sha256Hex(key);
  if (values.json) printJson(io, { key, keySha256 });
  else {
    const where = kind === 'register' ? 'registers[].keySha256' : 'operators[].keySha256';
    io.stdout.write(
      `${kind} key  ${key}\nkeySha256     ${keySha256}\n\nGive the key to the ${kind === 'register' ? 'register' : 'operator'}; put keySha256 in ${where}.\n`,
    );
  }
  return EXIT_OK;
}

// The table of `tillgate` commands, in the order `tillgate --help` lists them. A command is one module
// exporting a Command (command.ts); registering it is one import and one entry here. Every command's module
// is loaded for any command, so a module imports what only its own run needs (the sandbox wallet, the demo,
// the driver layer, a progress bar) inside run: `tillgate start` pays for no other command's dependencies.
import { reportCommand } from '../../sync/report-command.js';
import { syncCommand } from '../../sync/sync-command.js';
import { backupCommand } from './backup-command.js';
import type { Command } from './command.js';
import { decodeCommand } from './decode-command.js';
import { demoCommand } from './demo-command.js';
import { devicesCommand } from './devices-command.js';
import { keygenCommand } from './keygen-command.js';
import { paycodeCommand } from './paycode-command.js';
import { restoreCommand } from './restore-command.js';
import { startCommand } from './start-command.js';
import { statusCommand } from './status-command.js';
import { verifyCodeCommand } from './verify-code-command.js';
import { verifyLedgerCommand } from './verify-ledger-command.js';
import { walletCommand } from './wallet-command.js';

export const COMMANDS: readonly Command[] = [
  startCommand,
  demoCommand,
  statusCommand,
  syncCommand,
  backupCommand,
  restoreCommand,
  keygenCommand,
  walletCommand,
  devicesCommand,
  decodeCommand,
  verifyCodeCommand,
  verifyLedgerCommand,
  reportCommand,
  paycodeCommand,
];

export function findCommand(name: string, commands: readonly Command[] = COMMANDS): Command | undefined {
  return commands.find((command) => command.name === name);
}

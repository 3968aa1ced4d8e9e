// The `tillgate` program on the process's own streams, for both entries: main.ts (tsc's dist/ and tsx) and the
// bundled dist/bin/tillgate.js (launcher.ts).
import type { CliIo } from './command.js';
import { runCli } from './run-cli.js';

const io: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  // Only a command that reads stdin opens it: an open stdin would keep the process alive.
  get stdin() {
    return process.stdin;
  },
};

/** The exit status for these arguments (after the node and script paths). */
export function runProgram(argv: readonly string[]): Promise<number> {
  return runCli(argv, io);
}

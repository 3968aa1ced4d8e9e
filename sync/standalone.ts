// Runs one of sync/'s commands outside the `tillgate` dispatcher (tests, child processes, the gateway itself),
// turning what it throws into an exit status and a line on stderr the way gateway/cli/run-cli.ts does.
// Kept apart from run-cli.ts so that sync/ does not import the whole command table (which will import sync/).
import { Readable } from 'node:stream';
import { asksForHelp } from '../gateway/cli/args.js';
import { CliError, type CliIo, type Command, EXIT_FAILURE, EXIT_USAGE } from '../gateway/cli/command.js';

export type CommandIo = Pick<CliIo, 'stdout' | 'stderr'> & Partial<CliIo>;

export async function runStandalone(command: Command, argv: string[], io: CommandIo): Promise<number> {
  if (asksForHelp(argv)) {
    io.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(argv, { stdin: Readable.from([]), ...io });
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    if (error.exitCode === EXIT_USAGE) {
      io.stderr.write(`tillgate ${command.name}: ${error.message}\n\n${command.usage}\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`tillgate ${command.name}: ${error.message}\n`);
    return EXIT_FAILURE;
  }
}

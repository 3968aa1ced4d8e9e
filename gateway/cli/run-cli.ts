// The dispatcher: global options, `help`, the command's --help, and the one place where what a command
// throws becomes an exit status and a line on stderr (a stack trace only with --verbose).
import { asksForHelp, asksForVerbose } from './args.js';
import { CliError, type CliIo, type Command, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './command.js';
import { COMMANDS, findCommand } from './commands.js';

export async function runCli(
  argv: readonly string[],
  io: CliIo,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const global = takeGlobalOptions(argv);
  if ('unknown' in global) return badUsage(io, `unknown option ${global.unknown}`, generalHelp(commands));
  if (global.help) return printHelp(io, generalHelp(commands));
  const [name, ...rest] = global.rest;
  if (name === undefined) return badUsage(io, 'no command given', generalHelp(commands));
  if (name === 'help') return helpCommand(rest, io, commands);
  const command = findCommand(name, commands);
  if (command === undefined)
    return badUsage(io, `unknown command ${JSON.stringify(name)}`, generalHelp(commands));
  if (asksForHelp(rest)) return printHelp(io, command.usage);
  const verbose = global.verbose || asksForVerbose(rest);
  try {
    return await command.run(rest, io);
  } catch (error) {
    return report(error, command, io, verbose);
  }
}

type GlobalOptions = { help: boolean; verbose: boolean; rest: readonly string[] } | { unknown: string };

/** Options before the command name: --help, --verbose. */
function takeGlobalOptions(argv: readonly string[]): GlobalOptions {
  let help = false;
  let verbose = false;
  let index = 0;
  for (; index < argv.length && argv[index]!.startsWith('-'); index++) {
    const option = argv[index]!;
    if (option === '--help' || option === '-h') help = true;
    else if (option === '--verbose') verbose = true;
    else return { unknown: option };
  }
  return { help, verbose, rest: argv.slice(index) };
}

function helpCommand(argv: readonly string[], io: CliIo, commands: readonly Command[]): number {
  if (argv.length === 0) return printHelp(io, generalHelp(commands));
  const command = argv.length === 1 ? findCommand(argv[0]!, commands) : undefined;
  if (command === undefined)
    return badUsage(io, `no command ${JSON.stringify(argv.join(' '))}`, generalHelp(commands));
  return printHelp(io, command.usage);
}

function report(error: unknown, command: Command, io: CliIo, verbose: boolean): number {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof CliError && error.exitCode === EXIT_USAGE) {
    return badUsage(io, `${command.name}: ${message}`, command.usage);
  }
  const hint = error instanceof CliError || verbose ? '' : ' (--verbose shows where)';
  io.stderr.write(`tillgate ${command.name}: ${message}${hint}\n`);
  if (verbose) io.stderr.write(`${stackOf(error)}\n`);
  return EXIT_FAILURE;
}

/** The stack with the stacks of its causes. */
function stackOf(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\ncaused by: ');
}

function printHelp(io: CliIo, text: string): number {
  io.stdout.write(`${text}\n`);
  return EXIT_OK;
}

function badUsage(io: CliIo, message: string, usage: string): number {
  io.stderr.write(`tillgate ${message}\n\n${usage}\n`);
  return EXIT_USAGE;
}

export function generalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length), 'help'.length) + 2;
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`);
  return [
    'Usage: tillgate [--verbose] COMMAND [OPTIONS]',
    '',
    'Commands:',
    ...lines,
    `  ${'help'.padEnd(width)}this text, or a command's options: tillgate help COMMAND`,
    '',
    'Every command takes --help. Exit status: 0 success, 1 a failure it explains, 2 bad usage.',
  ].join('\n');
}

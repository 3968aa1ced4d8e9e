// The contract every `tillgate` command implements, the io it is given (so tests run commands in-process),
// and the one error type a command throws to end with an explanation (exit 1) or a usage error (exit 2).
import type { Readable } from 'node:stream';

/** Where a command writes text: process.stdout/stderr in the bin, a string buffer in tests. */
export interface TextSink {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  stdin: Readable;
  /** Relative paths (--data, --config, their defaults) resolve against this; default: process.cwd(). */
  cwd?: string;
  /** Aborted when a long-running command should stop; default: the process's SIGINT/SIGTERM (see stop.ts). */
  stop?: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `tillgate --help`. */
  summary: string;
  /** The whole help text, starting with `Usage: tillgate NAME …`. */
  usage: string;
  /** Resolves to the exit status: 0 success, 1 a failure it explained, 2 bad usage. */
  run(argv: string[], io: CliIo): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the command explains in one line (exit 1), or bad usage (exit 2, usage printed after it). */
export class CliError extends Error {
  readonly exitCode: typeof EXIT_FAILURE | typeof EXIT_USAGE;

  constructor(
    exitCode: typeof EXIT_FAILURE | typeof EXIT_USAGE,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function usageError(message: string): CliError {
  return new CliError(EXIT_USAGE, message);
}

export function failure(message: string, cause?: unknown): CliError {
  return new CliError(EXIT_FAILURE, message, cause === undefined ? undefined : { cause });
}

export function workingDir(io: CliIo): string {
  return io.cwd ?? process.cwd();
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

// Option parsing shared by the commands: node:util parseArgs in strict mode, with --help and --verbose
// accepted everywhere, positional counts checked, and every parse problem turned into a usage error.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { usageError } from './command.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
} as const satisfies OptionsConfig;

export interface PositionalCount {
  min: number;
  max: number;
  /** How the usage names them, for the error message. */
  name: string;
}

const NO_POSITIONALS: PositionalCount = { min: 0, max: 0, name: '' };

export function parseCommandArgs<const T extends OptionsConfig>(
  argv: readonly string[],
  options: T,
  positionals: PositionalCount = NO_POSITIONALS,
) {
  let parsed: ReturnType<typeof parseWith<T>>;
  try {
    parsed = parseWith(argv, options);
  } catch (error) {
    if (isParseArgsError(error)) throw usageError(error.message);
    throw error;
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) throw usageError(`missing ${positionals.name}`);
  if (count > positionals.max) {
    const extra = parsed.positionals[positionals.max] ?? '';
    throw usageError(`unexpected argument ${JSON.stringify(extra.slice(0, 40))}`);
  }
  return parsed;
}

function parseWith<const T extends OptionsConfig>(argv: readonly string[], options: T) {
  return parseArgs({
    args: [...argv],
    options: { ...COMMON_OPTIONS, ...options },
    strict: true,
    allowPositionals: true,
  });
}

function isParseArgsError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** Whether the words before any `--` ask for help. */
export function asksForHelp(argv: readonly string[]): boolean {
  return wordsBeforeEnd(argv).some((word) => word === '--help' || word === '-h');
}

export function asksForVerbose(argv: readonly string[]): boolean {
  return wordsBeforeEnd(argv).includes('--verbose');
}

function wordsBeforeEnd(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

export function requiredOption(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw usageError(`${flag} is required`);
  return value;
}

/** A whole number in [min, max] from an option's text; undefined when the option was not given. */
export function integerOption(
  value: string | undefined,
  flag: string,
  range: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const number = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < range.min || number > range.max) {
    throw usageError(
      `${flag} must be a whole number from ${range.min} to ${range.max}, not ${JSON.stringify(value)}`,
    );
  }
  return number;
}

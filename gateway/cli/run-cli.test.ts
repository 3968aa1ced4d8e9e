// The dispatcher: help everywhere, exit statuses 0/1/2, one line on stderr for a failure, stacks only with --verbose.
import { describe, expect, it } from 'vitest';
import { type Command, failure } from './command.js';
import { COMMANDS } from './commands.js';
import { cli } from './test-io.js';

const throwing = (error: unknown): Command => ({
  name: 'boom',
  summary: 'fails',
  usage: 'Usage: tillgate boom',
  run: async () => {
    throw error;
  },
});

describe('tillgate', () => {
  it('lists every command in --help and exits 0', async () => {
    const result = await cli(['--help']);
    expect(result.status).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toContain(`  ${command.name} `);
    expect(result.stdout).toMatch(/^Usage: tillgate/);
    expect(await cli(['help'])).toEqual(result);
  });

  for (const command of COMMANDS) {
    it(`prints the usage of ${command.name} for --help, -h and help ${command.name}`, async () => {
      for (const argv of [
        [command.name, '--help'],
        [command.name, '-h'],
        ['help', command.name],
      ]) {
        const result = await cli(argv);
        expect(result).toEqual({ status: 0, stdout: `${command.usage}\n`, stderr: '' });
      }
      expect(command.usage).toMatch(new RegExp(`^Usage: tillgate ${command.name}`));
    });
  }

  it('has every command of CONTRACT §5, and --json wherever a command prints facts for scripts', () => {
    const names = COMMANDS.map((command) => command.name);
    for (const name of [
      'start',
      'demo',
      'wallet',
      'status',
      'sync',
      'devices',
      'decode',
      'verify-code',
      'verify-ledger',
      'report',
      'paycode',
    ]) {
      expect(names).toContain(name);
    }
    // start logs JSON lines; decode and verify-code print JSON lines always; report prints CSV.
    const alwaysMachineReadable = ['start', 'decode', 'verify-code', 'report'];
    for (const command of COMMANDS) {
      if (alwaysMachineReadable.includes(command.name)) continue;
      expect(command.usage, command.name).toMatch(/\n {2}--json {2,}\S/);
    }
  });

  it('exits 2 with the usage for no command, an unknown command or an unknown option', async () => {
    for (const argv of [[], ['frobnicate'], ['--frob'], ['help', 'frobnicate']]) {
      const result = await cli(argv);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('Usage: tillgate [--verbose] COMMAND');
    }
    expect((await cli(['frobnicate'])).stderr).toMatch(/^tillgate unknown command "frobnicate"/);
  });

  it("exits 2 with the command's usage for an option it does not know", async () => {
    const result = await cli(['verify-ledger', '--bogus']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^tillgate verify-ledger: Unknown option '--bogus'/);
    expect(result.stderr).toContain('Usage: tillgate verify-ledger');
  });

  it('explains a failure in one line on stderr, with the stack only under --verbose', async () => {
    const quiet = await cli(['verify-ledger', '--data', '/nonexistent/tillgate']);
    expect(quiet.status).toBe(1);
    expect(quiet.stderr).toBe(
      'tillgate verify-ledger: no gateway database at /nonexistent/tillgate/gateway.sqlite\n',
    );
    for (const argv of [
      ['verify-ledger', '--verbose', '--data', '/nonexistent/tillgate'],
      ['--verbose', 'verify-ledger', '--data', '/nonexistent/tillgate'],
    ]) {
      const verbose = await cli(argv);
      expect(verbose.status).toBe(1);
      expect(verbose.stderr).toMatch(/no gateway database[^\n]*\nCliError: [^\n]*\n\s+at /);
    }
  });

  it('reports an unexpected error as a failure, hinting at --verbose', async () => {
    const commands = [throwing(new TypeError('x is not a function'))];
    const result = await cli(['boom'], { commands });
    expect(result).toEqual({
      status: 1,
      stdout: '',
      stderr: 'tillgate boom: x is not a function (--verbose shows where)\n',
    });
    const explained = await cli(['boom'], { commands: [throwing(failure('the thing is off'))] });
    expect(explained.stderr).toBe('tillgate boom: the thing is off\n');
  });

  it('passes the words after -- to the command untouched', async () => {
    const result = await cli([
      'verify-code',
      '--now',
      '1767225600',
      '--keys',
      '/nonexistent/keys.json',
      '--',
      '--help',
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/cannot read the keys file/);
  });
});

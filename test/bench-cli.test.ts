// The bench scripts' command lines (docs/benchmarks.md points to `--help`): each prints its usage for --help and
// exits 0; an unknown option or a bad number is a usage error, exit 2 with the problem named and no stack trace,
// before any server is started. Runs the built scripts (`npm test` builds first).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPTS = [
  'run',
  'durable-commits',
  'offline-throughput',
  'online-latency',
  'startup',
  'scan-path',
  'demo-checkout',
  'sync-backlog',
  'freeze-propagation',
];
const DIST = join(import.meta.dirname, '..', 'dist', 'bench');

function bench(name: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [join(DIST, `${name}.js`), ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env,
  });
}

describe('bench scripts on the command line', () => {
  it('are built', () => {
    for (const name of SCRIPTS) expect(existsSync(join(DIST, `${name}.js`)), name).toBe(true);
  });

  it.each(SCRIPTS)('%s: --help prints the usage, exit 0', (name) => {
    const result = bench(name, ['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: node dist/bench/${name}\\.js`));
    expect(result.stdout).toContain('--help');
  });

  it.each(SCRIPTS)('%s: an unknown option is a usage error, exit 2, no stack trace', (name) => {
    const result = bench(name, ['--no-such-option']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^Unknown option '--no-such-option'/);
    expect(result.stderr).toContain(`Usage: node dist/bench/${name}.js`);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('a number that is not one is a usage error too', () => {
    const result = bench('durable-commits', ['--duration', 'soon']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^--duration: expected a positive number, got "soon"/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('run: a program a scenario needs that is not on PATH is said before the first scenario, exit 2', () => {
    const result = bench('run', [], { ...process.env, PATH: join(DIST, 'no-such-dir') });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /^scan-path needs socat, not found on PATH \(Debian\/Ubuntu: apt-get install socat\)/,
    );
    expect(result.stderr).toContain('--skip scan-path');
    expect(result.stdout).not.toContain('## ');
  });
});

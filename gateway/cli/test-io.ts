// Test support: runs `tillgate` in-process with captured stdout/stderr, a given stdin and cwd, and a stop
// controller standing in for SIGINT. No test framework imports here.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import type { CliIo, Command } from './command.js';
import { runCli } from './run-cli.js';

export interface CapturedIo extends CliIo {
  readonly out: string;
  readonly err: string;
  /** Aborts the io's stop signal, as Ctrl-C would. */
  interrupt(): void;
}

export function capturedIo(options: { stdin?: string; cwd?: string } = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  const stop = new AbortController();
  return {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stop: stop.signal,
    get out() {
      return out.join('');
    },
    get err() {
      return err.join('');
    },
    interrupt: () => stop.abort('SIGINT'),
  };
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export async function cli(
  argv: readonly string[],
  options: { stdin?: string; cwd?: string; commands?: readonly Command[] } = {},
): Promise<CliResult> {
  const io = capturedIo(options);
  const status = await runCli(argv, io, options.commands);
  return { status, stdout: io.out, stderr: io.err };
}

/** The JSON printed on stdout (one value). */
// biome-ignore lint/suspicious/noExplicitAny: tests read the printed fields one by one
export function printed(result: CliResult): any {
  return JSON.parse(result.stdout);
}

/** A URL on 127.0.0.1 where nothing listens: a port that was free a moment ago. */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** Writes a minimal valid gateway config (gateway/config.ts) to `file`, with `fields` on top. */
export function writeGatewayConfig(file: string, fields: Record<string, unknown> = {}): string {
  const config = {
    storeId: 'store-1',
    dataDir: 'data',
    wallet: { url: 'http://127.0.0.1:8421', storeKey: 'a-store-key-of-some-length' },
    registers: [{ id: 'reg-1', laneId: 'lane-1', keySha256: 'a'.repeat(64) }],
    lanes: [{ id: 'lane-1' }],
    ...fields,
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

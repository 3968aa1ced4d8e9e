// `tillgate wallet`: the sandbox central wallet alone, on DIR/wallet.sqlite, until SIGINT/SIGTERM.
// It prints its URL and its admin key once on stdout (a sandbox key, meant to be copied); logs go to stderr.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningWallet } from '../../wallet/server.js';
import { createLogger } from '../log.js';
import { integerOption, parseCommandArgs, requiredOption } from './args.js';
import { type CliIo, type Command, EXIT_OK, failure, printJson } from './command.js';
import { dataDirOf, WALLET_DB_FILE } from './demo-file.js';
import { stopSignal, untilStopped } from './stop.js';

const OPTIONS = {
  port: { type: 'string' },
  data: { type: 'string' },
  host: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const walletCommand: Command = {
  name: 'wallet',
  summary: 'run the sandbox wallet alone',
  usage: `Usage: tillgate wallet --port P --data DIR [--host H] [--json]

Runs the sandbox central wallet on DIR/${WALLET_DB_FILE} (created if missing) until Ctrl-C or SIGTERM.
Prints its URL and its sandbox admin key once; the key is kept in the database, so a restart keeps it.
Logs JSON lines on stderr.

  --port P     port to listen on (0: any free port)
  --data DIR   directory of the wallet's database
  --host H     address to listen on (default 127.0.0.1)
  --json       print the start-up facts as one JSON line {walletUrl, sandboxAdminKey, database}
  --verbose    log every request`,
  run: runWallet,
};

async function runWallet(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const port = integerOption(requiredOption(values.port, '--port'), '--port', { min: 0, max: 65_535 })!;
  const dataDir = dataDirOf(io, requiredOption(values.data, '--data'));
  const database = join(dataDir, WALLET_DB_FILE);
  const stop = stopSignal(io);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logger = createLogger({ destination: io.stderr, level: values.verbose ? 'debug' : 'info' });
  // The sandbox wallet is imported on use: every command loads this module (see commands.ts).
  const { startWallet } = await import('../../wallet/server.js');
  const wallet = await startOrExplain(() =>
    startWallet({ dbPath: database, port, logger, ...(values.host ? { host: values.host } : {}) }),
  );
  if (values.json) printJson(io, { walletUrl: wallet.url, sandboxAdminKey: wallet.adminKey, database });
  else io.stdout.write(banner(wallet, database));
  const reason = await untilStopped(stop);
  await wallet.close();
  if (!values.json) io.stdout.write(`sandbox wallet stopped (${reason})\n`);
  return EXIT_OK;
}

async function startOrExplain(start: () => Promise<RunningWallet>): Promise<RunningWallet> {
  try {
    return await start();
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'EADDRINUSE') throw failure('the port is already in use; pick another with --port', error);
    if (code === 'EACCES') throw failure(`not allowed to listen there (${message})`, error);
    if (code === 'EADDRNOTAVAIL')
      throw failure(`--host is not an address of this machine (${message})`, error);
    throw error;
  }
}

function banner(wallet: RunningWallet, database: string): string {
  const auth = `-H 'authorization: Bearer ${wallet.adminKey}'`;
  return [
    `sandbox wallet listening on ${wallet.url}`,
    `sandbox admin key: ${wallet.adminKey}`,
    `  (sandbox only; kept in ${database}, so it survives a restart)`,
    'make an account:',
    `  curl -s -X POST ${wallet.url}/v1/sandbox/accounts ${auth} -H 'content-type: application/json' -d '{"balance":100000,"currency":"JPY"}'`,
    'then a pay code for it:',
    `  tillgate paycode --wallet ${wallet.url} --admin-key ${wallet.adminKey} --account ACCOUNT_ID`,
    'stop with Ctrl-C',
    '',
  ].join('\n');
}

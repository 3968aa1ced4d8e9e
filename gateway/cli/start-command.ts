// `tillgate start --config FILE`: the gateway, until SIGINT/SIGTERM; then it stops taking payments, finishes or
// fails the ones in flight and closes the database. A bad config file stops it with every problem listed.
import { join, resolve } from 'node:path';
import { sqlitePrimaryCode } from '../errors.js';
import { DATABASE_FILE, startGateway } from '../gateway.js';
import { asyncStdout, createLogger } from '../log.js';
import { parseCommandArgs, requiredOption } from './args.js';
import { type CliIo, type Command, EXIT_OK, failure, workingDir } from './command.js';
import { loadConfigFile } from './config-file.js';
import { reloadOnHangup } from './reload-signal.js';
import { stopSignal, untilStopped } from './stop.js';

const OPTIONS = { config: { type: 'string', short: 'c' }, 'watch-config': { type: 'boolean' } } as const;

export const startCommand: Command = {
  name: 'start',
  summary: 'run the gateway',
  usage: `Usage: tillgate start --config FILE [--watch-config]

Runs the gateway with the JSON configuration FILE (see README: Configuration) until Ctrl-C or SIGTERM.
Logs JSON lines on stdout. On a stop signal it takes no new payments, lets decisions in flight finish (at most
http.shutdownGraceMs), declines what is left with a reversal queued, and closes the database.
SIGHUP reads FILE again and applies register keys, operators and the store key at once (key rotation without
downtime); other changes are logged as needing a restart, and a bad file changes nothing.

  --config FILE     the configuration file (every problem in it is listed, exit 1)
  --watch-config    also reload when FILE changes (for Windows services, which have no SIGHUP)`,
  run: runStart,
};

async function runStart(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const file = requiredOption(values.config, '--config');
  const config = loadConfigFile(io, file);
  const stop = stopSignal(io);
  const logger = createLogger({
    // The process's own stdout goes through asyncStdout(); a test's captured io is written as it is.
    destination: io.stdout === process.stdout ? asyncStdout() : io.stdout,
    level: values.verbose ? 'debug' : config.log.level,
  });
  const place = { host: config.http.host, port: config.http.port, dataDir: config.dataDir };
  const gateway = await startOrExplain(place, () => startGateway(config, { logger }));
  const stopReloading = reloadOnHangup(resolve(workingDir(io), file), gateway, logger, {
    watchFile: values['watch-config'] === true,
  });
  const reason = await untilStopped(stop);
  stopReloading();
  logger.info({ signal: reason }, 'stop requested');
  await gateway.close();
  return EXIT_OK;
}

/** Start-up failures an operator can fix get one line saying what to do. */
export async function startOrExplain<T>(
  place: { host: string; port: number; dataDir: string },
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const where = `${place.host}:${place.port}`;
    if (code === 'EADDRINUSE')
      throw failure(`${where} is already in use; is another gateway running?`, error);
    if (code === 'EACCES') throw failure(`not allowed to listen on ${where} (${message})`, error);
    if (code === 'EADDRNOTAVAIL')
      throw failure(`http.host is not an address of this machine (${message})`, error);
    const file = join(place.dataDir, DATABASE_FILE);
    const sqlite = sqlitePrimaryCode(error);
    if (sqlite === 'SQLITE_NOTADB' || sqlite === 'SQLITE_CORRUPT') {
      // The damaged file is evidence: it is left exactly as it is, never repaired or replaced here.
      throw failure(
        `the database ${file} is damaged (${message}); it was left untouched. ` +
          'Keep it for inspection and put the last good copy in its place with `tillgate restore --from BACKUP` ' +
          '(a file made by `tillgate backup`; see docs/deployment.md, Backup and restore)',
        error,
      );
    }
    if (sqlite === 'SQLITE_CANTOPEN' || sqlite === 'SQLITE_READONLY') {
      throw failure(`cannot use the database ${file}: ${message}`, error);
    }
    throw error;
  }
}

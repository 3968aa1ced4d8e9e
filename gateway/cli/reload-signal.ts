// Config reloads of a running gateway: on SIGHUP (`systemctl reload tillgate`), and — with `start --watch-config`,
// for Windows, which has no SIGHUP — when the file changes. The file is read again and the gateway takes what it can
// without a restart (register keys, operators, the store key: gateway/reload.ts). A bad file is logged with every
// problem and changes nothing.
import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import type { RunningGateway } from '../gateway.js';
import { ReloadRefused } from '../reload.js';

/** How often --watch-config looks at the file's modification time. */
export const CONFIG_WATCH_INTERVAL_MS = 1_000;

/** Reloads until the returned function is called. */
export function reloadOnHangup(
  file: string,
  gateway: RunningGateway,
  logger: Logger,
  options: { watchFile?: boolean } = {},
): () => void {
  const reload = (trigger: 'SIGHUP' | 'file changed'): void => {
    try {
      gateway.reload(loadConfig(file));
    } catch (error) {
      if (error instanceof ConfigError)
        logger.error({ trigger, problems: error.problems }, 'reload refused: bad config file');
      else if (error instanceof ReloadRefused)
        logger.error({ trigger, reason: error.message }, 'reload refused');
      else logger.error({ trigger, err: error }, 'reload failed');
    }
  };
  const onHangup = (): void => reload('SIGHUP');
  const onChange = (now: { mtimeMs: number }, before: { mtimeMs: number }): void => {
    if (now.mtimeMs !== before.mtimeMs && now.mtimeMs !== 0) reload('file changed');
  };
  process.on('SIGHUP', onHangup);
  if (options.watchFile) watchFile(file, { interval: CONFIG_WATCH_INTERVAL_MS, persistent: false }, onChange);
  return () => {
    process.off('SIGHUP', onHangup);
    if (options.watchFile) unwatchFile(file, onChange);
  };
}

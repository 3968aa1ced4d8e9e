// The gateway config file as the commands read it: gateway/config.ts does the work; a bad file is a
// failure that lists every problem, never a stack trace.
import { resolve } from 'node:path';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { type CliIo, failure, workingDir } from './command.js';

export function loadConfigFile(io: CliIo, file: string): Config {
  try {
    return loadConfig(resolve(workingDir(io), file));
  } catch (error) {
    if (error instanceof ConfigError) throw failure(error.message, error);
    throw error;
  }
}

// `tillgate sync` in a process of its own, for tests that kill the uploader mid-flight:
// node --import tsx test/support/sync-child.ts --config FILE [...]. Exits with the command's status.
import { runSyncCommand } from '../../sync/sync-command.js';

const code = await runSyncCommand(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
process.exit(code);

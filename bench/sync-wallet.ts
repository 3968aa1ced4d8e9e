// The sandbox wallet alone in a process, for bench/sync-backlog.ts: opens the given SQLite file on an ephemeral
// loopback port, creates the bench store, prints {url, adminKey, storeId, storeKey} as one JSON line, and closes on SIGTERM.
// Usage: node dist/bench/sync-wallet.js --db FILE
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createStore, startWallet } from '../wallet/server.js';

const { values } = parseArgs({ options: { db: { type: 'string' } } });
if (values.db === undefined) throw new Error('--db FILE is required');
const wallet = await startWallet({ dbPath: values.db, port: 0, logger: pino({ level: 'warn' }) });
const { storeId, storeKey } = createStore(wallet, 'bench-store');
process.stdout.write(
  `${JSON.stringify({ url: wallet.url, adminKey: wallet.adminKey, storeId, storeKey })}\n`,
);
process.once('SIGTERM', () => {
  void wallet.close().then(() => process.exit(0));
});

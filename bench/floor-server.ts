// The floor of an offline approval: the work CONTRACT §1.1 and the issue's durability rule ask of any
// implementation per request, and nothing else. Express parses the JSON body; the pay code's offline checks 1–7
// run (gateway/paycode: decoding, the certificate's issuer signature once per certificate, the phone's Ed25519
// signature on libuv's pool, as the gateway does); one row is written to SQLite in WAL mode with
// synchronous=FULL, the rows of one event-loop turn sharing one transaction (gateway/db/commit-group.ts), and the
// answer goes out once that commit returned. No register auth, no replay counter, no limits, no ledger chain, no
// logs. bench/offline-throughput.ts drives it like the gateway in the same run: the gateway's rate against this
// one says what its own decision costs; this one's against the echo says what share of the HTTP ceiling any design
// that verifies each code and commits before answering can reach on this machine.
// Prints {url} as one JSON line, closes on SIGTERM.
// Usage: node dist/bench/floor-server.js --keys GATEWAY_SQLITE --data FILE [--port 0] [--max-code-age-sec 600]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import express from 'express';
import { commitGroup } from '../gateway/db/commit-group.js';
import { checkPayCodeAsync, IssuerKeyRing } from '../gateway/paycode/verify.js';
import { ISSUER_KEYS_SQL, type IssuerKeyRow, toIssuerKey } from '../gateway/payments/issuer-keys.js';
import { numberOption } from './support.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    keys: { type: 'string' },
    data: { type: 'string' },
    'max-code-age-sec': { type: 'string' },
  },
});
if (values.keys === undefined || values.data === undefined) {
  throw new Error('usage: floor-server.js --keys GATEWAY_SQLITE --data FILE [--port 0]');
}
const maxCodeAgeSec = numberOption(values['max-code-age-sec'], '--max-code-age-sec', 600);

/** The issuer keys the gateway fetched (its issuer_keys table), read once. */
function issuerKeys(file: string): IssuerKeyRing {
  const source = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return new IssuerKeyRing(source.prepare<[], IssuerKeyRow>(ISSUER_KEYS_SQL).all().map(toIssuerKey));
  } finally {
    source.close();
  }
}

const keys = issuerKeys(values.keys);
const db = new Database(values.data);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(
  'CREATE TABLE IF NOT EXISTS approvals (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, body TEXT NOT NULL)',
);
const insert = db.prepare<[string, string]>('INSERT INTO approvals (device_id, body) VALUES (?, ?)');
const commits = commitGroup(db);

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: 16_384 }));
app.post('/pay', async (req, res) => {
  const body = req.body as { payCode?: unknown };
  const check =
    typeof body.payCode === 'string'
      ? await checkPayCodeAsync(body.payCode, {
          keys,
          now: Math.floor(Date.now() / 1000),
          maxCodeAgeSec,
          maxClockSkewSec: 60,
        })
      : undefined;
  if (check?.outcome !== 'valid') {
    res.status(422).json({ approved: false, outcome: check?.outcome ?? 'no_code' });
    return;
  }
  const deviceId = check.code.certificate.deviceId;
  commits.write(() => insert.run(deviceId, JSON.stringify(req.body)));
  await commits.durable();
  res.status(201).json({ approved: true, deviceId });
});

const server = createServer({ keepAliveTimeout: 5_000 }, app);
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => {
    db.close();
    process.exit(0);
  });
  server.closeAllConnections();
});

// `tillgate demo`: the sandbox wallet, the gateway and simulated scanners on two lanes on this machine.
// Prints the URLs, the register keys and curl lines that pay; then one line per decided payment.
import { join } from 'node:path';
import type { RunningDemo } from '../demo/demo.js';
import { createLogger } from '../log.js';
import type { Payment } from '../payments/payment.js';
import { integerOption, parseCommandArgs } from './args.js';
import { type CliIo, type Command, EXIT_OK, printJson, usageError } from './command.js';
import { DEFAULT_DATA_DIR, dataDirOf } from './demo-file.js';
import { startOrExplain } from './start-command.js';
import { stopSignal, untilStopped } from './stop.js';

const OPTIONS = {
  data: { type: 'string' },
  port: { type: 'string' },
  'customer-delay-ms': { type: 'string' },
  'log-level': { type: 'string' },
  'velocity-max-payments': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const DEFAULT_PORT = 8420;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const demoCommand: Command = {
  name: 'demo',
  summary: 'sandbox wallet + gateway + simulated scanners on two lanes, ready to pay',
  usage: `Usage: tillgate demo [--data DIR] [--port P] [--customer-delay-ms N] [--log-level L] [--json]

Starts the sandbox wallet (port P+1), the gateway (port P) and a simulated scanner on each of two lanes, one
register each, with two customers whose phones are kept in DIR/phones. Whenever a lane waits for a scan, its
customer shows the phone after N ms. Writes DIR/demo.json {gatewayUrl, walletUrl, storeId, sandboxAdminKey,
registers} for scripts. Runs until Ctrl-C.

  --data DIR               databases, phones and demo.json (default ./${DEFAULT_DATA_DIR})
  --port P                 the gateway's port (default ${DEFAULT_PORT}; the wallet takes P+1)
  --customer-delay-ms N    how long the simulated customer takes to show the phone (default 1500)
  --log-level L            log level of the JSON log lines on stderr (default warn)
  --velocity-max-payments N  payments one account may make within the velocity window (default 100)
  --json                   print demo.json's contents as one JSON line instead of the banner`,
  run: runDemo,
};

async function runDemo(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const port = integerOption(values.port, '--port', { min: 0, max: 65_534 }) ?? DEFAULT_PORT;
  const delay =
    integerOption(values['customer-delay-ms'], '--customer-delay-ms', { min: 0, max: 600_000 }) ?? 1_500;
  const velocityMaxPayments =
    integerOption(values['velocity-max-payments'], '--velocity-max-payments', { min: 1, max: 10_000 }) ?? 100;
  const level = values['log-level'] ?? (values.verbose ? 'debug' : 'warn');
  if (!LOG_LEVELS.includes(level)) throw usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const dataDir = dataDirOf(io, values.data);
  const stop = stopSignal(io);
  const logger = createLogger({ destination: io.stderr, level });
  // The demo and its sandbox wallet are imported on use: every command loads this module (see commands.ts).
  const { startDemo } = await import('../demo/demo.js');
  const demo = await startOrExplain({ host: '127.0.0.1', port, dataDir }, () =>
    startDemo({ dataDir, port, logger, customerDelayMs: delay, velocityMaxPayments }),
  );
  if (values.json) printJson(io, demo.file);
  else io.stdout.write(banner(demo, dataDir, delay));
  if (!values.json) demo.gateway.service.on('payment', (payment) => io.stdout.write(paymentLine(payment)));
  const reason = await untilStopped(stop);
  await demo.close();
  if (!values.json) io.stdout.write(`demo stopped (${reason})\n`);
  return EXIT_OK;
}

function banner(demo: RunningDemo, dataDir: string, delayMs: number): string {
  const gw = demo.file.gatewayUrl;
  const [first] = demo.file.registers;
  const auth = `-H 'authorization: Bearer ${first!.key}'`;
  const json = `-H 'content-type: application/json'`;
  const customer = demo.customers.find((c) => c.laneId === first!.laneId)!;
  return [
    'tillgate demo is running',
    `  gateway   ${gw}   (register API; /v1/status, /healthz, /metrics)`,
    `  wallet    ${demo.file.walletUrl}   (sandbox; admin key ${demo.file.sandboxAdminKey})`,
    ...demo.file.registers.map((r) => `  ${r.id} on ${r.laneId}: register key ${r.key}`),
    `  demo.json ${join(dataDir, 'demo.json')}`,
    '',
    `Store dashboard: ${gw}/  (operator key ${demo.file.operatorKey})`,
    `Cashier lane view: ${gw}/lane  (sign in with a register key above)`,
    '',
    `Pay ¥1,200 on ${first!.laneId}; its simulated customer scans a phone ${delayMs} ms later:`,
    `  curl -s -X POST ${gw}/v1/payments ${auth} ${json} -d '{"amount":1200,"currency":"JPY","orderRef":"demo-1"}'`,
    'Follow that payment (ID from the answer); each answer comes at its next change, repeat until decided:',
    `  curl -s '${gw}/v1/payments/ID?waitMs=5000' ${auth}`,
    'Or pay in one line with a code the register read itself (the answer is the decision):',
    `  curl -s -X POST ${gw}/v1/payments ${auth} ${json} -d "{\\"amount\\":800,\\"currency\\":\\"JPY\\",\\"orderRef\\":\\"demo-2\\",\\"payCode\\":\\"$(npm run -s tillgate -- paycode --data ${dataDir} --account ${customer.accountId})\\"}"`,
    '',
    'Decided payments are listed below. Stop with Ctrl-C.',
    '',
  ].join('\n');
}

function paymentLine(payment: Payment): string {
  if (payment.state === 'authorizing') return '';
  const amount = `${payment.currency} ${payment.amount}`;
  const reason = payment.decision?.reason ? ` (${payment.decision.reason})` : '';
  const mode = payment.mode ? ` ${payment.mode}` : '';
  return `${new Date().toISOString()}  ${payment.laneId}  ${amount.padEnd(12)} ${payment.state}${reason}${mode}  ${payment.id}\n`;
}

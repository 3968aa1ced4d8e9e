// How long a paid demo checkout takes end to end on loopback. The demo (`tillgate demo`: sandbox wallet and
// gateway) runs as a child process with the simulated customer showing the phone at once; this script is the
// register. Two checkouts are timed, each over a loop of N (default 200), against a baseline in the same run:
//   scan:    POST /v1/payments, the lane's scanner reads the code, long poll until approved;
//   payCode: POST /v1/payments with the code the register read itself (answer = decision);
//   baseline: GET /healthz on the same gateway (the HTTP round trip floor).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDemoFile } from '../gateway/cli/demo-file.js';
import { PhoneStore } from '../gateway/cli/phone-store.js';
import { SandboxPhone } from '../wallet/sandbox-phone.js';
import { benchArgs, distPath, median, percentile, printTable, waitFor } from './support.js';

const USAGE = `Usage: node dist/bench/demo-checkout.js [--loops 200] [--port 18420]
  -h, --help  this text

How long a paid demo checkout takes end to end on loopback, by lane scan and by payCode, against GET /healthz.`;
const { values } = benchArgs(USAGE, {
  loops: { type: 'string', default: '200' },
  port: { type: 'string', default: '18420' },
});
const loops = Number(values.loops);
const port = Number(values.port);

const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-demo-'));
const demo = startDemoProcess(dir, port);
try {
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok === true,
    30_000,
  );
  await waitFor(async () => readDemoFile(dir) !== null, 10_000);
  const file = readDemoFile(dir)!;
  const register = file.registers[0]!;
  const headers = { authorization: `Bearer ${register.key}`, 'content-type': 'application/json' };
  const gateway = file.gatewayUrl;

  const baseline = await timeLoop(loops, async () => {
    const response = await fetch(`${gateway}/healthz`);
    await response.text();
  });
  const scan = await timeLoop(loops, async (i) => {
    const created = await post(`${gateway}/v1/payments`, headers, {
      amount: 100,
      currency: 'JPY',
      orderRef: `s-${i}`,
    });
    let payment = created;
    while (payment.state === 'awaiting_scan' || payment.state === 'authorizing') {
      payment = (await (
        await fetch(`${gateway}/v1/payments/${created.id}?waitMs=10000`, { headers })
      ).json()) as PaymentReply;
    }
    if (payment.state !== 'approved')
      throw new Error(`scan checkout ${i}: ${payment.state} ${payment.decision?.reason}`);
  });
  const phone = loadPhone(dir, register.laneId === 'lane-1' ? 0 : 1);
  const payCode = await timeLoop(loops, async (i) => {
    const code = phone.nextCode(Math.floor(Date.now() / 1000));
    const payment = await post(`${gateway}/v1/payments`, headers, {
      amount: 100,
      currency: 'JPY',
      orderRef: `p-${i}`,
      payCode: code,
    });
    if (payment.state !== 'approved')
      throw new Error(`payCode checkout ${i}: ${payment.state} ${payment.decision?.reason}`);
  });

  const base = median(baseline);
  printTable(`demo checkout on loopback, ${loops} loops each (ms)`, [
    ['GET /healthz (baseline)', base, percentile(baseline, 0.99), 1],
    ['checkout by lane scan', median(scan), percentile(scan, 0.99), median(scan) / base],
    ['checkout by payCode', median(payCode), percentile(payCode, 0.99), median(payCode) / base],
  ]);
} finally {
  await stop(demo);
  rmSync(dir, { recursive: true, force: true });
}

function startDemoProcess(dataDir: string, gatewayPort: number): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      distPath('bin/tillgate.js'),
      'demo',
      '--data',
      dataDir,
      '--port',
      String(gatewayPort),
      '--customer-delay-ms',
      '0',
      '--velocity-max-payments',
      '10000',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return child;
}

/** The second customer's phone, used here as the register's own reader (the demo's customer uses lane 1's). */
function loadPhone(dataDir: string, index: number): SandboxPhone {
  const customers = JSON.parse(readFileSync(join(dataDir, 'demo-customers.json'), 'utf8')) as Record<
    string,
    string
  >;
  const accountId = Object.values(customers)[index === 0 ? 1 : 0]!;
  const state = new PhoneStore(dataDir).load(accountId)!;
  return new SandboxPhone(
    state.enrollment,
    Buffer.from(state.deviceSeed, 'hex'),
    state.lastCounter + 1_000_000,
  );
}

interface PaymentReply {
  id: string;
  state: string;
  decision?: { reason?: string };
}

async function post(url: string, headers: Record<string, string>, body: unknown): Promise<PaymentReply> {
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await response.json()) as PaymentReply;
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function timeLoop(n: number, once: (i: number) => Promise<void>): Promise<number[]> {
  for (let i = 0; i < Math.min(10, n); i++) await once(-1 - i); // warm-up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await once(i);
    times.push(performance.now() - started);
  }
  return times;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

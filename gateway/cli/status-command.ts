// `tillgate status`: the running gateway's /v1/status at a glance (or as JSON). The gateway and a register key
// come from --url/--key, or from DIR/demo.json.
import type * as z from 'zod';
import { ageSec, duration, Formatter } from '../dashboard/format.js';
import { StatusSchema } from '../http/schemas.js';
import { parseCommandArgs } from './args.js';
import { type CliIo, type Command, EXIT_OK, failure, printJson, usageError } from './command.js';
import { DEFAULT_DATA_DIR, dataDirOf, readDemoFile } from './demo-file.js';

const OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const STATUS_TIMEOUT_MS = 5_000;

export const statusCommand: Command = {
  name: 'status',
  summary: "the running gateway's state at a glance",
  usage: `Usage: tillgate status [--url URL --key REGISTER_KEY | --data DIR] [--json]

Asks a running gateway for its status and prints it on one screen: mode (online/offline) and since when, wallet
reachability, open payments, offline exposure against the store cap, sync backlog and its oldest entry, losses to
reconcile, risk-feed age and each lane's scanners, then "all well" or what needs attention. Times are local;
amounts are in the currency's minor unit.

  --url URL     the gateway (default: gatewayUrl in DIR/demo.json)
  --key KEY     a register key (default: the first register in DIR/demo.json)
  --data DIR    where demo.json is (default ./${DEFAULT_DATA_DIR})
  --json        print the status as JSON`,
  run: runStatus,
};

type Status = z.infer<typeof StatusSchema>;

async function runStatus(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const target = targetOf(values, dataDirOf(io, values.data));
  let response: Response;
  try {
    response = await fetch(`${target.url}/v1/status`, {
      headers: { authorization: `Bearer ${target.key}` },
      signal: AbortSignal.timeout(STATUS_TIMEOUT_MS),
    });
  } catch (error) {
    throw failure(`no gateway answers at ${target.url}; is it running?`, error);
  }
  if (response.status === 401) throw failure('the gateway refused the register key');
  if (!response.ok) throw failure(`the gateway answered ${response.status}`);
  const body: unknown = await response.json();
  if (values.json) {
    printJson(io, body);
    return EXIT_OK;
  }
  const status = StatusSchema.safeParse(body);
  if (!status.success) throw failure(`the gateway's status has an unexpected shape; try --json`);
  io.stdout.write(formatStatus(status.data, { nowMs: Date.now() }));
  return EXIT_OK;
}

function targetOf(values: { url?: string | undefined; key?: string | undefined }, dataDir: string) {
  const demo = values.url !== undefined && values.key !== undefined ? null : readDemoFile(dataDir);
  const url = values.url ?? demo?.gatewayUrl;
  const key = values.key ?? demo?.registers[0]?.key;
  if (url === undefined || key === undefined) {
    throw usageError(`give --url and --key, or --data DIR with a demo.json (none in ${dataDir})`);
  }
  return { url: url.replace(/\/+$/, ''), key };
}

export interface StatusView {
  nowMs: number;
  /** Times are shown in this zone; default: the machine's. */
  timeZone?: string;
}

/** The status at a glance: a headline, one line per concern, and what needs attention (or "all well"). */
export function formatStatus(status: Status, view: StatusView): string {
  const fmt = new Formatter(view.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  const ago = (at: string | null) =>
    at === null ? 'never' : `${fmt.time(at)} (${duration(ageSec(at, view.nowMs))} ago)`;
  const { offline, sync } = status;
  const share = offline.limits.storeLimit === 0 ? 0 : offline.storeExposure / offline.limits.storeLimit;
  const lines = [
    `store ${status.storeId}   ${status.mode.toUpperCase()} since ${ago(status.modeSince)}` +
      (status.accepting ? '' : '   STOPPING'),
    row(
      'wallet',
      `${status.wallet.reachable ? 'reachable' : 'NOT reachable'}, last answer ${ago(status.wallet.lastContactAt)}`,
    ),
    row(
      'payments',
      `${status.payments.open} open; ledger ${plural(status.ledger.headSeq, 'entry', 'entries')}`,
    ),
    row(
      'offline',
      `${amount(offline.storeExposure)} of ${amount(offline.limits.storeLimit)} unsynced (${percent(share)}), ` +
        `headroom ${amount(offline.storeHeadroom)}${offline.enabled ? '' : '; offline acceptance OFF'}`,
    ),
    row(
      'sync',
      `${plural(sync.pending, 'entry', 'entries')} to upload` +
        (sync.oldestPendingAgeSec === null ? '' : `, oldest ${duration(sync.oldestPendingAgeSec)}`) +
        `; last upload ${ago(sync.lastSuccessAt)}`,
    ),
    row(
      '',
      `${sync.settled} settled, ${sync.rejected} rejected; ${sync.pendingReversals} reversals, ${sync.pendingRefunds} refunds to send`,
    ),
    row(
      'losses',
      sync.lossCount === 0
        ? 'none'
        : `${amount(sync.lossAmount)} in ${plural(sync.lossCount, 'payment', 'payments')} (tillgate report incident)`,
    ),
    row(
      'risk feed',
      sync.feed.ageSec === null
        ? 'never refreshed'
        : `${duration(sync.feed.ageSec)} old (allowed ${duration(offline.limits.feedMaxAgeSec)})`,
    ),
    ...scannerLines(status.scanners),
  ];
  const problems = attention(status, share);
  lines.push(
    '',
    problems.length === 0 ? 'all well' : `needs attention:\n${problems.map((p) => `  ! ${p}`).join('\n')}`,
  );
  return `${lines.join('\n')}\n`;
}

const LABEL_WIDTH = 11;

function row(label: string, text: string): string {
  return `  ${label.padEnd(LABEL_WIDTH)}${text}`;
}

function scannerLines(scanners: Status['scanners']): string[] {
  if (scanners.length === 0) return [row('scanners', 'none configured')];
  const lane = Math.max(...scanners.map((s) => s.laneId.length));
  const device = Math.max(...scanners.map((s) => s.deviceId.length));
  const transport = Math.max(...scanners.map((s) => s.transport.length));
  return scanners.map((s, index) => {
    const state = s.status === 'attached' ? s.status : s.status.toUpperCase();
    const detail =
      s.code === undefined ? '' : `  ${s.code}${s.message === undefined ? '' : `: ${s.message}`}`;
    const text = `${s.laneId.padEnd(lane)}  ${s.deviceId.padEnd(device)}  ${s.transport.padEnd(transport)}  ${state}${detail}`;
    return row(index === 0 ? 'scanners' : '', text);
  });
}

/** What a person should act on, most urgent first. */
function attention(status: Status, exposureShare: number): string[] {
  const { offline, sync } = status;
  const problems: string[] = [];
  if (sync.chainBroken !== undefined)
    problems.push(
      `the wallet refuses the ledger from entry #${sync.chainBroken.seq}: uploads stopped, call the wallet operator`,
    );
  if (status.mode === 'offline')
    problems.push('the wallet does not answer: payments are decided offline, within the caps');
  if (!status.accepting) problems.push('the gateway is stopping: it takes no new payments');
  if (offline.feed.stale)
    problems.push('the risk feed is too old: offline payments are declined (offline_stale)');
  if (exposureShare >= 0.8) problems.push(`offline exposure at ${percent(exposureShare)} of the store cap`);
  if (sync.lossCount > 0) problems.push(`${plural(sync.lossCount, 'loss', 'losses')} to reconcile`);
  if (sync.oldestPendingAgeSec !== null && sync.oldestPendingAgeSec > 3600)
    problems.push(`ledger entries have waited ${duration(sync.oldestPendingAgeSec)} for the wallet`);
  for (const s of status.scanners) {
    if (s.status === 'attached') continue;
    const state = s.status === 'error' ? 'in error' : s.status;
    problems.push(
      `${s.laneId}: scanner ${s.deviceId} is ${state}${s.code === undefined ? '' : ` (${s.code})`}`,
    );
  }
  return problems;
}

/** Amounts are in the currency's minor unit (CONTRACT), grouped for reading: 300,000. */
function amount(n: number): string {
  return n.toLocaleString('en-US');
}

function percent(share: number): string {
  const value = share * 100;
  return `${value > 0 && value < 1 ? value.toFixed(1) : Math.round(value)}%`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

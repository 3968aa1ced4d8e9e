// `tillgate status`: the running gateway's /v1/status at a glance (or as JSON). The gateway and a register key
// come from --url/--key, or from DIR/demo.json.
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

Asks a running gateway for its status: mode (online/offline) and since when, wallet reachability, open payments,
the ledger head, sync backlog and feed age (when sync runs), and each lane's scanners.

  --url URL     the gateway (default: gatewayUrl in DIR/demo.json)
  --key KEY     a register key (default: the first register in DIR/demo.json)
  --data DIR    where demo.json is (default ./${DEFAULT_DATA_DIR})
  --json        print the status as JSON`,
  run: runStatus,
};

// biome-ignore lint/suspicious/noExplicitAny: the status is printed field by field, missing ones skipped
type Status = Record<string, any>;

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
  const status = (await response.json()) as Status;
  if (values.json) printJson(io, status);
  else io.stdout.write(formatStatus(status));
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

export function formatStatus(status: Status): string {
  const lines = [
    `store ${status.storeId}: ${String(status.mode).toUpperCase()} since ${status.modeSince}${status.accepting ? '' : ' (stopping)'}`,
    `  wallet     ${status.wallet?.reachable ? 'reachable' : 'NOT reachable'}; last contact ${status.wallet?.lastContactAt ?? 'never'}`,
    `  payments   ${status.payments?.open ?? 0} open; ledger head #${status.ledger?.headSeq ?? 0}`,
  ];
  if (status.offline) {
    const o = status.offline;
    lines.push(
      `  offline    exposure ${o.storeExposure ?? '?'} of ${o.limits?.storeLimit ?? '?'}; headroom ${o.storeHeadroom ?? '?'}`,
    );
  }
  if (status.sync) {
    const s = status.sync;
    lines.push(
      `  sync       ${s.pending ?? 0} pending, ${s.settled ?? 0} settled, ${s.rejected ?? 0} rejected; losses ${s.lossAmount ?? 0}` +
        (s.chainBroken ? `; CHAIN BROKEN at #${s.chainBroken.seq}` : ''),
    );
    if (s.feed) lines.push(`  feed       age ${s.feed.ageSec ?? '?'} s`);
  }
  for (const scanner of (status.scanners ?? []) as Status[]) {
    const detail = scanner.code ? ` ${scanner.code}${scanner.message ? `: ${scanner.message}` : ''}` : '';
    lines.push(`  ${scanner.laneId}  ${scanner.deviceId} (${scanner.transport}) ${scanner.status}${detail}`);
  }
  return `${lines.join('\n')}\n`;
}

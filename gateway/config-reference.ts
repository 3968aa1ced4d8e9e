// docs/configuration.md, generated from the config's zod schema (z.toJSONSchema of ConfigSchema): every key with
// its type, default and bounds as the schema has them, and a sentence on what it does. A description given in the
// schema (`.describe()` / `.meta({description})`) wins over the table here. `npm run docs:config` writes the file;
// test/config-reference.test.ts fails when the committed file differs from what the schema says now.
import * as z from 'zod';
import { ConfigSchema } from './config.js';

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
};

const SCANNER_LIST = 'lanes[].scanners';
const SCANNERS = `${SCANNER_LIST}[]`;

/** What each key does, by path (`[]` for a list's items). */
export const DESCRIPTIONS: Record<string, string> = {
  storeId: "The store's id at the wallet (CONTRACT §3); every ledger entry and upload carries it.",
  timeZone: 'IANA time zone for the times the dashboard and reports show.',
  currency: 'ISO 4217 currency of the store; registers must send this currency.',
  dataDir:
    'Where `gateway.sqlite` lives (relative paths are taken from the config file’s folder). Back it up with `tillgate backup`.',
  'log.level':
    'Log level of the JSON lines on stdout. Pay codes, keys and scan contents are always redacted.',
  'http.host':
    'Address the register API, dashboard and /metrics listen on. Keep it on loopback or the store network.',
  'http.port': 'Port of the register API and dashboard; 0 picks a free one (tests).',
  'http.bodyLimitBytes': 'Largest request body; larger ones are refused with 413.',
  'http.longPollMaxMs': 'Most a `GET /v1/payments/:id?waitMs=` long poll is held.',
  'http.sseClientsPerRegisterMax':
    'Event streams one register (or one operator) may hold open; more are refused with 429.',
  'http.shutdownGraceMs':
    'On stop, how long decisions in flight may take before they are declined with a reversal queued. The systemd unit’s TimeoutStopSec must be longer.',
  'wallet.url': 'The central wallet’s base URL.',
  'wallet.storeKey':
    'The store’s bearer key at the wallet. Rotated without downtime by a reload (docs/deployment.md).',
  'wallet.timeoutMs':
    'The deadline for a final answer from the wallet, from the first send; then the payment is decided offline or declined.',
  'wallet.queryIntervalMs': 'Pause between queries while an authorization’s outcome is unknown.',
  'wallet.healthWindowMs':
    'How long a wallet answer counts as proof that it is reachable; silence longer than this makes the store offline.',
  registers: 'The POS registers allowed to call the register API, one lane each.',
  'registers[].id': 'The register’s id, shown in payments and the ledger.',
  'registers[].laneId': 'The lane whose scanners this register’s payments wait for.',
  'registers[].keySha256':
    'SHA-256 (hex) of the register’s key; `tillgate keygen` makes both. The key itself is never stored.',
  'registers[].nextKeySha256':
    'During a key rotation, the SHA-256 of the register’s second key; both work until this one becomes `keySha256`.',
  operators: 'People who may open the store dashboard at `/`. Empty: the dashboard is off.',
  'operators[].id': 'Shown on the dashboard and in the log when the operator signs in.',
  'operators[].keySha256': 'SHA-256 (hex) of the operator’s key (`tillgate keygen --for operator`).',
  'dashboard.sessionTtlSec': 'How long a dashboard sign-in lasts.',
  'dashboard.sessionsMax':
    'Dashboard sign-ins kept at once; the oldest ends when a new one would exceed this.',
  'dashboard.loginFailuresPerMinuteMax':
    'Wrong operator keys accepted per minute, store-wide; then sign-in is refused (429) until the minute passes.',
  'dashboard.recentPayments': 'Payments listed on the dashboard.',
  'dashboard.chartHours': 'Hours the dashboard’s charts cover.',
  lanes: 'The checkout lanes, each with its scanners.',
  'lanes[].id': 'The lane’s id, named by `registers[].laneId`.',
  [SCANNER_LIST]:
    'The lane’s scanners, by `type` (tables below). A lane may have none: its registers send `payCode`.',
  [`${SCANNERS}.type`]: '`simulated`, `serial`, `hid-pos` or `hid-keyboard` (drivers/README.md).',
  [`${SCANNERS}.id`]: 'Stable id of the scanner, shown on the dashboard and in `tillgate devices`.',
  [`${SCANNERS}.dedupeWindowMs`]:
    'A second read of the same code within this window is ignored; 0 turns it off.',
  [`${SCANNERS}.allowedSymbologies`]: 'Symbologies the lane accepts; absent accepts all.',
  [`${SCANNERS}.minLength`]: 'Shorter reads are refused (`E_DATA`).',
  [`${SCANNERS}.maxLength`]: 'Longer reads are refused (`E_DATA`).',
  [`${SCANNERS}.allowGroupSeparator`]:
    'Allow GS (0x1D), the GS1 field separator, inside a code; other control characters are refused.',
  [`${SCANNERS}.reconnectInitialDelayMs`]:
    'First retry after the device is lost; doubles with jitter up to reconnectMaxDelayMs.',
  [`${SCANNERS}.reconnectMaxDelayMs`]: 'Longest pause between retries to open a lost device.',
  [`${SCANNERS}.presencePollMs`]:
    'How often the device list is checked for unplugs nothing reported, and replugs; 0 = off.',
  [`${SCANNERS}.suffix`]:
    'What ends a scan as the scanner is programmed (none: a silence longer than the inter-byte/key timeout).',
  [`${SCANNERS}.vendorId`]: 'USB vendor id to find the device by (hex as lsusb prints it, e.g. "0c2e").',
  [`${SCANNERS}.productId`]: 'USB product id to find the device by.',
  [`${SCANNERS}.serialNumber`]: 'USB serial number, to tell two scanners of one model apart.',
  [`${SCANNERS}.path`]: 'Device path (/dev/ttyACM0, /dev/hidraw3, COM3); takes precedence over the ids.',
  [`${SCANNERS}.baudRate`]: 'Serial speed, as the scanner is programmed.',
  [`${SCANNERS}.interByteTimeoutMs`]: 'With suffix none, the silence that ends a scan.',
  [`${SCANNERS}.maxScanBytes`]: 'A read longer than this is dropped as garbage.',
  [`${SCANNERS}.aimPrefix`]:
    'AIM symbology identifiers (]Q1…) before each scan: auto-detect, required (safest), or none.',
  [`${SCANNERS}.interReportTimeoutMs`]:
    'A continued HID POS scan whose next report does not come within this is dropped as truncated.',
  [`${SCANNERS}.vendorInit`]:
    '`honeywell` sends feature report 0xFE=[1] after opening, switching the scanner to HID POS.',
  [`${SCANNERS}.layout`]:
    'Keyboard layout the wedge scanner is programmed for: `us` or `jp106`. A mismatch garbles symbols.',
  [`${SCANNERS}.interKeyTimeoutMs`]:
    'A pause between keys longer than this ends a scan (suffix none) or drops the unfinished one.',
  [`${SCANNERS}.maxAvgKeyIntervalMs`]:
    'Mean gap between keys above which the input is a person typing, and is refused.',
  [`${SCANNERS}.maxScanChars`]: 'A read longer than this is dropped.',
  'payments.scanTimeoutMs': 'A payment waiting for a scan expires (`scan_timeout`) after this long.',
  'payments.amountMax': 'Largest amount a register may ask for, in minor units.',
  'payments.orderRefMaxLength': 'Longest `orderRef`.',
  'payments.basketLinesMax': 'Most basket lines in one payment.',
  'payments.openMax': 'Payments undecided at once across the store; more are refused with 503.',
  'offline.enabled':
    'Decide offline within the limits below when the wallet cannot answer (CONTRACT §4). Off: such payments are declined.',
  'offline.perTransactionLimit': 'Largest offline payment, minor units.',
  'offline.perDeviceLimit':
    'Most one phone may spend offline between two syncs (also capped by its certificate’s offlineLimit).',
  'offline.consecutiveMax': 'Offline payments a phone may make in a row before it must pay online again.',
  'offline.storeLimit': 'Most the whole store may hold in unsynced offline approvals.',
  'offline.feedMaxAgeSec':
    'Offline payments are declined `offline_stale` when the risk feed is older than this.',
  'offline.deviceMinAgeSec':
    'Phones enrolled more recently than this are not accepted offline (`new_device_offline`).',
  'offline.restrictedCategories': 'Basket categories never sold offline (`restricted_category_offline`).',
  'offline.velocity.enabled': 'The velocity rule, both online and offline.',
  'offline.velocity.windowSec': 'The window the velocity rule counts in.',
  'offline.velocity.maxPayments':
    'Most payments one account may make within the window (`velocity_exceeded` beyond).',
  'offline.velocity.maxLanes': 'Most lanes one account may pay at within the window.',
  'offline.probeTimeoutMs':
    'While the store is offline, the one send that probes the wallet gets this long instead of timeoutMs.',
  'sync.enabled':
    'Upload the ledger and follow the risk feed in the background. Off: only `tillgate sync` uploads.',
  'sync.batchEntriesMax': 'Ledger entries per upload batch.',
  'sync.retryInitialDelayMs': 'First pause after a failed upload; grows with jitter up to retryMaxDelayMs.',
  'sync.retryMaxDelayMs': 'Longest pause between upload retries.',
  'sync.callTimeoutMs': 'Deadline of one upload or feed call.',
  'sync.feedWaitMs': 'Long-poll wait asked of the risk feed.',
  'sync.feedPollIntervalMs': 'Pace of plain polling while long polls fail.',
  'sync.feedLongPollRetryMs':
    'After a long poll fails, how long to poll plainly before trying a long poll again.',
  'sync.idleIntervalMs': 'How often the idle uploader looks for new entries.',
  'sync.callsPerPassMax': 'Reversal and refund calls sent per pass.',
  'sync.feedEventsPerPageMax': 'Most risk-feed events accepted in one page.',
  'sync.leaseTtlMs':
    'The uploader lease (one uploader per database: the gateway or `tillgate sync`), renewed between batches, before it could run out during the next call.',
  'codes.maxCodeAgeSec': 'A pay code older than this is declined `code_expired` (CONTRACT §1.1 check 6).',
  'codes.maxClockSkewSec': 'A pay code from further in the future than this is declined `code_from_future`.',
};

interface Row {
  path: string;
  schema: JsonSchema;
  required: boolean;
}

function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.enum) return schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants) return variants.map(typeOf).join(' or ');
  if (schema.type === 'array' && (schema.items?.oneOf ?? schema.items?.anyOf))
    return 'list of objects by `type`';
  if (schema.type === 'array') return `list of ${schema.items ? typeOf(schema.items) : 'values'}`;
  if (schema.format === 'uri') return 'URL';
  return String(schema.type ?? 'any');
}

function bounds(schema: JsonSchema): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined && schema.maximum !== Number.MAX_SAFE_INTEGER)
    parts.push(`≤ ${schema.maximum}`);
  if (schema.minLength !== undefined) parts.push(`${schema.minLength}+ characters`);
  if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters`);
  if (schema.minItems !== undefined) parts.push(`${schema.minItems}+ items`);
  if (schema.maxItems !== undefined) parts.push(`at most ${schema.maxItems} items`);
  if (schema.pattern !== undefined) parts.push(`\`${schema.pattern.replace(/\|/g, '\\|')}\``);
  if (schema.items !== undefined && schema.type === 'array' && !schema.items.properties) {
    const inner = bounds(schema.items);
    if (inner !== '') parts.push(`each ${inner}`);
  }
  return parts.join(', ');
}

function defaultOf(row: Row): string {
  if (row.schema.default !== undefined) {
    const value = JSON.stringify(row.schema.default);
    return value === '{}' ? '(section defaults)' : `\`${value}\``;
  }
  return row.required ? '**required**' : '—';
}

function line(row: Row, key = row.path): string {
  const description = row.schema.description ?? DESCRIPTIONS[key] ?? '';
  return `| \`${row.path}\` | ${typeOf(row.schema)} | ${defaultOf(row)} | ${bounds(row.schema)} | ${description} |`;
}

/** Leaf keys and lists of scalars, depth first; objects contribute their children. */
function collect(schema: JsonSchema, path: string, required: boolean, rows: Row[]): void {
  if (schema.properties) {
    if (path !== '' && schema.default === undefined && !required) rows.push({ path, schema, required });
    for (const [name, child] of Object.entries(schema.properties)) {
      const childPath = path === '' ? name : `${path}.${name}`;
      collect(child, childPath, schema.required?.includes(name) ?? false, rows);
    }
    return;
  }
  if (schema.type === 'array' && schema.items?.properties) {
    rows.push({ path, schema, required });
    collect(schema.items, `${path}[]`, true, rows);
    return;
  }
  rows.push({ path, schema, required });
}

const HEADER = '| key | type | default | bounds | what it does |\n|---|---|---|---|---|';

function scannerTables(scanners: JsonSchema): string[] {
  const variants = (scanners.items?.oneOf ?? scanners.items?.anyOf ?? []).filter((v) => v.properties);
  const nameOf = (v: JsonSchema) => String(v.properties!.type!.const);
  const shared = Object.keys(variants[0]?.properties ?? {}).filter((key) =>
    variants.every(
      (v) => JSON.stringify(v.properties![key]) === JSON.stringify(variants[0]!.properties![key]),
    ),
  );
  const rowsOf = (v: JsonSchema, keys: string[]) =>
    keys.map((key) =>
      line({
        path: `${SCANNERS}.${key}`,
        schema: v.properties![key]!,
        required: v.required?.includes(key) ?? false,
      }),
    );
  const typeRow = line({
    path: `${SCANNERS}.type`,
    schema: { enum: variants.map((v) => v.properties!.type!.const) },
    required: true,
  });
  const out = [
    `### \`${SCANNERS}\`: every type`,
    '',
    HEADER,
    typeRow,
    ...rowsOf(
      variants[0]!,
      shared.filter((k) => k !== 'type'),
    ),
  ];
  for (const variant of variants) {
    const own = Object.keys(variant.properties!).filter((key) => key !== 'type' && !shared.includes(key));
    out.push('', `### \`${SCANNERS}\` with \`"type": "${nameOf(variant)}"\``, '');
    out.push(
      own.length === 0
        ? 'Nothing beyond the keys every type has.'
        : [HEADER, ...rowsOf(variant, own)].join('\n'),
    );
  }
  return out;
}

export function renderConfigReference(): string {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: Row[] = [];
  collect(schema, '', true, rows);
  const sections = new Map<string, Row[]>();
  for (const row of rows) {
    const top = row.path.split(/[.[]/)[0]!;
    const section = schema.properties![top]!.properties || schema.properties![top]!.items ? top : '';
    sections.set(section, [...(sections.get(section) ?? []), row]);
  }
  const out = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs:config` from the zod schema in gateway/config.ts (and the scanner and sync',
    '     sections it embeds); descriptions from gateway/config-reference.ts. Do not edit by hand. -->',
    '',
    'One JSON file, given to `tillgate start --config FILE`. It is validated whole at start: a bad file stops the',
    'gateway with every problem listed, and unknown keys are refused. Money is in minor units (JPY: yen). A section',
    'left out takes the defaults of its keys. `SIGHUP` (`systemctl reload tillgate`) applies `registers`,',
    '`operators` and `wallet.storeKey` without a restart; other changes need one.',
    '',
  ];
  for (const [section, sectionRows] of sections) {
    out.push(`## ${section === '' ? 'Store' : `\`${section}\``}`, '');
    out.push(HEADER, ...sectionRows.map((row) => line(row)));
    if (section === 'lanes')
      out.push('', ...scannerTables(schema.properties!.lanes!.items!.properties!.scanners!));
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

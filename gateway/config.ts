// The gateway's configuration: one JSON file, one zod schema, parsed once at start.
// Every default and every bound lives here; nothing else reads process.env or the file.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { ScannerConfigSchema } from '../drivers/config.js';
import { SyncConfigSchema } from '../sync/config.js';

const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ - (1–64 characters)');
const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'SHA-256 as 64 lower-case hex characters');
const PositiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const Money = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const TimeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Asia/Tokyo');

/**
 * Offline acceptance (CONTRACT §4, docs/offline.md). The risk feed may override any of these names
 * (meta `offline.limits`, merged over this section by gateway/offline/limits.ts).
 */
export const OfflineConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    perTransactionLimit: Money.default(5_000),
    perDeviceLimit: Money.default(10_000),
    consecutiveMax: PositiveInt.max(1000).default(5),
    storeLimit: Money.default(300_000),
    feedMaxAgeSec: PositiveInt.default(86_400),
    deviceMinAgeSec: z.number().int().nonnegative().default(86_400),
    restrictedCategories: z
      .array(z.string().min(1).max(64))
      .max(100)
      .default(['tobacco', 'gift_card', 'prepaid_card']),
    /**
     * Both modes, PC1 codes: an account paying more than `maxPayments` times, or at more than `maxLanes`
     * lanes, within `windowSec` is declined `velocity_exceeded` before the wallet is asked.
     */
    velocity: z
      .object({
        enabled: z.boolean().default(true),
        windowSec: PositiveInt.max(86_400).default(300),
        maxPayments: PositiveInt.max(10_000).default(5),
        maxLanes: PositiveInt.max(256).default(2),
      })
      .strict()
      .prefault({}),
    /** While the wallet health says offline, the one send that probes the wallet gets this long, not timeoutMs. */
    probeTimeoutMs: PositiveInt.max(60_000).default(500),
  })
  .strict();

const RegistersSchema = z
  .array(
    z
      .object({
        id: Id,
        laneId: Id,
        keySha256: Sha256Hex,
        /** During a key rotation, a second key this register may use (docs/deployment.md). */
        nextKeySha256: Sha256Hex.optional(),
      })
      .strict(),
  )
  .min(1)
  .max(256);
const OperatorsSchema = z
  .array(z.object({ id: Id, keySha256: Sha256Hex }).strict())
  .max(64)
  .default([]);
const LanesSchema = z
  .array(z.object({ id: Id, scanners: z.array(ScannerConfigSchema).max(8).default([]) }).strict())
  .min(1)
  .max(256);

export const ConfigSchema = z
  .object({
    storeId: Id,
    timeZone: TimeZone.default('Asia/Tokyo'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'ISO 4217 code such as JPY')
      .default('JPY'),
    dataDir: z.string().min(1),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8420),
        bodyLimitBytes: PositiveInt.max(1_048_576).default(16_384),
        longPollMaxMs: PositiveInt.max(30_000).default(30_000),
        sseClientsPerRegisterMax: PositiveInt.max(100).default(4),
        shutdownGraceMs: PositiveInt.max(60_000).default(10_000),
        /** Failed register authentications, per source address (gateway/http/auth.ts). */
        authFailures: z
          .object({
            burst: PositiveInt.max(10_000)
              .default(10)
              .describe(
                'Wrong or missing register keys one source address may send in a row; then it gets 429 with Retry-After, before its key is checked.',
              ),
            perMinute: PositiveInt.max(60_000)
              .default(10)
              .describe('Failed register authentications a source earns back per minute.'),
            sourcesMax: PositiveInt.max(1_000_000)
              .default(4_096)
              .describe('Source addresses with recent failures remembered at once (memory bound).'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    wallet: z
      .object({
        url: z.url({ protocol: /^https?$/ }),
        storeKey: z.string().min(16, 'at least 16 characters'),
        /** The deadline for a final answer from the wallet, from the first send. */
        timeoutMs: PositiveInt.max(60_000).default(3_000),
        /** Pause between queries while an outcome is unknown. */
        queryIntervalMs: PositiveInt.max(10_000).default(200),
        /** How long a wallet contact counts as proof that the wallet is reachable. */
        healthWindowMs: PositiveInt.max(600_000).default(30_000),
      })
      .strict(),
    registers: RegistersSchema,
    /** People who may open the store dashboard at `/`: an id and the SHA-256 of their operator key. */
    operators: OperatorsSchema,
    dashboard: z
      .object({
        /** A dashboard sign-in lasts this long. */
        sessionTtlSec: PositiveInt.max(7 * 86_400).default(43_200),
        sessionsMax: PositiveInt.max(1_000).default(64),
        /** Failed operator sign-ins allowed per minute, store-wide; more are refused with 429. */
        loginFailuresPerMinuteMax: PositiveInt.max(1_000).default(10),
        recentPayments: PositiveInt.max(200).default(25),
        chartHours: PositiveInt.max(72).default(12),
      })
      .strict()
      .prefault({}),
    lanes: LanesSchema,
    payments: z
      .object({
        /** A payment waiting for a scan expires (scan_timeout) after this long. */
        scanTimeoutMs: PositiveInt.max(600_000).default(120_000),
        amountMax: PositiveInt.default(10_000_000),
        orderRefMaxLength: PositiveInt.max(256).default(64),
        basketLinesMax: PositiveInt.max(1000).default(200),
        /** Open (not yet decided) payments across the store, bounding memory and wallet load. */
        openMax: PositiveInt.max(100_000).default(1_000),
      })
      .strict()
      .prefault({}),
    offline: OfflineConfigSchema.prefault({}),
    sync: SyncConfigSchema.prefault({}),
    codes: z
      .object({
        maxCodeAgeSec: PositiveInt.max(3600).default(120),
        maxClockSkewSec: z.number().int().nonnegative().max(3600).default(30),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine(checkCrossFields);

type CrossFields = Pick<z.output<typeof CrossFieldsSchema>, 'lanes' | 'registers' | 'operators'>;

/** Ids and keys that must not repeat across lanes, registers, operators and scanners. */
function checkCrossFields(config: CrossFields, ctx: z.RefinementCtx): void {
  const laneIds = new Set(config.lanes.map((l) => l.id));
  if (laneIds.size !== config.lanes.length)
    ctx.addIssue({ code: 'custom', path: ['lanes'], message: 'lane ids must be unique' });
  const registerIds = new Set<string>();
  const keyHashes = new Set<string>();
  config.registers.forEach((r, i) => {
    if (!laneIds.has(r.laneId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['registers', i, 'laneId'],
        message: `no lane "${r.laneId}" in lanes[]`,
      });
    }
    if (registerIds.has(r.id))
      ctx.addIssue({ code: 'custom', path: ['registers', i, 'id'], message: 'duplicate register id' });
    if (keyHashes.has(r.keySha256)) {
      ctx.addIssue({
        code: 'custom',
        path: ['registers', i, 'keySha256'],
        message: 'two registers share one key',
      });
    }
    registerIds.add(r.id);
    keyHashes.add(r.keySha256);
    if (r.nextKeySha256 !== undefined && keyHashes.has(r.nextKeySha256)) {
      ctx.addIssue({
        code: 'custom',
        path: ['registers', i, 'nextKeySha256'],
        message: 'two registers share one key',
      });
    }
    if (r.nextKeySha256 !== undefined) keyHashes.add(r.nextKeySha256);
  });
  const operatorIds = new Set(config.operators.map((o) => o.id));
  if (operatorIds.size !== config.operators.length)
    ctx.addIssue({ code: 'custom', path: ['operators'], message: 'operator ids must be unique' });
  config.operators.forEach((o, i) => {
    if (keyHashes.has(o.keySha256)) {
      ctx.addIssue({
        code: 'custom',
        path: ['operators', i, 'keySha256'],
        message: 'an operator key must not also be a register key',
      });
    }
  });
  const scannerIds = new Set<string>();
  for (const [i, lane] of config.lanes.entries()) {
    for (const [j, s] of lane.scanners.entries()) {
      if (scannerIds.has(s.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['lanes', i, 'scanners', j, 'id'],
          message: 'duplicate scanner id',
        });
      }
      scannerIds.add(s.id);
    }
  }
}

/**
 * Zod skips a refinement when a type error came first anywhere in the file. The cross-field checks need only lanes,
 * registers and operators, so they run on those alone too: a bad file lists every problem at once (CONTRACT §6).
 */
const CrossFieldsSchema = z.object({
  lanes: LanesSchema,
  registers: RegistersSchema,
  operators: OperatorsSchema,
});
const CrossFieldsCheck = CrossFieldsSchema.superRefine(checkCrossFields);

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Validates a parsed config object; throws ConfigError listing every problem. Secrets are never echoed. */
export function parseConfig(input: unknown, source = 'config', baseDir = process.cwd()): Config {
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    const cross = CrossFieldsCheck.safeParse(input);
    const issues = [...result.error.issues, ...(cross.success ? [] : cross.error.issues)];
    const problems = issues.map((issue) => {
      const path = issue.path.length ? issue.path.join('.') : '(root)';
      return `${path}: ${issue.message}`;
    });
    throw new ConfigError(source, [...new Set(problems)]);
  }
  const config = result.data;
  if (!isAbsolute(config.dataDir)) config.dataDir = resolve(baseDir, config.dataDir);
  return config;
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    // A byte-order mark is how some Windows editors start a UTF-8 file; it is not part of the JSON.
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    throw new ConfigError(file, [
      `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, [jsonProblem(text, error as Error)]);
  }
  return parseConfig(json, file, resolve(file, '..'));
}

/**
 * Where the JSON breaks, without quoting the file: V8's message may carry a snippet of it, and the snippet may be
 * the store key. Keeps V8's description when it quotes nothing, and turns "at position N" into a line and column.
 */
function jsonProblem(text: string, error: Error): string {
  const quotes = error.message.includes('is not valid JSON');
  const description = quotes
    ? 'unexpected character'
    : error.message.replace(/ at position \d+.*$/s, '').replace(/ in JSON$/, '');
  const position = /at position (\d+)/.exec(error.message)?.[1];
  if (position === undefined) return `not valid JSON: ${description}`;
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `not valid JSON at line ${line}, column ${column}: ${description}`;
}

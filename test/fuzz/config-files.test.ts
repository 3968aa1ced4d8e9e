// Fuzz of the gateway's configuration file (gateway/config.ts, CONTRACT §6): a valid file mutated at random —
// known keys given wrong types and out-of-range values, required keys removed, unknown keys added, ids that collide,
// random JSON anywhere — and its text mutated (cut, broken quotes, BOM, invalid UTF-8, comments, trailing commas).
// What must hold: parsing throws nothing but ConfigError; every problem is `path: message`; every key the fuzz
// broke is named by its path, all of them at once; a valid file is accepted; no secret (wallet.storeKey, register
// keys) appears in any error text, not even in part. `tillgate start --config` runs on mutated files in-process and,
// as built, through `node dist/bin/tillgate.js` (dist/ is built by `npm test`'s pretest): exit 1 with the
// problems listed, and exit 0 after a clean start and SIGTERM on the valid file.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, deadUrl } from '../../gateway/cli/test-io.js';
import { ConfigError, type ConfigInput, loadConfig, parseConfig } from '../../gateway/config.js';
import { sha256Hex } from '../../gateway/http/auth.js';
import { chaosCount, chaosReport, chaosSettings } from '../support/chaos.js';
import type { Json } from '../support/stack.js';

const MAIN = fileURLToPath(new URL('../../dist/bin/tillgate.js', import.meta.url));
const settings = chaosSettings();
const RUNS = chaosCount(settings, 300, 20_000);
const PARSE_TIMEOUT_MS = 60_000 + RUNS * 20;
const STORE_KEY = `sk_${randomBytes(24).toString('base64url')}`;
const REGISTER_KEYS = [0, 1].map(() => `rk_${randomBytes(24).toString('base64url')}`);
const OPERATOR_KEY = `ok_${randomBytes(24).toString('base64url')}`;
const SECRETS = [STORE_KEY, ...REGISTER_KEYS, OPERATOR_KEY];
/** A secret shown in part is shown: no run of this many characters of one may appear in an error. */
const SECRET_WINDOW = 8;

let dir: string;
let walletUrl: string;
const figures = {
  files: 0,
  accepted: 0,
  refused: 0,
  problems: 0,
  namedAsExpected: 0,
  cliRuns: 0,
  /** Anything thrown but a ConfigError: the CLI would print a stack trace (reported as crashes). */
  otherErrors: 0,
  secretsShown: 0,
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillgate-fuzz-config-'));
  walletUrl = await deadUrl();
});

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  chaosReport('fuzz/config-files', {
    seed: settings.seed,
    files: figures.files,
    accepted: figures.accepted,
    refused: figures.refused,
    problems: figures.problems,
    brokenKeysNamed: figures.namedAsExpected,
    cliRuns: figures.cliRuns,
    crashes: figures.otherErrors,
    secretsShown: figures.secretsShown,
  });
});

type Path = (string | number)[];

function validConfig(port = 0): ConfigInput {
  return {
    storeId: 'store-fuzz',
    timeZone: 'Asia/Tokyo',
    currency: 'JPY',
    dataDir: join(dir, 'data'),
    log: { level: 'warn' },
    http: { host: '127.0.0.1', port, bodyLimitBytes: 16_384 },
    wallet: { url: walletUrl, storeKey: STORE_KEY, timeoutMs: 1_000 },
    registers: REGISTER_KEYS.map((key, i) => ({
      id: `register-${i + 1}`,
      laneId: `lane-${i + 1}`,
      keySha256: sha256Hex(key),
    })),
    operators: [{ id: 'operator-1', keySha256: sha256Hex(OPERATOR_KEY) }],
    lanes: [
      { id: 'lane-1', scanners: [{ type: 'simulated', id: 'scanner-1' }] },
      { id: 'lane-2', scanners: [{ type: 'simulated', id: 'scanner-2' }] },
    ],
    payments: { amountMax: 1_000_000 },
    offline: { consecutiveMax: 5, restrictedCategories: ['tobacco'], velocity: { windowSec: 300 } },
    sync: { batchEntriesMax: 100, leaseTtlMs: 30_000 },
    codes: { maxCodeAgeSec: 120 },
    dashboard: { sessionTtlSec: 3_600 },
  };
}

// ——— object mutations, each with what the file must then say ———

/** Known keys and values each of them must refuse. */
const INVALID: [Path, unknown[]][] = [
  [['storeId'], [5, '', 'bad id!', 'x'.repeat(65), null]],
  [['timeZone'], ['Mars/Olympus', 3, '']],
  [['currency'], ['jpy', 'JPYY', 1]],
  [['dataDir'], ['', 7, null]],
  [
    ['log', 'level'],
    ['loud', 1],
  ],
  [
    ['http', 'host'],
    ['', 3],
  ],
  [
    ['http', 'port'],
    [-1, 65_536, 1.5, '8420', null],
  ],
  [
    ['http', 'bodyLimitBytes'],
    [0, 2_000_000, 'x'],
  ],
  [
    ['wallet', 'url'],
    ['ftp://127.0.0.1', 'not a url', 5, ''],
  ],
  // A store key too short to be one is still the operator's secret.
  [
    ['wallet', 'storeKey'],
    [STORE_KEY.slice(0, 12), 12, null, ''],
  ],
  [
    ['wallet', 'timeoutMs'],
    [0, 60_001, -5, '3000'],
  ],
  // The raw register key pasted where its hash belongs.
  [
    ['registers', 0, 'keySha256'],
    [REGISTER_KEYS[0], 'A'.repeat(64), 'xyz', 5],
  ],
  [
    ['registers', 1, 'id'],
    ['', 'bad id!', 3],
  ],
  [['registers'], [[], 'x', {}]],
  [['lanes'], [[], 5]],
  [
    ['lanes', 0, 'id'],
    ['bad id!', ''],
  ],
  [
    ['lanes', 0, 'scanners', 0, 'type'],
    ['laser', 5],
  ],
  [
    ['payments', 'amountMax'],
    [0, -1],
  ],
  [
    ['offline', 'consecutiveMax'],
    [0, 1_001, 2.5],
  ],
  [
    ['offline', 'restrictedCategories'],
    ['tobacco', [''], [1]],
  ],
  [
    ['offline', 'velocity', 'windowSec'],
    [0, 86_401],
  ],
  [
    ['codes', 'maxCodeAgeSec'],
    [0, 3_601],
  ],
  [
    ['sync', 'batchEntriesMax'],
    [0, 1_001],
  ],
  [['sync', 'leaseTtlMs'], [500]],
  [
    ['operators', 0, 'keySha256'],
    ['nothex', OPERATOR_KEY],
  ],
  [['dashboard', 'sessionTtlSec'], [0]],
];

const REQUIRED: Path[] = [
  ['storeId'],
  ['dataDir'],
  ['wallet'],
  ['wallet', 'url'],
  ['wallet', 'storeKey'],
  ['registers'],
  ['lanes'],
  ['registers', 0, 'keySha256'],
  ['registers', 1, 'laneId'],
  ['lanes', 0, 'id'],
];

const OBJECTS: Path[] = [
  [],
  ['http'],
  ['wallet'],
  ['registers', 0],
  ['lanes', 1],
  ['offline'],
  ['offline', 'velocity'],
  ['sync'],
  ['codes'],
];

/** Keys with defaults (removable) and values in range (settable): a file with only these is valid. */
const OPTIONAL: Path[] = [
  ['timeZone'],
  ['currency'],
  ['log'],
  ['http'],
  ['http', 'port'],
  ['offline'],
  ['sync'],
  ['codes'],
  ['operators'],
  ['dashboard'],
  ['payments'],
  ['lanes', 0, 'scanners'],
];
const VALID_VALUES: [Path, fc.Arbitrary<unknown>][] = [
  [['http', 'port'], fc.integer({ min: 0, max: 65_535 })],
  [['wallet', 'timeoutMs'], fc.integer({ min: 1, max: 60_000 })],
  [['offline', 'perTransactionLimit'], fc.integer({ min: 0, max: 1_000_000 })],
  [['codes', 'maxClockSkewSec'], fc.integer({ min: 0, max: 3_600 })],
  [['log', 'level'], fc.constantFrom('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent')],
  [['timeZone'], fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York')],
  [['storeId'], fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/)],
];

type Cross =
  | 'duplicateLane'
  | 'unknownLane'
  | 'duplicateRegister'
  | 'sharedKey'
  | 'operatorKey'
  | 'duplicateScanner';
const CROSS_PATHS: Record<Cross, Path> = {
  duplicateLane: ['lanes'],
  unknownLane: ['registers', 0, 'laneId'],
  duplicateRegister: ['registers', 1, 'id'],
  sharedKey: ['registers', 1, 'keySha256'],
  operatorKey: ['operators', 0, 'keySha256'],
  duplicateScanner: ['lanes', 1, 'scanners', 0, 'id'],
};

type Mutation =
  | { kind: 'invalid'; path: Path; value: unknown }
  | { kind: 'remove'; path: Path }
  | { kind: 'unknownKey'; at: Path; key: string; value: unknown }
  | { kind: 'cross'; cross: Cross }
  | { kind: 'validRemove'; path: Path }
  | { kind: 'validSet'; path: Path; value: unknown }
  | { kind: 'random'; path: Path; value: unknown };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(...INVALID).chain(([path, values]) =>
      fc.record({
        kind: fc.constant('invalid' as const),
        path: fc.constant(path),
        value: fc.constantFrom(...values),
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('remove' as const), path: fc.constantFrom(...REQUIRED) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('unknownKey' as const),
      at: fc.constantFrom(...OBJECTS),
      key: fc.stringMatching(/^[a-z]{1,10}$/).map((name) => `xFuzz_${name}`),
      value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...SECRETS)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('cross' as const),
      cross: fc.constantFrom(...(Object.keys(CROSS_PATHS) as Cross[])),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('validRemove' as const), path: fc.constantFrom(...OPTIONAL) }),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(...VALID_VALUES)
      .chain(([path, value]) =>
        fc.record({ kind: fc.constant('validSet' as const), path: fc.constant(path), value }),
      ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('random' as const),
      path: fc.oneof(
        fc.constantFrom(...INVALID.map(([path]) => path), ...OPTIONAL),
        fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.nat(3)), { minLength: 1, maxLength: 3 }),
      ),
      value: fc.jsonValue({ maxDepth: 3 }),
    }),
  },
);

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A key that fits its container: an index in a list, a name in an object. */
const fits = (node: Json, key: string | number): boolean =>
  typeof node === 'object' && node !== null && Array.isArray(node) === (typeof key === 'number');

/** The container of `path`'s last key, or undefined when the path no longer leads anywhere. */
function parentOf(root: Json, path: Path): Json | undefined {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (!fits(node, key) || !(key in node)) return undefined;
    node = node[key];
  }
  return fits(node, path.at(-1)!) ? node : undefined;
}

function setAt(root: Json, path: Path, value: unknown): boolean {
  const parent = parentOf(root, path);
  if (parent === undefined) return false;
  parent[path.at(-1)!] = value;
  return true;
}

function removeAt(root: Json, path: Path): boolean {
  const parent = parentOf(root, path);
  if (parent === undefined || !(path.at(-1)! in parent)) return false;
  if (Array.isArray(parent)) return false;
  delete parent[path.at(-1)!];
  return true;
}

function applyCross(config: Json, cross: Cross): boolean {
  switch (cross) {
    case 'duplicateLane':
      return (
        setAt(config, ['lanes', 1, 'id'], config.lanes?.[0]?.id) &&
        setAt(config, ['registers', 1, 'laneId'], config.lanes?.[0]?.id)
      );
    case 'unknownLane':
      return setAt(config, ['registers', 0, 'laneId'], 'lane-404');
    case 'duplicateRegister':
      return setAt(config, ['registers', 1, 'id'], config.registers?.[0]?.id);
    case 'sharedKey':
      return setAt(config, ['registers', 1, 'keySha256'], config.registers?.[0]?.keySha256);
    case 'operatorKey':
      return setAt(config, ['operators', 0, 'keySha256'], config.registers?.[0]?.keySha256);
    case 'duplicateScanner':
      return setAt(config, ['lanes', 1, 'scanners', 0, 'id'], config.lanes?.[0]?.scanners?.[0]?.id);
  }
}

interface Expectation {
  /** The dotted path a problem must start with (`(root)` for the top level). */
  path: string;
  /** What the problem's message must mention, for an unknown key. */
  mentions?: string;
}

const dotted = (path: Path): string => (path.length === 0 ? '(root)' : path.join('.'));
const touches = (a: Path, b: Path) => {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n).every((key, i) => String(key) === String(b[i]));
};
const CROSS_SECTIONS = ['lanes', 'registers', 'operators'];

/**
 * Applies the mutations in order and says which problems the file must then list: one per mutation that broke a key,
 * unless a later mutation touched the same part of the file (it may have replaced or removed it).
 */
function mutate(mutations: readonly Mutation[]): { config: Json; expected: Expectation[]; valid: boolean } {
  const config = clone(validConfig()) as Json;
  const applied: { path: Path; expect?: Expectation; breaks: boolean }[] = [];
  for (const m of mutations) {
    if (m.kind === 'invalid' && setAt(config, m.path, m.value))
      applied.push({ path: m.path, expect: { path: dotted(m.path) }, breaks: true });
    if (m.kind === 'remove' && removeAt(config, m.path))
      applied.push({ path: m.path, expect: { path: dotted(m.path) }, breaks: true });
    if (m.kind === 'unknownKey' && setAt(config, [...m.at, m.key], m.value))
      applied.push({ path: [...m.at, m.key], expect: { path: dotted(m.at), mentions: m.key }, breaks: true });
    if (m.kind === 'cross' && applyCross(config, m.cross)) {
      const path = CROSS_PATHS[m.cross];
      applied.push({ path: [path[0]!], expect: { path: dotted(path) }, breaks: true });
    }
    if (m.kind === 'validRemove' && removeAt(config, m.path)) applied.push({ path: m.path, breaks: false });
    if (m.kind === 'validSet' && setAt(config, m.path, m.value))
      applied.push({ path: m.path, breaks: false });
    if (m.kind === 'random' && setAt(config, m.path, m.value)) applied.push({ path: m.path, breaks: true });
  }
  const expected = applied.flatMap((a, i) => {
    if (a.expect === undefined) return [];
    const later = applied.slice(i + 1);
    if (later.some((b) => touches(a.path, b.path))) return [];
    // Cross-field checks run only while lanes, registers and operators are otherwise sound.
    const cross = mutations.some((m) => m.kind === 'cross') && CROSS_SECTIONS.includes(String(a.path[0]));
    if (cross && applied.some((b, j) => j !== i && CROSS_SECTIONS.includes(String(b.path[0])) && b.breaks))
      return [];
    return [a.expect];
  });
  return { config, expected, valid: applied.every((a) => !a.breaks) };
}

// ——— the checks ———

/** The first run of SECRET_WINDOW characters of a secret found in `text`. */
function secretShown(text: string): string | undefined {
  for (const secret of SECRETS)
    for (let at = 0; at + SECRET_WINDOW <= secret.length; at++) {
      const run = secret.slice(at, at + SECRET_WINDOW);
      if (text.includes(run)) return run;
    }
  return undefined;
}

const PROBLEM = /^(\(root\)|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*): \S/;
const JSON_PROBLEM = /^not valid JSON( at line \d+, column \d+)?: \S/;
const FILE_PROBLEM = /^cannot read the file: \S/;

/** The problem names `path` or a key inside it. */
function names(problem: string, path: string): boolean {
  const named = problem.slice(0, problem.indexOf(': '));
  return named === path || named.startsWith(`${path}.`);
}

/** The error of a refused file: a ConfigError, each problem with its path (or the place the JSON breaks). */
function checkRefusal(error: unknown, where: string): ConfigError {
  if (!(error instanceof ConfigError)) figures.otherErrors += 1;
  expect(error, `${where}: ${String(error)}`).toBeInstanceOf(ConfigError);
  const refusal = error as ConfigError;
  expect(refusal.problems.length, where).toBeGreaterThan(0);
  for (const problem of refusal.problems) {
    const formed = [PROBLEM, JSON_PROBLEM, FILE_PROBLEM].some((form) => form.test(problem));
    expect(formed, `${where}: ${problem}`).toBe(true);
  }
  const shown = secretShown(refusal.message);
  if (shown !== undefined) figures.secretsShown += 1;
  expect(shown, `${where}: a secret in the error: ${refusal.message}`).toBeUndefined();
  figures.refused += 1;
  figures.problems += refusal.problems.length;
  return refusal;
}

function outcome(run: () => unknown): { ok: true } | { ok: false; error: unknown } {
  try {
    run();
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

function writeFile(name: string, content: string | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

describe('config files under random mutations', () => {
  it(
    `parse: ConfigError only, every broken key named, no secret shown (${RUNS} files, seed ${settings.seed})`,
    async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), async (mutations) => {
          run += 1;
          figures.files += 1;
          const where = `seed=${settings.seed} ${JSON.stringify(mutations).slice(0, 300)}`;
          const { config, expected, valid } = mutate(mutations);
          const parsed = outcome(() => parseConfig(config, 'config.json'));
          const file = writeFile('mutated.json', JSON.stringify(config, null, 2));
          const loaded = outcome(() => loadConfig(file));
          expect(loaded.ok, where).toBe(parsed.ok);
          if (parsed.ok) {
            figures.accepted += 1;
            expect(expected, `${where}: accepted with broken keys`).toEqual([]);
            return;
          }
          expect(valid, `${where}: a valid file was refused: ${String(parsed.error)}`).toBe(false);
          const refusal = checkRefusal(parsed.error, where);
          expect((loaded as { error: ConfigError }).error.problems, where).toEqual(refusal.problems);
          for (const expectation of expected) {
            const named = refusal.problems.filter((p) => names(p, expectation.path));
            expect(
              named.length,
              `${where}: no problem names ${expectation.path}: ${refusal.problems.join(' | ')}`,
            ).toBeGreaterThan(0);
            if (expectation.mentions !== undefined)
              expect(
                named.some((p) => p.includes(expectation.mentions!)),
                `${where}: ${named.join(' | ')}`,
              ).toBe(true);
            figures.namedAsExpected += 1;
          }
          if (run % 10 === 0) {
            // The command as an operator runs it: exit 1, every problem on stderr, nothing on stdout.
            figures.cliRuns += 1;
            const result = await cli(['start', '--config', file]);
            expect(result.status, `${where}: ${result.stderr}`).toBe(1);
            expect(result.stdout).toBe('');
            for (const problem of refusal.problems) expect(result.stderr).toContain(`  - ${problem}`);
            expect(secretShown(result.stderr), result.stderr).toBeUndefined();
          }
        }),
        { numRuns: RUNS, seed: settings.seed, endOnFailure: true },
      );
      expect(figures.accepted, 'valid files were among them, and accepted').toBeGreaterThan(0);
      expect(figures.namedAsExpected).toBeGreaterThan(0);
    },
    PARSE_TIMEOUT_MS,
  );

  it(
    'the file as text: cut, unquoted, BOM, invalid UTF-8, comments — ConfigError or accepted, no secret shown',
    () => {
      const text = JSON.stringify(validConfig(), null, 2);
      const storeKeyAt = text.indexOf(`"${STORE_KEY}"`);
      const textMutationArb = fc.oneof(
        fc.nat(text.length).map((at) => text.slice(0, at)),
        fc.nat(text.length).map((at) => text.slice(0, at) + text.slice(at + 1)),
        fc
          .tuple(
            fc.nat(text.length),
            fc.constantFrom('"', ',', '{', '}', ']', ':', 'x', '\\', '\u0000', '\n'),
          )
          .map(([at, c]) => text.slice(0, at) + c + text.slice(at)),
        fc.constant(text.replace(`"${STORE_KEY}"`, STORE_KEY)),
        fc.constant(text.replace(`"${STORE_KEY}"`, `'${STORE_KEY}'`)),
        fc.constant(text.replace(`"${STORE_KEY}"`, `"${STORE_KEY}`)),
        fc.nat(STORE_KEY.length).map((cut) => text.slice(0, storeKeyAt + 1 + cut)),
        fc.constant(`\ufeff${text}`),
        fc.constant(`// the store's gateway\n${text}`),
        fc.constant(text.replace(/\n}$/, ',\n}')),
        fc.constant(text.replace('"timeoutMs": 1000', '"timeoutMs": NaN')),
        fc.constant(`${text}\n${text}`),
        fc
          .tuple(fc.nat(text.length), fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80]))
          .map(([at, bytes]) =>
            Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at))]),
          ),
      );
      fc.assert(
        fc.property(textMutationArb, (content) => {
          figures.files += 1;
          const file = writeFile('text.json', content);
          const loaded = outcome(() => loadConfig(file));
          if (loaded.ok) figures.accepted += 1;
          else checkRefusal(loaded.error, `seed=${settings.seed} ${String(content).slice(0, 80)}`);
        }),
        { numRuns: RUNS, seed: settings.seed, endOnFailure: true },
      );
    },
    PARSE_TIMEOUT_MS,
  );

  it('a file saved with a UTF-8 byte-order mark (as some Windows editors do) is read as the same file', () => {
    const text = JSON.stringify(validConfig(), null, 2);
    const plain = loadConfig(writeFile('plain.json', text));
    const withBom = loadConfig(writeFile('bom.json', `\uFEFF${text}`));
    expect(withBom).toEqual({ ...plain, dataDir: withBom.dataDir });
    expect(withBom.storeId).toBe(plain.storeId);
  });

  it('a missing file and a directory: ConfigError naming the file, not a stack trace', () => {
    for (const file of [join(dir, 'no-such.json'), dir]) {
      const refused = outcome(() => loadConfig(file));
      expect(refused.ok).toBe(false);
      const error = checkRefusal((refused as { error: unknown }).error, file);
      expect(error.message.startsWith(file)).toBe(true);
    }
  });
});

describe('tillgate start --config, as built (node dist/bin/tillgate.js)', () => {
  const children: ChildProcess[] = [];

  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  function runBuilt(file: string): { status: number | null; stdout: string; stderr: string } {
    expect(existsSync(MAIN), `${MAIN} is missing: npm test builds it (pretest); npm run build does too`).toBe(
      true,
    );
    const run = spawnSync(process.execPath, [MAIN, 'start', '--config', file], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    figures.cliRuns += 1;
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  it('exits 1 for a file whose store key lost its quotes, saying where the JSON breaks and not the key', () => {
    const text = JSON.stringify(validConfig(), null, 2).replace(`"${STORE_KEY}"`, STORE_KEY);
    const file = writeFile('unquoted.json', text);
    const result = runBuilt(file);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^tillgate start: .*unquoted\.json: 1 problem\n {2}- not valid JSON/);
    expect(secretShown(result.stdout + result.stderr), result.stderr).toBeUndefined();
  });

  it('exits 1 listing every problem with its path, type errors and colliding ids together', () => {
    const config = clone(validConfig()) as Json;
    config.http.port = '8420';
    config.wallet.url = 'not a url';
    config.wallet.xFuzz_key = STORE_KEY;
    config.xFuzz_registerKey = REGISTER_KEYS[0];
    config.operators[0].keySha256 = config.registers[1].keySha256;
    config.lanes[1].scanners[0].id = config.lanes[0].scanners[0].id;
    const file = writeFile('broken.json', JSON.stringify(config, null, 2));
    const result = runBuilt(file);
    expect(result.status, result.stderr).toBe(1);
    const listed = result.stderr.split('\n').filter((line) => line.startsWith('  - '));
    expect(result.stderr).toContain(`broken.json: ${listed.length} problems`);
    const paths = [
      'http.port',
      'wallet.url',
      'wallet',
      '(root)',
      'operators.0.keySha256',
      'lanes.1.scanners.0.id',
    ];
    for (const path of paths)
      expect(
        listed.some((line) => line.startsWith(`  - ${path}: `)),
        `${path} in ${result.stderr}`,
      ).toBe(true);
    expect(listed.some((line) => line.includes('xFuzz_key'))).toBe(true);
    expect(listed.some((line) => line.includes('xFuzz_registerKey'))).toBe(true);
    expect(secretShown(result.stdout + result.stderr), result.stderr).toBeUndefined();
  });

  it('starts on the valid file, answers /healthz and exits 0 on SIGTERM, printing no secret', async () => {
    expect(existsSync(MAIN), `${MAIN} is missing: npm test builds it (pretest)`).toBe(true);
    const port = Number(new URL(await deadUrl()).port);
    const file = writeFile('valid.json', JSON.stringify(validConfig(port), null, 2));
    const child = spawn(process.execPath, [MAIN, 'start', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    figures.cliRuns += 1;
    let output = '';
    child.stdout!.on('data', (chunk) => (output += String(chunk)));
    child.stderr!.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    let healthy = false;
    while (!healthy && Date.now() < deadline && child.exitCode === null) {
      healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!healthy) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(healthy, output).toBe(true);
    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(secretShown(output), output).toBeUndefined();
  }, 30_000);
});

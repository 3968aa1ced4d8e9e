// The data directory the commands share (default ./demo-data) and its DIR/demo.json, which `tillgate demo`
// writes for scripts and which `paycode` and `verify-code` read to find the sandbox wallet and its admin key.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { type CliIo, failure, usageError, workingDir } from './command.js';
import { readJsonFile, writePrivateFile } from './private-files.js';

export const DEFAULT_DATA_DIR = 'demo-data';
export const DEMO_FILE_NAME = 'demo.json';
export const GATEWAY_DB_FILE = 'gateway.sqlite';
export const WALLET_DB_FILE = 'wallet.sqlite';

export const DemoFileSchema = z.object({
  gatewayUrl: z.string().min(1),
  walletUrl: z.string().min(1),
  storeId: z.string().min(1),
  sandboxAdminKey: z.string().min(1),
  registers: z.array(z.object({ id: z.string(), laneId: z.string(), key: z.string() })),
  /** The demo's dashboard key (operators[] in the demo's config). */
  operatorKey: z.string().min(1).optional(),
});

export type DemoFile = z.infer<typeof DemoFileSchema>;

export function dataDirOf(io: CliIo, given: string | undefined): string {
  return resolve(workingDir(io), given ?? DEFAULT_DATA_DIR);
}

/** DIR/demo.json, or null when there is none; a file that is there but unreadable is a failure. */
export function readDemoFile(dataDir: string): DemoFile | null {
  const file = join(dataDir, DEMO_FILE_NAME);
  if (!existsSync(file)) return null;
  const parsed = DemoFileSchema.safeParse(readJsonFile(file));
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
    throw failure(`${file} is not a demo file (bad or missing: ${fields.join(', ')})`);
  }
  return parsed.data;
}

/** Writes DIR/demo.json with mode 0600: it holds the register keys and the sandbox admin key. */
export function writeDemoFile(dataDir: string, demo: DemoFile): string {
  const file = join(dataDir, DEMO_FILE_NAME);
  writePrivateFile(file, `${JSON.stringify(DemoFileSchema.parse(demo), null, 2)}\n`);
  return file;
}

export interface SandboxWalletAccess {
  url: string;
  adminKey: string;
}

/** The wallet named by --wallet/--admin-key, each falling back to DIR/demo.json; null when none is named. */
export function sandboxWalletOf(
  options: { wallet?: string | undefined; adminKey?: string | undefined },
  dataDir: string,
): SandboxWalletAccess | null {
  const demo = options.wallet !== undefined && options.adminKey !== undefined ? null : readDemoFile(dataDir);
  const url = options.wallet ?? demo?.walletUrl;
  const adminKey = options.adminKey ?? demo?.sandboxAdminKey;
  if (url === undefined) return null;
  if (!/^https?:\/\/[^/]/.test(url))
    throw usageError(`--wallet must be an http(s) URL, not ${JSON.stringify(url)}`);
  if (adminKey === undefined) {
    throw usageError(`--wallet needs --admin-key (no ${join(dataDir, DEMO_FILE_NAME)} to take it from)`);
  }
  return { url: url.replace(/\/+$/, ''), adminKey };
}

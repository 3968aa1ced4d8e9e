// What every part of the sandbox wallet is handed: the database, the clock, the logger and the shared
// in-process pieces (risk feed, fault table, the signal that the wallet is closing). Built once by server.ts.
import type { Logger } from 'pino';
import type { Db } from './db.js';
import type { FaultTable } from './faults.js';
import type { RiskFeed } from './risk-feed.js';

export interface CodeRules {
  maxCodeAgeSec: number;
  maxClockSkewSec: number;
}

export interface WalletContext {
  db: Db;
  /** Unix seconds. */
  clock: () => number;
  logger: Logger;
  codeRules: CodeRules;
  certificateLifetimeSec: number;
  adminKeySha256: Buffer;
  feed: RiskFeed;
  faults: FaultTable;
  /** Aborted when close() starts: held long polls answer, hung faults let go. */
  closing: AbortSignal;
}

export const NUMERIC_CODE_LIFETIME_SEC = 60;

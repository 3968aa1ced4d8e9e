// The sandbox central wallet as an HTTP server: startWallet() opens its SQLite file, makes its first issuer key
// and admin key on a fresh file, and serves CONTRACT §3 on 127.0.0.1; close() ends long polls and hung faults.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Database from 'better-sqlite3';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import pino, { type Logger } from 'pino';
import { apiRoutes } from './api-routes.js';
import type { WalletContext } from './context.js';
import { createStoreKey, ensureAdminKey, sha256 } from './credentials.js';
import { openWalletDb } from './db.js';
import { toWalletError, WalletError } from './errors.js';
import { FaultTable, faultMiddleware } from './faults.js';
import { ensureFirstIssuerKey } from './issuer-keys.js';
import { RiskFeed } from './risk-feed.js';
import { sandboxRoutes } from './sandbox-routes.js';
import { parse, StoreId } from './schemas.js';

export interface WalletOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** The wallet's SQLite file; created if missing. */
  dbPath: string;
  /** Sandbox admin bearer key; generated and kept in the database when absent. */
  adminKey?: string;
  /** Unix seconds. */
  clock?: () => number;
  logger?: Logger;
  maxCodeAgeSec?: number;
  maxClockSkewSec?: number;
  certificateLifetimeSec?: number;
}

export interface RunningWallet {
  url: string;
  adminKey: string;
  port: number;
  db: Database.Database;
  close(): Promise<void>;
}

export const WALLET_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  maxCodeAgeSec: 120,
  maxClockSkewSec: 30,
  certificateLifetimeSec: 365 * 86_400,
} as const;

const LOG_REDACT_PATHS = [
  'payCode',
  '*.payCode',
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'adminKey',
  'storeKey',
  'code',
  '*.code',
];

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

export async function startWallet(options: WalletOptions): Promise<RunningWallet> {
  const db = openWalletDb(options.dbPath);
  const closing = new AbortController();
  try {
    const clock = options.clock ?? unixNow;
    const adminKey = ensureAdminKey(db, options.adminKey);
    const feed = new RiskFeed(db, clock);
    ensureFirstIssuerKey(db, feed, clock());
    const context: WalletContext = {
      db,
      clock,
      logger: walletLogger(options.logger),
      codeRules: {
        maxCodeAgeSec: options.maxCodeAgeSec ?? WALLET_DEFAULTS.maxCodeAgeSec,
        maxClockSkewSec: options.maxClockSkewSec ?? WALLET_DEFAULTS.maxClockSkewSec,
      },
      certificateLifetimeSec: options.certificateLifetimeSec ?? WALLET_DEFAULTS.certificateLifetimeSec,
      adminKeySha256: sha256(adminKey),
      feed,
      faults: new FaultTable(),
      closing: closing.signal,
    };
    const server = createServer(createWalletApp(context));
    const host = options.host ?? WALLET_DEFAULTS.host;
    const port = await listen(server, host, options.port ?? WALLET_DEFAULTS.port);
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    context.logger.info({ url }, 'sandbox wallet listening');
    return { url, adminKey, port, db, close: once(() => shutDown(server, db, closing)) };
  } catch (error) {
    closing.abort();
    db.close();
    throw error;
  }
}

/** Redaction is set on the wallet's child too, so it holds whatever logger the caller passes in. */
function walletLogger(given: Logger | undefined): Logger {
  const redact = { paths: LOG_REDACT_PATHS, censor: '[redacted]' };
  const root = given ?? pino({ name: 'tillgate', level: 'info', redact });
  return root.child({ module: 'wallet' }, { redact });
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => {
    running ??= fn();
    return running;
  };
}

/** Held long polls answer first (a macrotask later), then every socket — hung faults included — is destroyed. */
async function shutDown(server: Server, db: Database.Database, closing: AbortController): Promise<void> {
  closing.abort();
  await new Promise((resolve) => setImmediate(resolve));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  db.close();
}

export function createWalletApp(context: WalletContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLog(context.logger));
  app.use(faultMiddleware(context.faults, context.closing));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(apiRoutes(context));
  app.use(sandboxRoutes(context));
  app.use(() => {
    throw new WalletError('not_found', 'no such endpoint');
  });
  app.use(errorHandler(context.logger));
  return app;
}

/** Method, path (no query, no body, no headers), status and time: never a code or a key. */
function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const startedAt = performance.now();
    res.once('finish', () => {
      logger.debug(
        {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          durationMs: Math.round(performance.now() - startedAt),
        },
        'request',
      );
    });
    next();
  };
}

function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const walletError = toWalletError(error);
    if (walletError.status >= 500)
      logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(walletError.status).json(walletError.toJSON());
  };
}

/**
 * Creates a store, or rotates its key; the key is returned once (only its SHA-256 is kept).
 * Takes the wallet's database or the running wallet. POST /v1/sandbox/stores does the same over HTTP.
 */
export function createStore(
  target: Database.Database | RunningWallet,
  storeId: string,
  options: { previousKeyGraceSec?: number } = {},
): { storeId: string; storeKey: string } {
  const db = 'url' in target && 'adminKey' in target ? target.db : (target as Database.Database);
  return createStoreKey(db, parse(StoreId, storeId, 'storeId'), unixNow(), options);
}

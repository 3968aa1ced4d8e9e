// Sandbox-only controls (CONTRACT §3.5) and the sandbox extras beside them: accounts, stores and their keys,
// freezes and revocations (published on the risk feed), issuer keys, limits, numeric codes, applied entries, faults.
// Every route needs the sandbox admin key.
import { Router } from 'express';
import { accountView, createAccount, setFrozen } from './accounts.js';
import type { WalletContext } from './context.js';
import { createStoreKey, requireAdmin } from './credentials.js';
import { deviceView, revokeDevice } from './devices.js';
import { addIssuerKey, revokeIssuerKey } from './issuer-keys.js';
import { settledEntries } from './ledger-ingest.js';
import { issueNumericCode } from './numeric-codes.js';
import {
  CreateAccountSchema,
  CreateStoreSchema,
  EmptyBodySchema,
  FaultSchema,
  jsonBody,
  LimitsSchema,
  NumericCodeRequestSchema,
  PathHex16Schema,
  PathKidSchema,
  parse,
  SettledQuerySchema,
  StoreId,
} from './schemas.js';

export function sandboxRoutes(context: WalletContext): Router {
  const router = Router();
  router.use('/v1/sandbox', requireAdmin(context), jsonBody);
  accountRoutes(router, context);
  keyRoutes(router, context);
  storeRoutes(router, context);
  router.post('/v1/sandbox/faults', (req, res) => {
    res.json(context.faults.add(parse(FaultSchema, req.body)));
  });
  router.get('/v1/sandbox/faults', (_req, res) => {
    res.json({ faults: context.faults.list() });
  });
  router.delete('/v1/sandbox/faults', (_req, res) => {
    res.json({ cleared: context.faults.clear() });
  });
  return router;
}

function accountRoutes(router: Router, context: WalletContext): void {
  const { db, feed } = context;
  const accountId = (raw: unknown): string => parse(PathHex16Schema, raw, 'accountId');
  router.post('/v1/sandbox/accounts', (req, res) => {
    const body = parse(CreateAccountSchema, req.body);
    const account = createAccount(db, body.balance, body.currency, context.clock());
    res.json({ accountId: account.accountId, balance: account.balance, currency: account.currency });
  });
  router.get('/v1/sandbox/accounts/:id', (req, res) => {
    res.json(accountView(db, accountId(req.params.id)));
  });
  router.post('/v1/sandbox/accounts/:id/freeze', (req, res) => {
    parse(EmptyBodySchema, req.body);
    res.json(setFrozen(db, feed, accountId(req.params.id), true));
  });
  router.post('/v1/sandbox/accounts/:id/unfreeze', (req, res) => {
    parse(EmptyBodySchema, req.body);
    res.json(setFrozen(db, feed, accountId(req.params.id), false));
  });
  router.post('/v1/sandbox/numeric-codes', (req, res) => {
    res.json(issueNumericCode(db, parse(NumericCodeRequestSchema, req.body).accountId, context.clock()));
  });
  router.get('/v1/sandbox/devices/:id', (req, res) => {
    res.json(deviceView(db, parse(PathHex16Schema, req.params.id, 'deviceId')));
  });
  router.post('/v1/sandbox/devices/:id/revoke', (req, res) => {
    parse(EmptyBodySchema, req.body);
    res.json(revokeDevice(db, feed, parse(PathHex16Schema, req.params.id, 'deviceId')));
  });
}

function keyRoutes(router: Router, context: WalletContext): void {
  const { db, feed } = context;
  router.post('/v1/sandbox/issuer-keys', (req, res) => {
    parse(EmptyBodySchema, req.body);
    res.json(addIssuerKey(db, feed, context.clock()));
  });
  router.post('/v1/sandbox/issuer-keys/:kid/revoke', (req, res) => {
    parse(EmptyBodySchema, req.body);
    res.json(revokeIssuerKey(db, feed, parse(PathKidSchema, req.params.kid, 'kid')));
  });
  router.post('/v1/sandbox/limits', (req, res) => {
    const limits = parse(LimitsSchema, req.body);
    db.transaction(() => feed.publish('limits_changed', limits)).immediate();
    res.json(limits);
  });
}

function storeRoutes(router: Router, context: WalletContext): void {
  router.post('/v1/sandbox/stores', (req, res) => {
    const { storeId, previousKeyGraceSec } = parse(CreateStoreSchema, req.body);
    res.json(createStoreKey(context.db, storeId, context.clock(), { previousKeyGraceSec }));
  });
  router.get('/v1/sandbox/stores/:storeId/settled', (req, res) => {
    const storeId = parse(StoreId, req.params.storeId, 'storeId');
    const query = parse(SettledQuerySchema, req.query, 'query');
    res.json({ entries: settledEntries(context.db, storeId, query.afterSeq, query.limit) });
  });
}

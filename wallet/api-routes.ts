// The wallet API a gateway calls (CONTRACT §3.1–3.4) plus device enrollment (§3.3, admin key in the sandbox).
// Handlers parse, check the caller, call one function and answer; errors are thrown as WalletError.
import { type Response, Router } from 'express';
import { authorize, getAuthorization } from './authorize.js';
import type { WalletContext } from './context.js';
import {
  assertCallerStore,
  callerStore,
  requireAdmin,
  requireStore,
  requireStoreOrAdmin,
} from './credentials.js';
import { enrollDevice } from './devices.js';
import { listIssuerKeys } from './issuer-keys.js';
import { ingestBatch } from './ledger-ingest.js';
import { refund } from './refunds.js';
import { reverseAuthorization } from './reversals.js';
import {
  AuthorizationRequestSchema,
  batchJsonBody,
  EmptyBodySchema,
  EnrollRequestSchema,
  jsonBody,
  PathIdSchema,
  parse,
  parseLedgerBatch,
  RefundRequestSchema,
  RiskFeedQuerySchema,
  StoreId,
} from './schemas.js';

export function apiRoutes(context: WalletContext): Router {
  const router = Router();
  const store = requireStore(context);
  const log = context.logger;

  router.post('/v1/authorizations', store, jsonBody, async (req, res) => {
    const request = parse(AuthorizationRequestSchema, req.body);
    assertCallerStore(res, request.storeId);
    const result = await authorize(context, request);
    log.info(
      { authorizationId: result.id, storeId: request.storeId, status: result.status, reason: result.reason },
      'authorization',
    );
    res.json(result);
  });

  router.get('/v1/authorizations/:id', store, (req, res) => {
    res.json(getAuthorization(context.db, parse(PathIdSchema, req.params.id, 'id'), callerStore(res)));
  });

  router.post('/v1/authorizations/:id/reversal', store, jsonBody, (req, res) => {
    parse(EmptyBodySchema, req.body);
    const id = parse(PathIdSchema, req.params.id, 'id');
    res.json(reverseAuthorization(context, callerStore(res), id));
  });

  router.post('/v1/refunds', store, jsonBody, (req, res) => {
    res.json(refund(context, callerStore(res), parse(RefundRequestSchema, req.body)));
  });

  router.post('/v1/ledger/batches', store, batchJsonBody, (req, res) => {
    const batch = parseLedgerBatch(req.body);
    assertCallerStore(res, batch.storeId);
    res.json(ingestBatch(context, batch));
  });

  router.get('/v1/issuer-keys', requireStoreOrAdmin(context), (_req, res) => {
    res.json(listIssuerKeys(context.db));
  });

  router.post('/v1/devices', requireAdmin(context), jsonBody, (req, res) => {
    const request = parse(EnrollRequestSchema, req.body);
    res.json(enrollDevice(context.db, request, context.clock(), context.certificateLifetimeSec));
  });

  router.get('/v1/stores/:storeId/risk-feed', store, async (req, res) => {
    assertCallerStore(res, parse(StoreId, req.params.storeId, 'storeId'));
    const query = parse(RiskFeedQuerySchema, req.query, 'query');
    const gone = untilGone(res, context.closing);
    try {
      const page = await context.feed.poll(Number(query.cursor ?? 0), query.waitMs, gone.signal);
      if (!res.destroyed) res.json(page);
    } finally {
      gone.dispose();
    }
  });

  return router;
}

/** Aborts when the client goes away or the wallet starts closing; dispose() removes both listeners. */
function untilGone(res: Response, closing: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  res.once('close', abort);
  closing.addEventListener('abort', abort, { once: true });
  if (closing.aborted) abort();
  return {
    signal: controller.signal,
    dispose: () => {
      res.off('close', abort);
      closing.removeEventListener('abort', abort);
    },
  };
}

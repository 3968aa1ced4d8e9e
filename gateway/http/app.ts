// The register API (CONTRACT §2) as an Express 5 app. Authentication comes before body parsing; every body is
// checked with zod; handlers throw GatewayError and the last middleware writes {error: {code, message}}.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import { createDashboard } from '../dashboard/routes.js';
import { commitGroup } from '../db/commit-group.js';
import { GatewayError, toGatewayError } from '../errors.js';
import type { GatewayStatus } from '../gateway.js';
import type { PaymentService } from '../payments/service.js';
import { tillgateVersion } from '../version.js';
import {
  AuthFailureLimiter,
  type Register,
  RegisterKeys,
  registerAuth,
  registerOf,
  sha256Hex,
} from './auth.js';
import { type EventHub, SseClients } from './events.js';
import { IdempotencyStore, type StoredResponse } from './idempotency.js';
import { openApiDocument } from './openapi.js';
import { createPaymentSchema, parseBody, RefundSchema, WaitQuerySchema } from './schemas.js';

export interface RegisterAppOptions {
  service: PaymentService;
  idempotency: IdempotencyStore;
  hub: EventHub;
  /** Read live by the dashboard: a reload changes registers and operators in place. */
  config: Config;
  status: () => GatewayStatus;
  ready: () => boolean;
  metrics: Registry;
  logger: Logger;
  now?: () => number;
}

export interface RegisterApp {
  app: express.Express;
  sse: SseClients;
  /** The `/v1` router (its routes are what openapi.ts documents). */
  registerRouter: express.Router;
  /** Takes new register keys and operators (a config reload); requests in flight keep the ones they had. */
  reload(config: Pick<Config, 'registers' | 'operators'>): void;
}

export function createRegisterApp(options: RegisterAppOptions): RegisterApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const sse = new SseClients(options.hub, options.config.http.sseClientsPerRegisterMax);

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', (_req, res) => {
    const ready = options.ready();
    res.status(ready ? 200 : 503).json({ ready });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(options.metrics.contentType).send(await options.metrics.metrics());
  });
  // Made at the first request: generating it (zod to JSON Schema) would otherwise be paid by every start.
  let openApi: string | undefined;
  app.get('/openapi.json', (_req, res) => {
    openApi ??= JSON.stringify(
      openApiDocument({ bounds: options.config.payments, version: tillgateVersion() }),
    );
    res.type('application/json').send(openApi);
  });
  const dashboard = createDashboard({
    config: options.config,
    status: options.status,
    db: options.service.repo.db,
    hub: options.hub,
    sse,
    registry: options.metrics,
    logger: options.logger.child({ module: 'dashboard' }),
    ...(options.now && { now: options.now }),
  });
  app.use(dashboard.router);

  const registerKeys = new RegisterKeys(options.config.registers);
  const v1 = express.Router();
  const limiter = new AuthFailureLimiter(options.config.http.authFailures, options.now);
  v1.use(registerAuth(registerKeys, { limiter, registry: options.metrics }));
  v1.use(express.json({ limit: options.config.http.bodyLimitBytes, type: 'application/json', strict: true }));
  paymentRoutes(v1, options);
  v1.get('/events', (req, res) => sse.serve(req, res, registerOf(res)));
  v1.get('/status', (_req, res) => {
    res.json({ ...options.status(), register: registerOf(res) });
  });
  app.use('/v1', v1);

  app.use((_req: Request, _res: Response) => {
    throw new GatewayError('not_found', 'no such route');
  });
  app.use(errorHandler(options.logger));
  const reload = (config: Pick<Config, 'registers' | 'operators'>): void => {
    registerKeys.replace(config.registers);
    dashboard.auth.replaceOperators(config.operators);
  };
  return { app, sse, registerRouter: v1, reload };
}

function paymentRoutes(router: express.Router, options: RegisterAppOptions): void {
  const { service } = options;
  // A register hears of a write only once it is on disk (gateway/db/commit-group.ts).
  const commits = commitGroup(service.repo.db);
  const createSchema = createPaymentSchema(options.config.payments);

  router.post('/payments', async (req, res) => {
    const register = registerOf(res);
    const body = parseBody(createSchema, req.body);
    const response = await idempotent(options, req, register, async (link) => {
      const payment = await service.create(
        { ...body, registerId: register.id, laneId: register.laneId },
        link,
      );
      return { status: 201, body: payment };
    });
    await commits.durable();
    res.status(response.status).json(response.body);
  });

  router.get('/payments/:id', async (req, res) => {
    const register = registerOf(res);
    const { waitMs } = parseBody(WaitQuerySchema, req.query, 'query');
    ownPayment(service, register, req.params.id as string);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const wait = Math.min(waitMs ?? 0, options.config.http.longPollMaxMs);
    const payment = await service.waitForChange(req.params.id as string, wait, abort.signal);
    await commits.durable();
    res.json(payment);
  });

  router.post('/payments/:id/cancel', async (req, res) => {
    const register = registerOf(res);
    ownPayment(service, register, req.params.id as string);
    const payment = await service.cancel(req.params.id as string);
    await commits.durable();
    res.json(payment);
  });

  router.post('/payments/:id/refunds', async (req, res) => {
    const register = registerOf(res);
    const { amount } = parseBody(RefundSchema, req.body);
    const paymentId = req.params.id as string;
    ownPayment(service, register, paymentId);
    const key = req.get('idempotency-key');
    // The refund id is derived from the register's key, so a retry reaches the wallet under the same id.
    const refundId = key === undefined ? undefined : `r_${sha256Hex(`${register.id}\n${key}`).slice(0, 32)}`;
    const response = await idempotent(options, req, register, async () => {
      const result = await service.refund({
        paymentId,
        registerId: register.id,
        amount,
        refundId: refundId ?? `r_${crypto.randomUUID()}`,
      });
      return { status: result.status, body: { refund: result.refund, payment: result.payment } };
    });
    await commits.durable();
    res.status(response.status).json(response.body);
  });
}

/** A register sees only its own lane's payments; another lane's id is as unknown as a made-up one. */
function ownPayment(service: PaymentService, register: Register, id: string): void {
  const row = service.row(id);
  if (row === undefined || row.lane_id !== register.laneId)
    throw new GatewayError('not_found', 'no such payment');
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

async function idempotent(
  options: RegisterAppOptions,
  req: Request,
  register: Register,
  run: (link: (paymentId: string) => void) => Promise<StoredResponse>,
): Promise<StoredResponse> {
  const store = options.idempotency;
  const key = req.get('idempotency-key');
  if (key === undefined) return run(() => undefined);
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new GatewayError('invalid_request', 'Idempotency-Key: 1–255 printable ASCII characters', {
      details: { field: 'Idempotency-Key' },
    });
  }
  const hash = IdempotencyStore.requestHash(req.method, req.originalUrl, req.body);
  const claim = store.claim(register.id, key, hash, (options.now ?? Date.now)());
  if (claim.kind === 'replay') return claim.response;
  if (claim.kind === 'orphan') return { status: 201, body: options.service.get(claim.paymentId) };
  try {
    const response = await run((paymentId) => store.linkPayment(register.id, key, paymentId));
    store.save(register.id, key, response);
    return response;
  } catch (error) {
    const failure = toGatewayError(error);
    if (failure.status >= 500) store.release(register.id, key);
    else store.save(register.id, key, { status: failure.status, body: errorBody(failure) });
    throw error;
  }
}

function errorBody(error: GatewayError): { error: Record<string, unknown> } {
  return { error: { code: error.code, message: error.message, ...(error.details ?? {}) } };
}

function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const failure = fromExpress(error);
    const route = routeOf(req);
    if (failure.status >= 500) {
      logger.error({ err: failure.cause ?? failure, method: req.method, route }, 'request failed');
    } else {
      logger.debug({ error: failure.code, method: req.method, route }, 'request refused');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(failure.status).json(errorBody(failure));
  };
}

/** The route pattern that took the request, never its raw path: a caller may put a key or a pay code there. */
function routeOf(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  return typeof pattern === 'string' ? pattern : '(no route)';
}

/**
 * body-parser's errors carry `type`; they become our codes without echoing the body. What else the parsers and
 * the router refuse as the caller's fault (a compressed body that does not inflate, a path that is not valid
 * percent-encoding) carries status 400: invalid input, not an internal error.
 */
function fromExpress(error: unknown): GatewayError {
  const type = (error as { type?: string } | null)?.type;
  if (type === 'entity.too.large')
    return new GatewayError('payment_too_large', 'the request body is too large');
  if (type === 'entity.parse.failed')
    return new GatewayError('invalid_request', 'the body is not valid JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new GatewayError('invalid_request', 'the body must be UTF-8 JSON');
  }
  if (error instanceof URIError)
    return new GatewayError('invalid_request', 'the path is not valid percent-encoding');
  if (!(error instanceof GatewayError) && (error as { status?: unknown } | null)?.status === 400)
    return new GatewayError('invalid_request', 'the request body cannot be read');
  return toGatewayError(error);
}

// The store dashboard and the cashier's lane view on the gateway's own port:
//   GET /            the dashboard (operator), else a redirect to /login
//   GET|POST /login  the operator sign-in form; POST /logout ends the session
//   GET /dashboard/panels   the panels as HTML fragments (JSON), GET /dashboard/events  every lane's events (SSE)
//   GET /lane        the cashier's lane view (no data in it: it works with a register key typed in)
// Pages are sent with a strict CSP (inline style and script by nonce only, fetches to this origin only).
import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Db } from '../db/open.js';
import { GatewayError } from '../errors.js';
import type { GatewayStatus } from '../gateway.js';
import type { EventHub, SseClients } from '../http/events.js';
import type { Formatter } from './format.js';
import { clearSessionCookie, fromSameOrigin, type Operator, OperatorAuth } from './operator-auth.js';
import type { DashboardModel, PanelId } from './panels.js';
import { type Activity, DashboardQueries } from './queries.js';

export interface DashboardOptions {
  /** Read live: a config reload changes registers and operators in place. */
  config: Config;
  status: () => GatewayStatus;
  db: Db;
  hub: EventHub;
  sse: SseClients;
  registry: Registry;
  logger: Logger;
  now?: () => number;
}

export interface Dashboard {
  router: Router;
  auth: OperatorAuth;
}

/**
 * What draws the pages: the templates, panels, charts, script and style (eight modules) and the Formatter's
 * Intl formats. Loaded at the first page asked for, not at start: payments never need them.
 */
interface Views {
  pages: typeof import('./pages.js');
  renderPanels: typeof import('./panels.js')['renderPanels'];
  fmt: Formatter;
}

/** The charts' query runs at most this often, however many dashboards are open. */
const ACTIVITY_REUSE_MS = 5_000;
const LOGIN_BODY_LIMIT = '2kb';

export function createDashboard(options: DashboardOptions): Dashboard {
  const now = options.now ?? Date.now;
  const { config } = options;
  const auth = new OperatorAuth({
    operators: config.operators,
    settings: config.dashboard,
    registry: options.registry,
    now,
  });
  let loaded: Promise<Views> | undefined;
  const views = (): Promise<Views> => {
    loaded ??= loadViews(config.timeZone);
    return loaded;
  };
  const model = modelReader(options, now);
  const router = express.Router();

  router.get('/', async (req, res) => {
    const nonce = pageHeaders(res);
    if (!auth.enabled) {
      const { pages } = await views();
      res.status(503).send(pages.dashboardOffPage({ storeId: config.storeId, nonce }));
      return;
    }
    const operator = auth.identify(req);
    if (operator === undefined) {
      res.redirect(303, '/login');
      return;
    }
    const { pages, renderPanels, fmt } = await views();
    const panels = renderPanels(model(), fmt);
    res.send(pages.dashboardPage({ storeId: config.storeId, operatorId: operator.id, panels, nonce }));
  });

  router.get('/login', async (req, res) => {
    if (auth.enabled && auth.identify(req) !== undefined) {
      res.redirect(303, '/');
      return;
    }
    const { pages } = await views();
    res.send(pages.signInPage({ storeId: config.storeId, nonce: pageHeaders(res) }));
  });

  router.post(
    '/login',
    express.urlencoded({ extended: false, limit: LOGIN_BODY_LIMIT }),
    async (req, res) => {
      const nonce = pageHeaders(res);
      const key = typeof req.body?.key === 'string' ? req.body.key : '';
      if (!fromSameOrigin(req)) throw new GatewayError('forbidden', 'sign in from this gateway’s own page');
      const result = auth.signIn(key, req.secure);
      if (result.outcome === 'signed_in') {
        options.logger.info({ operatorId: result.operator.id }, 'operator signed in');
        res.append('set-cookie', result.cookie).redirect(303, '/');
        return;
      }
      options.logger.warn({ outcome: result.outcome }, 'operator sign-in refused');
      const problem =
        result.outcome === 'rate_limited'
          ? 'Too many wrong keys: wait a minute and try again.'
          : 'That is not an operator key.';
      const { pages } = await views();
      res
        .status(result.outcome === 'rate_limited' ? 429 : 401)
        .send(pages.signInPage({ storeId: config.storeId, nonce, problem }));
    },
  );

  router.post('/logout', (req, res) => {
    if (!fromSameOrigin(req)) throw new GatewayError('forbidden', 'sign out from this gateway’s own page');
    auth.signOut(req);
    clearSessionCookie(res);
    res.redirect(303, '/login');
  });

  router.get('/dashboard/panels', async (req, res) => {
    requireOperator(auth, req);
    const { renderPanels, fmt } = await views();
    const panels = renderPanels(model(), fmt);
    res.set('cache-control', 'no-store').json({
      updatedAt: new Date(now()).toISOString(),
      panels: Object.fromEntries(Object.entries(panels).map(([id, markup]) => [id, markup.text])) as Record<
        PanelId,
        string
      >,
    });
  });

  router.get('/dashboard/events', (req, res) => {
    const operator = requireOperator(auth, req);
    options.sse.serve(req, res, { id: `operator:${operator.id}`, laneId: null });
  });

  router.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });

  router.get('/lane', async (_req, res) => {
    const { pages } = await views();
    res.send(pages.lanePage({ storeId: config.storeId, currency: config.currency, nonce: pageHeaders(res) }));
  });

  return { router, auth };
}

async function loadViews(timeZone: string): Promise<Views> {
  const [pages, panels, format] = await Promise.all([
    import('./pages.js'),
    import('./panels.js'),
    import('./format.js'),
  ]);
  return { pages, renderPanels: panels.renderPanels, fmt: new format.Formatter(timeZone) };
}

function requireOperator(auth: OperatorAuth, req: Request): Operator {
  const operator = auth.identify(req);
  if (operator === undefined)
    throw new GatewayError('unauthorized', 'sign in at /login, or send an operator key');
  return operator;
}

/** Headers of every page: no caching, no framing, no referrer to other sites, and a CSP whose nonce the page's inline parts carry. */
function pageHeaders(res: Response): string {
  const nonce = randomBytes(16).toString('base64');
  res.set({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'content-security-policy': [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
  });
  return nonce;
}

function modelReader(options: DashboardOptions, now: () => number): () => DashboardModel {
  const queries = new DashboardQueries(options.db);
  const { config } = options;
  let activity: { at: number; value: Activity } | null = null;
  options.hub.on('event', (event) => {
    if (event.type === 'payment' && (event.data as { state?: string }).state !== 'awaiting_scan')
      activity = null;
  });
  return () => {
    const nowMs = now();
    if (activity === null || nowMs - activity.at > ACTIVITY_REUSE_MS || nowMs < activity.at) {
      const laneIds = config.lanes.map((lane) => lane.id);
      activity = { at: nowMs, value: queries.activity(laneIds, config.dashboard.chartHours, nowMs) };
    }
    return {
      status: options.status(),
      recent: queries.recentPayments(config.dashboard.recentPayments),
      activity: activity.value,
      losses: queries.losses(20),
      config,
      nowMs,
    };
  };
}

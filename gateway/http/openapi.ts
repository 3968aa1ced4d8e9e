// The register API as an OpenAPI 3.1 document, generated from the zod schemas in schemas.ts (z.toJSONSchema):
// nothing here restates a field. The operation table below says which schema goes where; a test checks that
// it names exactly the routes the register router serves. Served at GET /openapi.json.
import * as z from 'zod';
import {
  createPaymentSchema,
  ErrorSchema,
  ModeChangeSchema,
  PaymentSchema,
  RefundResultSchema,
  RefundSchema,
  ScanNoticeSchema,
  ScannerViewSchema,
  type SchemaBounds,
  StatusSchema,
  WaitQuerySchema,
} from './schemas.js';

type JsonSchema = Record<string, unknown>;

interface Operation {
  method: 'get' | 'post';
  /** OpenAPI form: `/v1/payments/{id}`. */
  path: string;
  summary: string;
  description?: string;
  /** Component name of the JSON body, if any. */
  body?: string;
  idempotent?: boolean;
  waitQuery?: boolean;
  responses: Record<string, { description: string; schema?: string; contentType?: string }>;
  /** false: served without the register key (loopback health and metrics). */
  auth?: boolean;
}

const ERRORS = {
  '400': { description: 'Invalid input; `error.field` names the field.', schema: 'Error' },
  '401': { description: 'Missing or unknown register key.', schema: 'Error' },
};

/** Every operation of the register router (CONTRACT §2), then the public ones of the app. */
export const OPERATIONS: readonly Operation[] = [
  {
    method: 'post',
    path: '/v1/payments',
    summary: 'Start a payment on the register’s lane',
    description:
      'Without `payCode` the lane’s next scan pays it (the answer is `awaiting_scan`); with `payCode` the answer is the decision.',
    body: 'CreatePayment',
    idempotent: true,
    responses: {
      '201': { description: 'The payment.', schema: 'Payment' },
      ...ERRORS,
      '409': { description: '`lane_busy`, `idempotency_in_flight`.', schema: 'Error' },
      '413': { description: 'Body too large.', schema: 'Error' },
      '422': { description: '`idempotency_conflict`.', schema: 'Error' },
      '503': { description: 'Shutting down, overloaded or storage unavailable.', schema: 'Error' },
    },
  },
  {
    method: 'get',
    path: '/v1/payments/{id}',
    summary: 'A payment of this lane; with `waitMs`, waits for its next change (long poll)',
    waitQuery: true,
    responses: {
      '200': { description: 'The payment.', schema: 'Payment' },
      ...ERRORS,
      '404': { description: 'No such payment on this lane.', schema: 'Error' },
    },
  },
  {
    method: 'post',
    path: '/v1/payments/{id}/cancel',
    summary: 'Cancel before a scan; void after an approval',
    responses: {
      '200': { description: 'The payment, cancelled or voided.', schema: 'Payment' },
      ...ERRORS,
      '404': { description: 'No such payment on this lane.', schema: 'Error' },
      '409': { description: '`not_allowed` while the payment is authorizing.', schema: 'Error' },
    },
  },
  {
    method: 'post',
    path: '/v1/payments/{id}/refunds',
    summary: 'Refund an approved payment, partly or wholly (online only)',
    body: 'Refund',
    idempotent: true,
    responses: {
      '201': { description: 'Refunded.', schema: 'RefundResult' },
      '202': {
        description: 'Sent; the wallet’s answer is pending (sync/ repeats it).',
        schema: 'RefundResult',
      },
      ...ERRORS,
      '404': { description: 'No such payment on this lane.', schema: 'Error' },
      '409': { description: '`not_allowed`: not an approved payment.', schema: 'Error' },
      '422': {
        description: '`refund_exceeds_payment`, `refund_declined`, `idempotency_conflict`.',
        schema: 'Error',
      },
      '503': { description: 'The wallet is unavailable.', schema: 'Error' },
    },
  },
  {
    method: 'get',
    path: '/v1/events',
    summary: 'Server-sent events of the register’s lane',
    description:
      'Events `payment` (Payment), `scan` (ScanNotice), `scanner` (ScannerView) and `mode` (ModeChange), each `data:` one JSON object; `x-sse-events` names the schemas.',
    responses: {
      '200': { description: 'An endless event stream.', contentType: 'text/event-stream' },
      '401': ERRORS['401'],
      '429': { description: 'Too many streams for this register.', schema: 'Error' },
    },
  },
  {
    method: 'get',
    path: '/v1/status',
    summary: 'Mode, wallet, offline exposure and headroom, sync backlog, feed age, scanners',
    responses: { '200': { description: 'The store’s status.', schema: 'Status' }, '401': ERRORS['401'] },
  },
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    auth: false,
    responses: { '200': { description: '`{"ok": true}`' } },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: 200 while payments are taken, 503 while starting or stopping',
    auth: false,
    responses: { '200': { description: '`{"ready": true}`' }, '503': { description: '`{"ready": false}`' } },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (docs/metrics.md)',
    auth: false,
    responses: { '200': { description: 'Prometheus text format.', contentType: 'text/plain' } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    auth: false,
    responses: { '200': { description: 'OpenAPI 3.1.', contentType: 'application/json' } },
  },
];

/** Component schemas: what is parsed (input form: defaults optional) and what is sent (output form). */
function components(bounds: SchemaBounds): Record<string, JsonSchema> {
  const requests = z.registry<{ id: string }>();
  requests.add(createPaymentSchema(bounds), { id: 'CreatePayment' });
  requests.add(RefundSchema, { id: 'Refund' });
  const responses = z.registry<{ id: string }>();
  responses.add(PaymentSchema, { id: 'Payment' });
  responses.add(RefundResultSchema, { id: 'RefundResult' });
  responses.add(ErrorSchema, { id: 'Error' });
  responses.add(StatusSchema, { id: 'Status' });
  responses.add(ScannerViewSchema, { id: 'ScannerView' });
  responses.add(ScanNoticeSchema, { id: 'ScanNotice' });
  responses.add(ModeChangeSchema, { id: 'ModeChange' });
  const uri = (id: string) => `#/components/schemas/${id}`;
  const all = {
    ...z.toJSONSchema(requests, { uri, io: 'input' }).schemas,
    ...z.toJSONSchema(responses, { uri, io: 'output' }).schemas,
  };
  // The dialect is declared once for the document (jsonSchemaDialect); ids are implied by the component names.
  return Object.fromEntries(
    Object.entries(all).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as JsonSchema;
      return [id, rest];
    }),
  );
}

function parameters(operation: Operation): JsonSchema[] {
  const list: JsonSchema[] = [];
  if (operation.path.includes('{id}')) {
    list.push({ name: 'id', in: 'path', required: true, schema: { type: 'string' } });
  }
  if (operation.waitQuery) {
    const waitMs = z.toJSONSchema(WaitQuerySchema.shape.waitMs.unwrap(), { io: 'input' }) as JsonSchema;
    const { $schema: _schema, ...schema } = waitMs;
    list.push({
      name: 'waitMs',
      in: 'query',
      required: false,
      description: 'Hold the request until the payment changes or this many ms pass.',
      schema,
    });
  }
  if (operation.idempotent) {
    list.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Per register: the same key and body replay the first answer; another body is 422.',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
    });
  }
  return list;
}

function operationObject(operation: Operation): JsonSchema {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const responses = Object.fromEntries(
    Object.entries(operation.responses).map(([status, response]) => {
      const contentType = response.contentType ?? 'application/json';
      const schema = response.schema === undefined ? undefined : ref(response.schema);
      const content =
        schema === undefined && response.contentType === undefined
          ? undefined
          : { [contentType]: { schema: schema ?? { type: 'string' } } };
      return [status, { description: response.description, ...(content && { content }) }];
    }),
  );
  const params = parameters(operation);
  return {
    operationId: `${operation.method}${operation.path.replace(/[{}]/g, '').replace(/[/._-]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
    summary: operation.summary,
    ...(operation.description && { description: operation.description }),
    ...(operation.auth === false && { security: [] }),
    ...(params.length > 0 && { parameters: params }),
    ...(operation.body && {
      requestBody: { required: true, content: { 'application/json': { schema: ref(operation.body) } } },
    }),
    ...(operation.path === '/v1/events' && {
      'x-sse-events': {
        payment: ref('Payment'),
        scan: ref('ScanNotice'),
        scanner: ref('ScannerView'),
        mode: ref('ModeChange'),
      },
    }),
    responses,
  };
}

export function openApiDocument(options: { bounds: SchemaBounds; version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const operation of OPERATIONS) {
    paths[operation.path] ??= {};
    paths[operation.path]![operation.method] = operationObject(operation);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'tillgate register API',
      version: options.version,
      description:
        'What a POS register calls on the store gateway (CONTRACT §2). Money is an integer in minor units. Every `/v1` call carries `Authorization: Bearer <register key>`.',
    },
    security: [{ registerKey: [] }],
    paths,
    components: {
      securitySchemes: { registerKey: { type: 'http', scheme: 'bearer', description: 'The register key.' } },
      schemas: components(options.bounds),
    },
  };
}

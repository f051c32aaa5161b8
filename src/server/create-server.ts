import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { ReconciliationJob } from '../analytics/reconciliation-job.js';
import type { ErrorCode } from '../core/errors.js';
import type { Plan } from '../core/plan/plan.js';
import type { Decide } from '../decision/decide.js';
import type { AdService } from '../manager/ad-service.js';
import type { FeasibilityService } from '../manager/feasibility-service.js';
import type { ImportService } from '../manager/import-service.js';
import type { PlacementService } from '../manager/placement-service.js';
import type { ReportService } from '../manager/report-service.js';
import type { StatusService } from '../manager/status-service.js';
import { AdSchema, CreativeSchema } from '../schemas/ad-schema.js';
import { ErrorResponseSchema } from '../schemas/common-schema.js';
import { DecisionRequestSchema } from '../schemas/decision-schema.js';
import { PlacementSchema, TargetSetSchema } from '../schemas/placement-schema.js';
import { StatusSchema } from '../schemas/status-schema.js';
import { TargetingRuleSchema } from '../schemas/targeting-schema.js';
import type { HandleBeacon } from '../tracking/beacon-service.js';
import { createAdminAuth } from './admin-auth.js';
import { createBeaconFastPath } from './beacon-fast-path.js';
import { type BodyValidator, createDecisionFastPath } from './decision-fast-path.js';
import { frameworkErrors, installErrorHandler } from './error-handler.js';
import type { Metrics } from './metrics.js';
import { registerAdRoutes } from './routes/ad-routes.js';
import { registerBeaconRoutes } from './routes/beacon-routes.js';
import { registerDashboardRoutes } from './routes/dashboard-routes.js';
import { createDecisionResponder } from './routes/decision-responder.js';
import { registerDecisionRoutes } from './routes/decision-routes.js';
import { registerImportRoutes } from './routes/import-routes.js';
import { registerOpsRoutes } from './routes/ops-routes.js';
import { registerPlacementRoutes } from './routes/placement-routes.js';
import { registerReportRoutes } from './routes/report-routes.js';
import { registerTagRoutes } from './routes/tag-routes.js';
import { createValidatorCompiler } from './validation.js';

export interface ServerDeps {
  logger: Logger;
  metrics: Metrics;
  adminToken: string;
  /** More admin tokens (rotation) and read-only tokens. */
  extraAdminTokens?: readonly string[];
  readonlyTokens?: readonly string[];
  plan: () => Plan;
  /** The public decision and beacon endpoints (decision role). */
  decisions: { decide: Decide; handleBeacon: HandleBeacon } | null;
  /** The manager API (manager role). */
  manager: {
    ads: AdService;
    placements: PlacementService;
    /** `POST /v1/config/import`. */
    imports: ImportService;
    status: StatusService;
    feasibility: FeasibilityService;
    /** Historical reports from the archive (null: archive off). */
    reports: {
      service: ReportService;
      metrics: ReadonlyArray<{ name: string; description: string; format: 'count' | 'ratio' }>;
      reconciliation: ReconciliationJob | null;
    } | null;
  } | null;
  decisionBodyLimitBytes: number;
  managerBodyLimitBytes: number;
  /** `POST /v1/config/import` only: a whole configuration in one body. */
  importBodyLimitBytes: number;
  /** Beacons per client IP per minute (null = unlimited). */
  beaconRateLimitPerMinute?: number | null;
  /** Client IPs from X-Forwarded-For. */
  trustProxy?: boolean;
  version: string;
}

/** Schemas referenced by `$ref` from routes: validated by Ajv and listed as OpenAPI components. */
const SHARED_SCHEMAS = [
  TargetingRuleSchema,
  CreativeSchema,
  AdSchema,
  PlacementSchema,
  TargetSetSchema,
  StatusSchema,
  ErrorResponseSchema,
];

/** The HTTP server: public decision/beacon endpoints, the manager API, docs and operations. */
export async function createServer(deps: ServerDeps): Promise<FastifyInstance> {
  const validatorCompiler = createValidatorCompiler(SHARED_SCHEMAS);
  const onReject = (code: ErrorCode) => deps.metrics.rejects.inc({ code });
  const respond =
    deps.decisions === null ? null : createDecisionResponder(deps.decisions.decide, deps.metrics);
  let closing = false;
  const fastPath =
    respond === null
      ? null
      : createDecisionFastPath({
          respond,
          validate: validatorCompiler({
            schema: DecisionRequestSchema,
            httpPart: 'body',
            method: 'POST',
            url: '/v1/decisions',
          }) as BodyValidator,
          bodyLimit: deps.decisionBodyLimitBytes,
          onReject,
          log: deps.logger,
          closing: () => closing,
        });

  // Impression beacons too, unless they are rate-limited (the limit lives in Fastify's plugin).
  const beaconFastPath =
    deps.decisions === null || (deps.beaconRateLimitPerMinute ?? null) !== null
      ? null
      : createBeaconFastPath({
          handle: deps.decisions.handleBeacon,
          metrics: deps.metrics,
          log: deps.logger,
          closing: () => closing,
        });

  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // No log line per request on the hot path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.managerBodyLimitBytes,
    return503OnClosing: true,
    frameworkErrors,
    trustProxy: deps.trustProxy ?? false,
    forceCloseConnections: 'idle',
    // Decisions and impression beacons go to their fast paths first; everything they do not take
    // goes to Fastify.
    serverFactory: (handler, options) => {
      const opts = options as ServerTimeouts;
      const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
        if (fastPath?.(req, res)) return;
        if (beaconFastPath?.(req, res)) return;
        handler(req, res);
      });
      // What Fastify sets on a server it creates itself.
      server.keepAliveTimeout = opts.keepAliveTimeout ?? 72_000;
      server.requestTimeout = opts.requestTimeout ?? 0;
      server.setTimeout(opts.connectionTimeout ?? 0);
      if (opts.maxRequestsPerSocket !== undefined && opts.maxRequestsPerSocket > 0) {
        server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
      }
      return server;
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  // Responses are serialised with JSON.stringify; response schemas document the API (and tests
  // check responses against them). The decision response is built from precompiled fragments.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  // JSON only: anything else is refused with 415 rather than validated as a string.
  app.removeContentTypeParser('text/plain');
  installErrorHandler(app, onReject);
  closeConnectionsOnClose(app, () => {
    closing = true;
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Allot API',
        version: deps.version,
        description:
          'Manager API (bearer token) for ads, placements and target shares; public decision and beacon endpoints. Errors: `{ "error": { "code", "message", "problems": [ { "path", "message" } ] } }`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Every role answers /healthz and /metrics; the rest depends on what this process serves.
  registerOpsRoutes(app, deps.metrics, deps.plan);
  if (deps.decisions !== null && respond !== null) {
    registerDecisionRoutes(app, respond, deps.metrics, deps.decisionBodyLimitBytes);
    await registerBeaconRoutes(
      app,
      deps.decisions.handleBeacon,
      deps.metrics,
      deps.beaconRateLimitPerMinute ?? null,
    );
    registerTagRoutes(app);
  }
  const m = deps.manager;
  if (m !== null) {
    registerDashboardRoutes(app);
    const adminAuth = createAdminAuth({
      admin: [deps.adminToken, ...(deps.extraAdminTokens ?? [])],
      readonly: deps.readonlyTokens ?? [],
    });
    await app.register(async (manager) => {
      manager.addHook('onRequest', async (req, reply) => {
        const denied = adminAuth(req, reply);
        if (denied === null) return;
        deps.metrics.rejects.inc({ code: denied });
        return reply;
      });
      registerAdRoutes(manager, m.ads);
      registerPlacementRoutes(manager, m.placements, m.status, m.feasibility);
      registerImportRoutes(manager, m.imports, deps.importBodyLimitBytes);
      if (m.reports !== null) {
        registerReportRoutes(manager, m.reports.service, m.reports.metrics, m.reports.reconciliation);
      }
    });
  }
  return app;
}

/** The options Fastify hands `serverFactory` with its defaults resolved (fastify/lib/server.js). */
interface ServerTimeouts {
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
}

/**
 * On close, Node's server closes the idle keep-alive connections, but a connection busy with a
 * request stays open after its response, until the client leaves or the keep-alive timeout
 * (72 s) ends it, and `close()` waits for it: under load a graceful stop overran its deadline.
 * Once closing, every response asks its client to close (`Connection: close`), and connections
 * that went idle without one are closed every 50 ms until the server is down.
 */
function closeConnectionsOnClose(app: FastifyInstance, onClosing: () => void): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    onClosing();
    const reaper = setInterval(() => app.server.closeIdleConnections(), 50).unref();
    app.server.once('close', () => clearInterval(reaper));
    done();
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}

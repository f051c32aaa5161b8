import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Decide, DecisionOutcome } from '../../decision/decide.js';
import { errorResponses } from '../../schemas/common-schema.js';
import {
  type DecisionRequestBody,
  DecisionRequestSchema,
  DecisionResponseSchema,
} from '../../schemas/decision-schema.js';
import { sendError } from '../error-handler.js';
import type { Metrics } from '../metrics.js';

/** Decisions timed into `allot_decision_duration_seconds`: one in this many. */
export const TIMED_EVERY = 8;

/** Public endpoints are called from any publisher page. */
export const corsPublic = (reply: FastifyReply): FastifyReply =>
  reply.header('access-control-allow-origin', '*').header('cache-control', 'no-store');

/** Public API: `POST /v1/decisions`, the hot path. */
export function registerDecisionRoutes(
  app: FastifyInstance,
  decide: Decide,
  metrics: Metrics,
  bodyLimit: number,
): void {
  app.options('/v1/decisions', { schema: { hide: true } }, (_req, reply) =>
    corsPublic(reply)
      .header('access-control-allow-methods', 'POST, OPTIONS')
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-max-age', '86400')
      .code(204)
      .send(),
  );
  app.post<{ Body: DecisionRequestBody }>(
    '/v1/decisions',
    {
      bodyLimit,
      schema: {
        tags: ['decisions'],
        summary: 'Choose an ad for a placement',
        body: DecisionRequestSchema,
        response: {
          200: DecisionResponseSchema,
          204: { type: 'null', description: 'Nothing eligible and no fallback (no fill).' },
          ...errorResponses(400, 404, 413, 415),
        },
      },
    },
    (req, reply) => {
      const { placementId, userId } = req.body;
      const wait = decide.prepare(placementId, userId);
      if (wait === null) return respond(req.body, reply);
      return wait.then(() => respond(req.body, reply));
    },
  );

  // Label lookups resolved once: `inc({ result })` would hash the labels on every request.
  const filled = metrics.decisions.labels('filled');
  const noFill = metrics.decisions.labels('no_fill');
  const unknownPlacement = metrics.decisions.labels('unknown_placement');

  // One decision in TIMED_EVERY is timed into the histogram: its distribution is the same, and
  // prom-client's observe (label checks and hashing per call) cost ~2 % of a saturated server.
  let timeCountdown = TIMED_EVERY;

  function respond({ placementId, userId, context }: DecisionRequestBody, reply: FastifyReply) {
    let out: DecisionOutcome;
    if (--timeCountdown === 0) {
      timeCountdown = TIMED_EVERY;
      const t0 = performance.now();
      out = decide(placementId, userId, context);
      metrics.decisionSeconds.observe((performance.now() - t0) / 1000);
    } else {
      out = decide(placementId, userId, context);
    }
    corsPublic(reply);
    if (out.kind === 'filled') {
      filled.inc();
      return reply.type('application/json; charset=utf-8').send(out.json);
    }
    if (out.kind === 'noFill') {
      noFill.inc();
      return reply.code(204).send();
    }
    unknownPlacement.inc();
    return sendError(reply, 'ALLOT_ERR_PLACEMENT_NOT_FOUND', `placement "${placementId}" not found`);
  }
}

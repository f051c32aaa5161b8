import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorResponses } from '../../schemas/common-schema.js';
import {
  type DecisionRequestBody,
  DecisionRequestSchema,
  DecisionResponseSchema,
} from '../../schemas/decision-schema.js';
import { sendError } from '../error-handler.js';
import type { Metrics } from '../metrics.js';
import type { DecisionReply, DecisionResponder } from './decision-responder.js';

/** Public endpoints are called from any publisher page. */
export const corsPublic = (reply: FastifyReply): FastifyReply =>
  reply.header('access-control-allow-origin', '*').header('cache-control', 'no-store');

/**
 * Public API: `POST /v1/decisions`, the hot path. Over HTTP most requests are answered by the
 * decision fast path in front of Fastify (`decision-fast-path.ts`); this route answers the rest
 * (chunked or empty bodies, other content types, a server shutting down), `inject`, and
 * documents the endpoint. Both give the same answers (test/integration/decision-fast-path.test.ts).
 */
export function registerDecisionRoutes(
  app: FastifyInstance,
  respond: DecisionResponder,
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
      // Errors too: a publisher's page can read why its request was refused.
      onRequest: (_req, reply, done) => {
        metrics.decisionSlowPath.inc();
        corsPublic(reply);
        done();
      },
    },
    (req, reply) => {
      const out = respond(req.body);
      return out instanceof Promise ? out.then((r) => send(reply, r)) : send(reply, out);
    },
  );
}

function send(reply: FastifyReply, out: DecisionReply) {
  if (out.status === 200) return reply.type('application/json; charset=utf-8').send(out.json);
  if (out.status === 204) return reply.code(204).send();
  return sendError(reply, out.code, out.message);
}

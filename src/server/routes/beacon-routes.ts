import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AllotError } from '../../core/errors.js';
import { errorResponses } from '../../schemas/common-schema.js';
import type { BeaconKind } from '../../tracking/beacon-service.js';
import { sendError } from '../error-handler.js';
import type { Metrics } from '../metrics.js';
import type { BeaconReply, BeaconResponder } from './beacon-responder.js';
import { corsPublic } from './decision-routes.js';

const Query = Type.Object({
  t: Type.String({ minLength: 1, maxLength: 2048, description: 'Beacon token from the decision' }),
});
const tags = ['beacons'];

/**
 * Public API: impression and click beacons. With `ratePerMinute`, each client IP may send that
 * many beacons a minute (per kind); more are refused with 429 and counted as `rateLimited`.
 * Over HTTP, beacons with a plain token are answered by the beacon fast path in front of
 * Fastify (`beacon-fast-path.ts`; not when rate limited); these routes answer the rest,
 * `inject`, and document the endpoints (test/integration/fast-paths.test.ts compares them).
 */
export async function registerBeaconRoutes(
  app: FastifyInstance,
  respond: BeaconResponder,
  metrics: Metrics,
  ratePerMinute: number | null = null,
): Promise<void> {
  const limit = (kind: BeaconKind) =>
    ratePerMinute === null
      ? {}
      : {
          config: {
            rateLimit: {
              max: ratePerMinute,
              timeWindow: 60_000,
              keyGenerator: (req: { ip: string }) => `${kind}:${req.ip}`,
              onExceeded: () => metrics.beacons.inc({ kind, result: 'rateLimited' }),
            },
          },
        };
  if (ratePerMinute !== null) {
    const { default: rateLimit } = await import('@fastify/rate-limit');
    await app.register(rateLimit, {
      global: false,
      // In memory, bounded (least recently seen IPs dropped): per process, like the limit itself.
      cache: 100_000,
      errorResponseBuilder: (_req, ctx) =>
        new AllotError('ALLOT_ERR_RATE_LIMITED', `too many beacons from this address; retry in ${ctx.after}`),
    });
  }
  const slowPath = (_req: unknown, _reply: unknown, done: () => void) => {
    metrics.slowPath.inc({ route: 'beacon' });
    done();
  };
  const impression = {
    tags,
    querystring: Query,
    response: {
      204: { type: 'null', description: 'Counted (at most once per decision).' },
      ...errorResponses(400, 410, 503),
    },
  };
  app.get<{ Querystring: { t: string } }>(
    '/v1/events/impression',
    { schema: { ...impression, summary: 'Impression beacon' }, ...limit('impression'), onRequest: slowPath },
    async (req, reply) => send(reply, await respond('impression', req.query.t, 'pixel')),
  );
  app.get<{ Querystring: { t: string } }>(
    '/v1/events/impression.gif',
    {
      schema: {
        ...impression,
        summary: 'Impression beacon as a 1×1 GIF, for <img>',
        response: { 200: { description: 'image/gif' }, ...errorResponses(400, 410, 503) },
      },
      ...limit('impression'),
      onRequest: slowPath,
    },
    async (req, reply) => send(reply, await respond('impression', req.query.t, 'gif')),
  );
  app.get<{ Querystring: { t: string } }>(
    '/v1/events/click',
    {
      schema: {
        tags,
        summary: 'Click: counts, then redirects to the ad’s clickUrl',
        querystring: Query,
        response: { 302: { description: 'Redirect to the ad’s clickUrl' }, ...errorResponses(400, 410, 503) },
      },
      ...limit('click'),
      onRequest: slowPath,
    },
    async (req, reply) => send(reply, await respond('click', req.query.t, 'redirect')),
  );
}

function send(reply: FastifyReply, out: BeaconReply) {
  corsPublic(reply);
  if (out.status === 204) return reply.code(204).send();
  if (out.status === 200) return reply.type('image/gif').send(out.gif);
  if (out.status === 302) return reply.redirect(out.location, 302);
  return sendError(reply, out.code, out.message);
}

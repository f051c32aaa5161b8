import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AllotError, type ErrorCode } from '../../core/errors.js';
import { errorResponses } from '../../schemas/common-schema.js';
import type { BeaconKind, BeaconOutcome, HandleBeacon } from '../../tracking/beacon-service.js';
import { sendError } from '../error-handler.js';
import type { Metrics } from '../metrics.js';
import { corsPublic } from './decision-routes.js';

const Query = Type.Object({
  t: Type.String({ minLength: 1, maxLength: 2048, description: 'Beacon token from the decision' }),
});
/** The error answering each refused beacon (here and in the fast path, beacon-fast-path.ts). */
export const BEACON_REFUSED: Record<Exclude<BeaconOutcome, { ok: true }>['reason'], [ErrorCode, string]> = {
  malformed: ['ALLOT_ERR_INVALID_TOKEN', 'the beacon token is invalid'],
  badSignature: ['ALLOT_ERR_INVALID_TOKEN', 'the beacon token is invalid'],
  expired: ['ALLOT_ERR_TOKEN_EXPIRED', 'the beacon token has expired'],
  unknownAd: ['ALLOT_ERR_GONE', 'the ad no longer exists'],
};
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const tags = ['beacons'];

/**
 * Public API: impression and click beacons. With `ratePerMinute`, each client IP may send that
 * many beacons a minute (per kind); more are refused with 429 and counted as `rateLimited`.
 */
export async function registerBeaconRoutes(
  app: FastifyInstance,
  handle: HandleBeacon,
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
  const run = async (kind: BeaconKind, token: string, reply: FastifyReply): Promise<BeaconOutcome | null> => {
    corsPublic(reply);
    let out: BeaconOutcome;
    try {
      out = await handle(kind, token);
    } catch (err) {
      reply.log.error({ err }, 'beacon publish failed');
      metrics.beacons.inc({ kind, result: 'unavailable' });
      sendError(reply, 'ALLOT_ERR_UNAVAILABLE', 'the event could not be recorded; retry');
      return null;
    }
    metrics.beacons.inc({ kind, result: out.ok ? 'accepted' : out.reason });
    if (out.ok) return out;
    sendError(reply, ...BEACON_REFUSED[out.reason]);
    return null;
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
    { schema: { ...impression, summary: 'Impression beacon' }, ...limit('impression') },
    async (req, reply) => {
      // Over HTTP most impressions are answered by the beacon fast path (beacon-fast-path.ts).
      metrics.beaconSlowPath.inc();
      if ((await run('impression', req.query.t, reply)) !== null) return reply.code(204).send();
      return reply;
    },
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
    },
    async (req, reply) => {
      if ((await run('impression', req.query.t, reply)) !== null) return reply.type('image/gif').send(GIF);
      return reply;
    },
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
    },
    async (req, reply) => {
      const out = await run('click', req.query.t, reply);
      if (out?.ok && out.clickUrl !== null) return reply.redirect(out.clickUrl, 302);
      return reply;
    },
  );
}

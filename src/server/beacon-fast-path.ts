import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { BeaconOutcome, HandleBeacon } from '../tracking/beacon-service.js';
import type { Metrics } from './metrics.js';
import { writeError, writeNoContent } from './raw-reply.js';
import { BEACON_REFUSED } from './routes/beacon-routes.js';

export interface BeaconFastPathDeps {
  handle: HandleBeacon;
  metrics: Pick<Metrics, 'beacons'>;
  log: Logger;
  /** True once the server is shutting down: Fastify then answers (503, `Connection: close`). */
  closing: () => boolean;
}

const PREFIX = '/v1/events/impression?t=';
/** A token as Allot writes it (`<kid>.<base64url>.<base64url>`) within the route's 2,048 chars:
 *  nothing to decode, and no other query parameter. */
const PLAIN_TOKEN = /^[A-Za-z0-9_.-]{1,2048}$/;

/**
 * `GET /v1/events/impression?t=<token>` on plain `node:http`, in front of Fastify, as
 * `decision-fast-path.ts` does for decisions: verify, publish (answered once the event is
 * durable), 204. Fastify's per-request machinery (request and reply objects, routing, query
 * parsing and validation) was a large share of a beacon's CPU.
 *
 * It returns false, touching nothing, for every request it does not take — another URL, method
 * or query (anything but one plain `t`), a request with a body, a shutting-down server — and
 * Fastify answers those; it is not used at all when beacons are rate-limited (create-server.ts).
 * Its answers are the route's, checked by test/integration/beacon-fast-path.test.ts.
 */
export function createBeaconFastPath(deps: BeaconFastPathDeps) {
  const counted = {
    accepted: deps.metrics.beacons.labels('impression', 'accepted'),
    malformed: deps.metrics.beacons.labels('impression', 'malformed'),
    badSignature: deps.metrics.beacons.labels('impression', 'badSignature'),
    expired: deps.metrics.beacons.labels('impression', 'expired'),
    unknownAd: deps.metrics.beacons.labels('impression', 'unknownAd'),
    unavailable: deps.metrics.beacons.labels('impression', 'unavailable'),
  };

  const answer = (res: ServerResponse, out: BeaconOutcome): void => {
    counted[out.ok ? 'accepted' : out.reason].inc();
    if (out.ok) writeNoContent(res);
    else writeError(res, ...BEACON_REFUSED[out.reason]);
  };

  const failed = (res: ServerResponse, err: unknown): void => {
    deps.log.error({ err }, 'beacon publish failed');
    counted.unavailable.inc();
    if (!res.headersSent) writeError(res, 'ALLOT_ERR_UNAVAILABLE', 'the event could not be recorded; retry');
  };

  /** Answers the request and returns true, or returns false for Fastify to answer it. */
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined || !url.startsWith(PREFIX)) return false;
    const token = url.slice(PREFIX.length);
    const h = req.headers;
    if (!PLAIN_TOKEN.test(token) || h['content-length'] !== undefined || h['transfer-encoding'] !== undefined)
      return false;
    if (deps.closing()) return false;
    let out: Promise<BeaconOutcome>;
    try {
      out = deps.handle('impression', token);
    } catch (err) {
      failed(res, err);
      return true;
    }
    out.then(
      (o) => answer(res, o),
      (err: unknown) => failed(res, err),
    );
    return true;
  };
}

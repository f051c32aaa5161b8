import type { Logger } from 'pino';
import type { ErrorCode } from '../../core/errors.js';
import type { BeaconKind, BeaconOutcome, HandleBeacon } from '../../tracking/beacon-service.js';
import type { Metrics } from '../metrics.js';

/** How a beacon URL answers once the event is recorded. */
export type BeaconForm = 'pixel' | 'gif' | 'redirect';

/** What to answer a beacon, whichever HTTP path carries it. */
export type BeaconReply =
  | { status: 204 }
  | { status: 200; gif: Buffer }
  | { status: 302; location: string }
  | { status: 400 | 410 | 503; code: ErrorCode; message: string };

/** A transparent 1×1 GIF. */
export const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const NO_CONTENT: BeaconReply = { status: 204 };
const PICTURE: BeaconReply = { status: 200, gif: GIF };
const UNAVAILABLE: BeaconReply = {
  status: 503,
  code: 'ALLOT_ERR_UNAVAILABLE',
  message: 'the event could not be recorded; retry',
};
const REFUSED: Record<Exclude<BeaconOutcome, { ok: true }>['reason'], BeaconReply> = {
  expired: { status: 410, code: 'ALLOT_ERR_TOKEN_EXPIRED', message: 'the beacon token has expired' },
  unknownAd: { status: 410, code: 'ALLOT_ERR_GONE', message: 'the ad no longer exists' },
  malformed: { status: 400, code: 'ALLOT_ERR_INVALID_TOKEN', message: 'the beacon token is invalid' },
  badSignature: { status: 400, code: 'ALLOT_ERR_INVALID_TOKEN', message: 'the beacon token is invalid' },
};

/**
 * Records a beacon and counts it (`allot_beacons_total`): the work shared by the Fastify routes
 * and the beacon fast path (`beacon-fast-path.ts`). Resolves once the event is accepted by
 * the bus (or refused); never rejects.
 */
export function createBeaconResponder(handle: HandleBeacon, metrics: Metrics, log: Logger) {
  // Label lookups resolved once per kind and result, not hashed per beacon.
  const counters = new Map<string, { inc(): void }>();
  const count = (kind: BeaconKind, result: string): void => {
    const key = `${kind}:${result}`;
    let c = counters.get(key);
    if (c === undefined) {
      c = metrics.beacons.labels(kind, result);
      counters.set(key, c);
    }
    c.inc();
  };

  return async (kind: BeaconKind, token: string, form: BeaconForm): Promise<BeaconReply> => {
    let out: BeaconOutcome;
    try {
      out = await handle(kind, token);
    } catch (err) {
      log.error({ err }, 'beacon publish failed');
      count(kind, 'unavailable');
      return UNAVAILABLE;
    }
    count(kind, out.ok ? 'accepted' : out.reason);
    if (!out.ok) return REFUSED[out.reason];
    if (form === 'gif') return PICTURE;
    if (form === 'redirect' && out.clickUrl !== null) return { status: 302, location: out.clickUrl };
    return NO_CONTENT;
  };
}

export type BeaconResponder = ReturnType<typeof createBeaconResponder>;

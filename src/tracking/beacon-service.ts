import { eventId } from '../core/events/allot-event.js';
import type { Plan } from '../core/plan/plan.js';
import type { EventPublisher } from '../pipeline/event-publisher.js';
import type { BeaconSigner } from './beacon-token.js';

export type BeaconKind = 'impression' | 'click';

export type BeaconOutcome =
  | { ok: true; clickUrl: string | null }
  | { ok: false; reason: 'malformed' | 'badSignature' | 'expired' | 'unknownAd' };

/**
 * Impression and click beacons: verify the signed token, check its age against the kind's
 * lifetime, and publish the event. Resolves only when the bus has accepted the event, so an
 * acknowledged beacon is never lost by this process. Repeats are not refused here: consumers
 * count each decision's impression and click once, by event id.
 */
export function createBeaconService(deps: {
  signer: BeaconSigner;
  publisher: Pick<EventPublisher, 'publishAndWait'>;
  plan: () => Plan;
  now: () => number;
  ttlSeconds: Record<BeaconKind, number>;
}) {
  return async function handleBeacon(kind: BeaconKind, token: string): Promise<BeaconOutcome> {
    const v = deps.signer.verify(token);
    if (!v.ok) return v;
    const c = v.claims;
    const nowMs = deps.now();
    const ageSec = nowMs / 1000 - c.issuedAtSec;
    // A token from the future beyond clock skew is as suspect as an expired one.
    if (ageSec > deps.ttlSeconds[kind] || ageSec < -60) return { ok: false, reason: 'expired' };
    let clickUrl: string | null = null;
    if (kind === 'click') {
      const ad = deps.plan().ads.get(c.adId);
      if (ad === undefined) return { ok: false, reason: 'unknownAd' };
      clickUrl = ad.clickUrl;
    }
    await deps.publisher.publishAndWait({
      id: eventId(c.decisionId, kind),
      type: kind,
      ts: nowMs,
      decisionId: c.decisionId,
      placementId: c.placementId,
      adId: c.adId,
      userId: c.userId,
    });
    return { ok: true, clickUrl };
  };
}

export type HandleBeacon = ReturnType<typeof createBeaconService>;

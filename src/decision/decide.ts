import { eventId } from '../core/events/allot-event.js';
import type { Plan } from '../core/plan/plan.js';
import type { FrequencyStore } from '../core/ports/frequency-store.js';
import type { MixStore } from '../core/ports/mix-store.js';
import type { MixSampleGate } from '../core/sampling/mix-sample-gate.js';
import { describeEligibility } from '../core/selection/describe-eligibility.js';
import { type DecisionRequest, selectAd } from '../core/selection/select-ad.js';
import type { SelectorState } from '../core/selection/selector-state.js';
import type { RequestContext } from '../core/targeting/targeting-rule.js';
import type { EventPublisher } from '../pipeline/event-publisher.js';
import type { BeaconSigner } from '../tracking/beacon-token.js';

export type DecisionOutcome =
  | { kind: 'filled'; json: string; adId: string }
  | { kind: 'noFill' }
  | { kind: 'unknownPlacement' };

export interface DecideDeps {
  plan: () => Plan;
  selector: SelectorState;
  frequency: FrequencyStore;
  signer: BeaconSigner;
  publisher: Pick<EventPublisher, 'publish'>;
  now: () => number;
  newId: () => string;
  /** Prefix of beacon URLs: '' (relative) or ALLOT_PUBLIC_URL. */
  publicUrl: string;
  /** Where sampled eligibility goes (the observed request mix). */
  mix: Pick<MixStore, 'record'>;
  /** Which requests are sampled into the mix (`createMixSampleGate`). */
  mixSample: MixSampleGate;
}

const EMPTY_CONTEXT: RequestContext = Object.freeze({});
const NO_FILL: DecisionOutcome = { kind: 'noFill' };
const UNKNOWN: DecisionOutcome = { kind: 'unknownPlacement' };

/**
 * The decision hot path around the pure selection: read the in-process plan, select, reserve
 * the frequency cap, sign one beacon token, queue the decision event, and build the response
 * from fragments serialised at plan compile time. No store round trip, no await (except
 * `prepare`'s, for a capped candidate whose user's fleet-wide count is stale).
 */
export function createDecide(deps: DecideDeps) {
  const base = JSON.stringify(deps.publicUrl).slice(1, -1);
  const impressionPrefix = `,"impressionUrl":"${base}/v1/events/impression?t=`;
  const clickPrefix = `","clickUrl":"${base}/v1/events/click?t=`;
  // Reused across calls: selection is synchronous, so one request object is enough.
  const req: DecisionRequest = { userId: null, context: EMPTY_CONTEXT, nowMs: 0 };
  // A sampled request's eligibility, evaluated once for the mix and reused by the selection.
  let known = new Uint8Array(64);

  const ready = deps.frequency.ready?.bind(deps.frequency);
  /**
   * With frequency caps shared by a fleet: null, or a promise to await before `decide` when the
   * request has a capped candidate and this server's view of the user is stale. Null for
   * everything else, so the common path stays synchronous.
   */
  const prepare = (placementId: string, userId: string | undefined): Promise<void> | null => {
    if (ready === undefined || userId === undefined) return null;
    const placement = deps.plan().placements.get(placementId);
    if (placement === undefined || !placement.candidates.some((c) => c.cap !== null)) return null;
    return ready(userId, deps.now());
  };

  return Object.assign(decide, { prepare });

  function decide(placementId: string, userId: string | undefined, context: RequestContext | undefined) {
    const placement = deps.plan().placements.get(placementId);
    if (placement === undefined) return UNKNOWN;
    const nowMs = deps.now();
    req.userId = userId ?? null;
    req.context = context ?? EMPTY_CONTEXT;
    req.nowMs = nowMs;
    let sampled: Uint8Array | undefined;
    if (deps.mixSample.take(nowMs)) {
      if (known.length < placement.candidates.length) known = new Uint8Array(placement.candidates.length);
      sampled = known;
      const key = describeEligibility(placement, req, deps.frequency, sampled);
      deps.mix.record(placementId, placement.candidateKey, placement.candidateIds, key, req.context, nowMs);
    }
    const i = selectAd(placement, deps.selector.bookFor(placement), req, deps.frequency, sampled);
    if (i < 0) return NO_FILL;
    const ad = placement.candidates[i]!;
    const decisionId = deps.newId();
    const uid = req.userId;
    if (ad.cap !== null && uid !== null) deps.frequency.reserve(uid, ad.id, decisionId, ad.cap, nowMs);
    const token = deps.signer.sign({
      decisionId,
      placementId,
      adId: ad.id,
      userId: uid,
      issuedAtSec: Math.floor(nowMs / 1000),
    });
    deps.publisher.publish({
      id: eventId(decisionId, 'decision'),
      type: 'decision',
      ts: nowMs,
      decisionId,
      placementId,
      adId: ad.id,
      userId: uid,
    });
    const json = `{"decisionId":"${decisionId}","placementId":${placement.idJson},"ad":${ad.json}${impressionPrefix}${token}${clickPrefix}${token}"}`;
    return { kind: 'filled', json, adId: ad.id } as DecisionOutcome;
  }
}

export type Decide = ReturnType<typeof createDecide>;

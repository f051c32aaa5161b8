import type { CompiledAd, CompiledPlacement } from '../plan/plan.js';
import type { FrequencyStore } from '../ports/frequency-store.js';
import type { RequestContext } from '../targeting/targeting-rule.js';

/** What a decision depends on besides the plan. Reused across requests by the caller. */
export interface DecisionRequest {
  userId: string | null;
  context: RequestContext;
  nowMs: number;
}

/** Read-only view of frequency state the selection needs. */
export type FrequencyView = Pick<FrequencyStore, 'isCapped'>;

/**
 * Whether `ad` may serve this request: inside its flight dates, its frequency cap not reached
 * (a capped ad never serves an anonymous request: its cap could not be enforced), and its
 * targeting matches. Paused ads never reach here (the plan leaves them out).
 */
export function isEligible(ad: CompiledAd, req: DecisionRequest, freq: FrequencyView): boolean {
  if (req.nowMs < ad.startMs || req.nowMs >= ad.endMs) return false;
  if (ad.cap !== null && (req.userId === null || freq.isCapped(req.userId, ad.id, ad.cap, req.nowMs))) {
    return false;
  }
  return ad.matches(req.context);
}

/**
 * Chooses the ad for one request: smooth weighted round-robin (nginx, 2012) generalised to
 * per-request eligibility. Every eligible candidate adds its weight to its running credit;
 * the one with the most credit wins and pays the sum of the weights added this round.
 * Ineligible candidates neither gain nor pay. For a stable eligible set this serves each ad
 * within about one pick of its exact share at every point (no lottery noise); ties go to the
 * lower index, so it is deterministic.
 *
 * When no weighted candidate is eligible, the fallback serves if it is eligible.
 * `credit` is the placement's selector state (see `createSelectorState`), mutated in place.
 *
 * @returns the index in `placement.candidates`, or -1 for no fill.
 */
export function selectAd(
  placement: CompiledPlacement,
  credit: Float64Array,
  req: DecisionRequest,
  freq: FrequencyView,
): number {
  const { candidates, weights } = placement;
  let total = 0;
  let best = -1;
  let bestCredit = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < candidates.length; i++) {
    const w = weights[i]!;
    if (w <= 0 || !isEligible(candidates[i]!, req, freq)) continue;
    const c = credit[i]! + w;
    credit[i] = c;
    total += w;
    if (c > bestCredit) {
      best = i;
      bestCredit = c;
    }
  }
  if (best >= 0) {
    credit[best] = bestCredit - total;
    return best;
  }
  const fb = placement.fallbackIndex;
  if (fb >= 0 && weights[fb]! <= 0 && isEligible(candidates[fb]!, req, freq)) return fb;
  return -1;
}

import type { CompiledPlacement } from '../plan/plan.js';
import type { DecisionRequest, FrequencyView } from './select-ad.js';

/** Per candidate: targeting or flight rule it out. */
export const NOT_MATCHED = '0';
/** Per candidate: targeting and flight match, but its frequency cap rules it out. */
export const CAPPED = '1';
/** Per candidate: eligible. */
export const ELIGIBLE = '2';

/**
 * One character per candidate (NOT_MATCHED, CAPPED, ELIGIBLE) describing which candidates
 * this request could be served, independent of weights. Sampled requests feed the observed
 * request mix that feasibility analysis and the controller's model use; telling targeting
 * apart from caps lets `/status` say which one limits an ad.
 *
 * `eligibleOut`, when given, receives 1 per eligible candidate, so that the same request's
 * selection (`selectAd` with `known`) does not evaluate targeting and caps a second time.
 */
export function describeEligibility(
  placement: CompiledPlacement,
  req: DecisionRequest,
  freq: FrequencyView,
  eligibleOut?: Uint8Array,
): string {
  let key = '';
  const { candidates } = placement;
  for (let i = 0; i < candidates.length; i++) {
    const ad = candidates[i]!;
    let code: string;
    if (req.nowMs < ad.startMs || req.nowMs >= ad.endMs || !ad.matches(req.context)) code = NOT_MATCHED;
    else if (ad.cap !== null && (req.userId === null || freq.isCapped(req.userId, ad.id, ad.cap, req.nowMs)))
      code = CAPPED;
    else code = ELIGIBLE;
    key += code;
    if (eligibleOut !== undefined) eligibleOut[i] = code === ELIGIBLE ? 1 : 0;
  }
  return key;
}

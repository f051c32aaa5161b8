import type { CompiledPlacement } from '../core/plan/plan.js';
import { type DecisionRequest, type FrequencyView, isEligible } from '../core/selection/select-ad.js';

/**
 * The weighted lottery of Revive Adserver and Kevel, the baseline Allot is measured against.
 * Revive (`lib/max/Delivery/adSelect.php`, `_adSelect`) drops the ineligible contract ads, draws
 * one uniform number in [0, 1) and walks the rest with their priorities as absolute
 * probabilities; a draw past them falls through to the remnant level — here the fallback, if
 * it is eligible (else no fill, as in Revive). Without a fallback, shares are relative to each
 * other (as in Allot), so the draw is scaled to the eligible ads' total, as Kevel's weighted
 * random pick does. Eligible ads summing above 1 are scaled down likewise.
 *
 * `u` is the caller's uniform draw, so the strategy stays a function of explicit inputs;
 * `eligible` is a scratch buffer (one entry per candidate), so a call allocates nothing.
 * @returns the index in `placement.candidates`, or -1 for no fill.
 */
export function lotterySelect(
  placement: CompiledPlacement,
  req: DecisionRequest,
  freq: FrequencyView,
  u: number,
  eligible: Uint8Array,
): number {
  const { candidates, targetShares, fallbackIndex: fb } = placement;
  let total = 0;
  for (let i = 0; i < candidates.length; i++) {
    // The fallback is not drawn for: it is what a draw past the others falls through to.
    const ok = i !== fb && targetShares[i]! > 0 && isEligible(candidates[i]!, req, freq);
    eligible[i] = ok ? 1 : 0;
    if (ok) total += targetShares[i]!;
  }
  const scale = fb >= 0 ? Math.max(1, total) : total;
  let x = u * scale;
  let last = -1;
  for (let i = 0; i < candidates.length && total > 0; i++) {
    if (eligible[i] === 0) continue;
    x -= targetShares[i]!;
    if (x < 0) return i;
    last = i;
  }
  // Without a fallback the draw never passes the total, except by float rounding.
  if (fb < 0) return last;
  return isEligible(candidates[fb]!, req, freq) ? fb : -1;
}

import type { CompiledAd, CompiledPlacement } from '../plan/plan.js';
import type { FrequencyStore } from '../ports/frequency-store.js';
import type { RequestContext } from '../targeting/targeting-rule.js';
import { type CreditBook, NUMERIC_KEY_CANDIDATES } from './selector-state.js';

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
 * Chooses the ad for one request: smooth weighted round-robin (nginx, 2012) per eligibility
 * pattern. The candidates eligible for this request (with a positive weight) form a pattern;
 * within it every candidate adds its weight to its running credit, the one with the most
 * credit wins and pays the sum of the weights added. Each pattern thus serves its candidates
 * in exact proportion to their weights, always within about one pick — no lottery noise —
 * and the placement follows the Luce model P(a | E) = w_a / Σ_{b∈E} w_b that the controller
 * fits weights for. Ties go to the lower index, so it is deterministic.
 *
 * When no weighted candidate is eligible, the fallback serves if it is eligible.
 * `book` is the placement's selector state (`SelectorState.bookFor`), mutated in place.
 * `known`, when given, is each candidate's eligibility for this request already evaluated
 * (`describeEligibility`'s `eligibleOut`): 1 eligible, 0 not.
 *
 * @returns the index in `placement.candidates`, or -1 for no fill.
 */
export function selectAd(
  placement: CompiledPlacement,
  book: CreditBook,
  req: DecisionRequest,
  freq: FrequencyView,
  known?: Uint8Array,
): number {
  const { candidates, weights } = placement;
  const n = candidates.length;
  const eligible = book.eligible;
  let lo = 0;
  let hi = 0;
  let wide = '';
  let any = false;
  for (let i = 0; i < n; i++) {
    const ok =
      weights[i]! > 0 && (known === undefined ? isEligible(candidates[i]!, req, freq) : known[i] === 1);
    eligible[i] = ok ? 1 : 0;
    if (!ok) continue;
    any = true;
    // Bits by shifting: `2 ** i` with a variable i is a call to pow.
    if (n > NUMERIC_KEY_CANDIDATES) wide += `${i},`;
    else if (i < 26) lo |= 1 << i;
    else hi |= 1 << (i - 26);
  }
  if (!any) {
    const fb = placement.fallbackIndex;
    if (fb < 0 || weights[fb]! > 0) return -1;
    return (known === undefined ? isEligible(candidates[fb]!, req, freq) : known[fb] === 1) ? fb : -1;
  }
  const credit = book.credits(n > NUMERIC_KEY_CANDIDATES ? wide : lo + hi * 67_108_864);
  let total = 0;
  let best = -1;
  let bestCredit = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    if (eligible[i] === 0) continue;
    const w = weights[i]!;
    const c = credit[i]! + w;
    credit[i] = c;
    total += w;
    if (c > bestCredit) {
      best = i;
      bestCredit = c;
    }
  }
  credit[best] = bestCredit - total;
  return best;
}

import type { RequestContext } from '../targeting/targeting-rule.js';

/** Decayed counts of sampled eligibility keys of one placement (see `describeEligibility`). */
export interface MixSnapshot {
  /** The candidate ids the keys' characters refer to, in order. */
  adIds: readonly string[];
  /** Eligibility key → decayed sample mass. */
  counts: ReadonlyMap<string, number>;
  /** Samples recorded since the candidates last changed (undecayed), for confidence. */
  samples: number;
}

/**
 * The observed request mix of each placement: which candidates requests could be served,
 * sampled on the decision path and decayed over time so that a shift in the traffic mix is
 * followed (half-life configurable).
 *
 * Adapters: memory (embedded). Contract:
 * - `record` is synchronous and cheap (decision hot path); remote adapters buffer and flush.
 * - When a placement's candidate list changes (`candidateKey`), earlier samples are dropped:
 *   their keys describe other candidates.
 * - `read` returns null for a placement with no samples.
 */
export interface MixStore {
  record(
    placementId: string,
    candidateKey: string,
    adIds: readonly string[],
    key: string,
    context: RequestContext,
    nowMs: number,
  ): void;
  read(placementId: string, nowMs: number): Promise<MixSnapshot | null>;
  /** The most recent sampled request contexts (what-if analysis re-evaluates targeting on them). */
  recentContexts(placementId: string): Promise<readonly RequestContext[]>;
}

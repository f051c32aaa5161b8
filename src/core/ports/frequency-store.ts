import type { FrequencyCap } from '../domain/ad.js';

/**
 * Per-user frequency state, read synchronously on the decision hot path.
 *
 * A serve reserves one unit of the cap at decision time, so that a user cannot be served past
 * the cap while impressions are in flight. The reservation becomes an impression when its
 * beacon arrives, and lapses if no impression arrives within `pendingMs` (at least the impression
 * token lifetime, after which no impression can be counted). So counted impressions never exceed
 * the cap.
 */
export interface FrequencyStore {
  /** True when (user, ad) has reached `cap`: impressions in the window + live reservations. */
  isCapped(userId: string, adId: string, cap: FrequencyCap, nowMs: number): boolean;
  /** Records a serve; `cap` lets the store forget serves older than its window. */
  reserve(userId: string, adId: string, decisionId: string, cap: FrequencyCap, nowMs: number): void;
  /**
   * Turns the reservation of `decisionId` into a counted impression (timed from its serve, so
   * the cap window runs from when the user was served); unknown decisions count from `nowMs`.
   */
  recordImpression(userId: string, adId: string, decisionId: string, nowMs: number): void;
  /**
   * Shared stores only: null when this process's view of the user is fresh enough to decide
   * on, else a promise that resolves once it was re-read (or a short timeout passed). Asked
   * only for requests that have a capped candidate; a store kept in process has no such method.
   */
  ready?(userId: string, nowMs: number): Promise<void> | null;
}

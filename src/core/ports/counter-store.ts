import type { AllotEvent, EventType } from '../events/allot-event.js';

/** Counted per placement × ad × hour bucket. */
export interface CounterIncrement {
  placementId: string;
  adId: string;
  /** Epoch ms of the start of the UTC hour the event falls in. */
  bucketStartMs: number;
  decisions: number;
  impressions: number;
  clicks: number;
  /** Σw² and sample count of the impressions (set by countOnce; absent: plain counts). */
  impressionsW2?: number;
  impressionSamples?: number;
}

export interface AdCounts {
  /** Decisions, impressions and clicks: exact counts, or Σw (Horvitz–Thompson) when sampled. */
  decisions: number;
  impressions: number;
  clicks: number;
  /** Σw² and the number of sampled impressions, kept by `countOnce` for share intervals
   *  (both equal `impressions` when every impression was counted with weight 1). */
  impressionsW2?: number;
  impressionSamples?: number;
}

/**
 * Live counters behind `/status` and the controller.
 *
 * Adapters: memory (embedded default), Redis. Contract (`test/conformance/counter-store`):
 * - `add` applies the whole batch (one round trip for remote stores); increments for the same
 *   key add up.
 * - `read` sums the hour buckets in [fromMs, toMs) for one placement; unknown → empty map.
 * - Buckets older than the store's retention may be dropped.
 */
export interface CounterStore {
  add(increments: readonly CounterIncrement[]): Promise<void>;
  /**
   * Counts each event at most once, its dedup and its increment applied together: an event
   * whose id was counted within its type's TTL is skipped. So a redelivered batch, or one retried
   * after a crash or a failed call, neither loses nor doubles a count (the aggregator's path).
   * Increments go to the event's placement × ad × UTC hour bucket. Returns, per event, whether it
   * was counted by this call (repeats inside one call: the first only).
   */
  countOnce(
    events: readonly AllotEvent[],
    dedupTtlMs: Readonly<Record<EventType, number>>,
    nowMs: number,
    /** Per event, its sampling weight 1/q (default 1: counted exactly). */
    weights?: readonly number[],
  ): Promise<boolean[]>;
  read(placementId: string, fromMs: number, toMs: number): Promise<Map<string, AdCounts>>;
  close(): Promise<void>;
}

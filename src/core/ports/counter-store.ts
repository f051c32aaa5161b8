/** Counted per placement × ad × hour bucket. */
export interface CounterIncrement {
  placementId: string;
  adId: string;
  /** Epoch ms of the start of the UTC hour the event falls in. */
  bucketStartMs: number;
  decisions: number;
  impressions: number;
  clicks: number;
}

export interface AdCounts {
  decisions: number;
  impressions: number;
  clicks: number;
}

/**
 * Live counters behind `/status` and the controller.
 *
 * Adapters: memory (embedded default). Contract (`test/conformance/counter-store`):
 * - `add` applies the whole batch (one round trip for remote stores); increments for the same
 *   key add up.
 * - `read` sums the hour buckets in [fromMs, toMs) for one placement; unknown → empty map.
 * - Buckets older than the store's retention may be dropped.
 */
export interface CounterStore {
  add(increments: readonly CounterIncrement[]): Promise<void>;
  read(placementId: string, fromMs: number, toMs: number): Promise<Map<string, AdCounts>>;
  close(): Promise<void>;
}

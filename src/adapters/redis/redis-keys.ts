/**
 * Every Redis key Allot uses, built here and nowhere else (GUIDE §10; bullmq `queue-keys.ts`).
 *
 * Layout, with `<p>` the configured prefix (one prefix per deployment or per test):
 *
 *   `<p>:{pl:<placementId>}:c:<bucketStartMs>`   hash: one placement's counts for the UTC hour
 *       starting at bucketStartMs; fields `<adId>:d`, `<adId>:i`, `<adId>:c` → integers.
 *       Expires `retentionHours` after its last increment.
 *   `<p>:{pl:<placementId>}:e:<eventId>`   string: marker of an event counted by
 *       `countOnce` (its logical expiry, epoch ms on the caller's clock; PX on Redis's clock
 *       only garbage-collects it); in the placement's slot so that the
 *       marker and the increment are one atomic script.
 *   `<p>:{pl:<placementId>}:mix:<sliceStartMs>`   hash: sampled request mix of one time slice
 *       (one minute; wider for half-lives over 10 min, see `redis-mix-store.ts`); fields
 *       `<candidateKey>|<eligibilityKey>` → sample counts. Expires ~5 half-lives after its last write.
 *   `<p>:{pl:<placementId>}:mixcand`   string: JSON `{ candidateKey, adIds }`, the candidates the
 *       placement's latest samples describe (the last flush wins). Same expiry as the slices.
 *   `<p>:{pl:<placementId>}:ctx`   list: JSON request contexts, newest first, trimmed to the
 *       store's `maxContexts`. Expires a week after its last write (garbage collection only).
 *   `<p>:{as}:v`   string: allocation state version, INCR'd with every publish / forget.
 *   `<p>:{as}:w`   hash: serving weights, field placementId → JSON `{ targetsVersion, weights }`.
 *   `<p>:{as}:r`   hash: controller reports, field placementId → JSON of the `AllocationReport`.
 *   `<p>:{st:<stream>}`   stream: event batches, field `e` = JSON array of events. Trimmed
 *       below the oldest entry any consumer group still needs.
 *
 * Consumer groups live inside the stream key, so their names are not keys: a group is named as
 * passed to `EventBus.subscribe`, and is removed with the stream.
 *
 * Hash tags (`{…}`): Redis Cluster hashes only the tagged part of a key. All keys of one
 * placement (count buckets, mix slices, candidates, contexts) share a slot, so a MULTI or read pipeline
 * over one placement stays on one node; the allocation state is one tag, so a publish (both
 * hashes and the version) is one MULTI and the weights poll one script; a stream is one key, tagged so that auxiliary keys added later next to it land
 * in its slot.
 *
 * The prefix may not contain braces (they would hijack the hash tag), glob characters or ":" (so
 * that `SCAN MATCH <p>:*` selects exactly this prefix's keys, for cleanup).
 */

const PREFIX_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export interface RedisKeys {
  readonly prefix: string;
  /** `SCAN MATCH` pattern of every key under this prefix (tests, operators' cleanup). */
  readonly pattern: string;
  /** Hash of one placement's counts for the hour starting at `bucketStartMs`. */
  counterBucket(placementId: string, bucketStartMs: number): string;
  /** Marker of an event counted into its placement's buckets (same hash tag as the buckets). */
  countedEvent(placementId: string, eventId: string): string;
  /** The stream carrying one bus's events. */
  eventStream(stream: string): string;
  /** Hash of one placement's sampled request mix for the slice starting at `sliceStartMs`. */
  mixSlice(placementId: string, sliceStartMs: number): string;
  /** String: the candidates one placement's latest mix samples describe. */
  mixCandidates(placementId: string): string;
  /** List of one placement's recently sampled request contexts. */
  mixContexts(placementId: string): string;
  /** String: the allocation state's version. */
  allocationVersion(): string;
  /** Hash: serving weights per placement. */
  allocationWeights(): string;
  /** Hash: the controller's last report per placement. */
  allocationReports(): string;
}

export function redisKeys(prefix: string): RedisKeys {
  if (!PREFIX_RE.test(prefix)) {
    throw new Error(`invalid Redis key prefix "${prefix}": letters, digits, "_", ".", "-" only`);
  }
  return {
    prefix,
    pattern: `${prefix}:*`,
    counterBucket: (placementId, bucketStartMs) => `${prefix}:{pl:${placementId}}:c:${bucketStartMs}`,
    countedEvent: (placementId, eventId) => `${prefix}:{pl:${placementId}}:e:${eventId}`,
    eventStream: (stream) => `${prefix}:{st:${stream}}`,
    mixSlice: (placementId, sliceStartMs) => `${prefix}:{pl:${placementId}}:mix:${sliceStartMs}`,
    mixCandidates: (placementId) => `${prefix}:{pl:${placementId}}:mixcand`,
    mixContexts: (placementId) => `${prefix}:{pl:${placementId}}:ctx`,
    allocationVersion: () => `${prefix}:{as}:v`,
    allocationWeights: () => `${prefix}:{as}:w`,
    allocationReports: () => `${prefix}:{as}:r`,
  };
}

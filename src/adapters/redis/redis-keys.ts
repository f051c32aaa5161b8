/**
 * Every Redis key Allot uses, built here and nowhere else (GUIDE §10; bullmq `queue-keys.ts`).
 *
 * Layout, with `<p>` the configured prefix (one prefix per deployment or per test):
 *
 *   `<p>:{live}:c:<bucketStartMs>`   hash: the live counts of every placement for the UTC hour
 *       starting at bucketStartMs; field placementId → "<adId> d i c i2 is;…" (decisions,
 *       impressions, clicks — Σw when sampled — Σw² and sampled impressions per ad).
 *       Expires `retentionHours` after its last write.
 *   `<p>:{live}:seen`   sorted set: ids of events counted by `countOnce`, scored by their
 *       logical expiry (epoch ms on the caller's clock); in the buckets' slot so that the dedup
 *       and the increments of a whole batch are one atomic script.
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
 *   `<p>:{as}:changed`   pub/sub channel (not a key): "<version> <JSON [[placementId, weights]…]>"
 *       published with every allocation state publish; decision servers follow it.
 *   `<p>:{cfg}:changed`   pub/sub channel (not a key): announces a configuration change (the
 *       manager's writes), so decision servers reload their plan without waiting for their poll.
 *   `<p>:{u:<userId>}:fq`   hash: one user's serves of capped ads, field adId →
 *       "<ts> <decisionId>;…" within the ad's cap window (the user id URI-encoded, so braces
 *       cannot end the tag). Expires after the longest cap window written to it.
 *   `<p>:{st:<stream>}`   stream: event batches, field `e` = JSON array of events. Trimmed
 *       below the oldest entry any consumer group still needs.
 *
 * Consumer groups live inside the stream key, so their names are not keys: a group is named as
 * passed to `EventBus.subscribe`, and is removed with the stream.
 *
 * Hash tags (`{…}`): Redis Cluster hashes only the tagged part of a key. The live counters are
 * one tag, so a batch of events of any placements is one script (they take a few commands a
 * second, so one slot is no hot spot); all mix keys of one placement (slices, candidates,
 * contexts) share a slot, so a MULTI or read pipeline over one placement stays on one node; the allocation state is one tag, so a publish (both
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
  /** Hash of every placement's counts for the hour starting at `bucketStartMs`. */
  counterBucket(bucketStartMs: number): string;
  /** Sorted set of counted event ids (same hash tag as the buckets). */
  countedEvents(): string;
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
  /** Pub/sub channel announcing configuration changes. */
  configChannel(): string;
  /** Hash of one user's serves of capped ads (its own slot). */
  frequencyUser(userId: string): string;
  /** Pub/sub channel announcing each allocation state publish. */
  allocationChannel(): string;
}

export function redisKeys(prefix: string): RedisKeys {
  if (!PREFIX_RE.test(prefix)) {
    throw new Error(`invalid Redis key prefix "${prefix}": letters, digits, "_", ".", "-" only`);
  }
  return {
    prefix,
    pattern: `${prefix}:*`,
    counterBucket: (bucketStartMs) => `${prefix}:{live}:c:${bucketStartMs}`,
    countedEvents: () => `${prefix}:{live}:seen`,
    eventStream: (stream) => `${prefix}:{st:${stream}}`,
    mixSlice: (placementId, sliceStartMs) => `${prefix}:{pl:${placementId}}:mix:${sliceStartMs}`,
    mixCandidates: (placementId) => `${prefix}:{pl:${placementId}}:mixcand`,
    mixContexts: (placementId) => `${prefix}:{pl:${placementId}}:ctx`,
    allocationVersion: () => `${prefix}:{as}:v`,
    allocationWeights: () => `${prefix}:{as}:w`,
    allocationReports: () => `${prefix}:{as}:r`,
    allocationChannel: () => `${prefix}:{as}:changed`,
    configChannel: () => `${prefix}:{cfg}:changed`,
    frequencyUser: (userId) => `${prefix}:{u:${encodeURIComponent(userId)}}:fq`,
  };
}

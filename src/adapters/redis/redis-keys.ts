/**
 * Every Redis key Allot uses, built here and nowhere else (GUIDE §10; bullmq `queue-keys.ts`).
 *
 * Layout, with `<p>` the configured prefix (one prefix per deployment or per test):
 *
 *   `<p>:{pl:<placementId>}:c:<bucketStartMs>`   hash: one placement's counts for the UTC hour
 *       starting at bucketStartMs; fields `<adId>:d`, `<adId>:i`, `<adId>:c` → integers.
 *       Expires `retentionHours` after its last increment.
 *   `<p>:{pl:<placementId>}:e:<eventId>`   string: marker of an event counted by
 *       `countOnce` (its logical expiry, like dedup keys); in the placement's slot so that the
 *       marker and the increment are one atomic script.
 *   `<p>:{dd:<shard>}:<eventId>`   string: the id's logical expiry, epoch ms on the caller's
 *       clock. PX = the dedup TTL on Redis's clock (garbage collection only).
 *   `<p>:{st:<stream>}`   stream: event batches, field `e` = JSON array of events. Trimmed
 *       below the oldest entry any consumer group still needs.
 *
 * Consumer groups live inside the stream key, so their names are not keys: a group is named as
 * passed to `EventBus.subscribe`, and is removed with the stream.
 *
 * Hash tags (`{…}`): Redis Cluster hashes only the tagged part of a key. All buckets of one
 * placement share a slot, so a MULTI or read pipeline over one placement stays on one node;
 * dedup keys are spread over `shards` tags so that each shard's keys can go to one Lua call
 * without putting every id on one node; a stream is one key, tagged so that auxiliary keys
 * added later next to it land in its slot.
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
  /** Seen-marker of one event id; `shard` from `dedupShard`. */
  dedup(shard: number, eventId: string): string;
  /** The stream carrying one bus's events. */
  eventStream(stream: string): string;
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
    dedup: (shard, eventId) => `${prefix}:{dd:${shard}}:${eventId}`,
    eventStream: (stream) => `${prefix}:{st:${stream}}`,
  };
}

/**
 * Which dedup shard an event id belongs to: FNV-1a over the UTF-16 code units, stable across
 * processes and releases (changing it, or the shard count, forgets every remembered id once).
 */
export function dedupShard(eventId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) {
    h ^= eventId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

import type { Deduper } from '../../core/ports/deduper.js';

/**
 * Seen-ids in process memory, expiring after the TTL. Bounded by `maxEntries`: beyond it the
 * oldest ids are forgotten early (counted in `evicted`, exported as a metric), trading a
 * possible double count of a very late replay for bounded memory.
 */
export function createMemoryDeduper(opts: { maxEntries?: number } = {}): Deduper & {
  size(): number;
  evicted(): number;
} {
  const maxEntries = opts.maxEntries ?? 2_000_000;
  // Insertion order ≈ expiry order when the TTL is constant, so pruning stops at the first live id.
  const seen = new Map<string, number>();
  let evicted = 0;

  const prune = (nowMs: number): void => {
    for (const [id, expiry] of seen) {
      if (expiry > nowMs && seen.size <= maxEntries) break;
      seen.delete(id);
      if (expiry > nowMs) evicted++;
    }
  };

  return {
    async firstSeen(ids, ttlMs, nowMs) {
      prune(nowMs);
      const out: boolean[] = new Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        const expiry = seen.get(id);
        if (expiry !== undefined && expiry > nowMs) {
          out[i] = false;
        } else {
          seen.delete(id);
          seen.set(id, nowMs + ttlMs);
          out[i] = true;
        }
      }
      return out;
    },
    size: () => seen.size,
    evicted: () => evicted,
  };
}

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
  // Expiries are whole seconds from the first call, rounded up: small integers V8 stores in the
  // map itself, where epoch milliseconds would each be a heap number — two million more objects
  // for every GC to trace when the window is full. An id lives up to a second past its TTL.
  const seen = new Map<string, number>();
  let base = Number.NaN;
  let evicted = 0;

  const prune = (now: number): void => {
    for (const [id, expiry] of seen) {
      if (expiry > now && seen.size <= maxEntries) break;
      seen.delete(id);
      if (expiry > now) evicted++;
    }
  };

  return {
    async firstSeen(ids, ttlMs, nowMs) {
      if (Number.isNaN(base)) base = nowMs;
      // Seconds since `base`: compared as a fraction, stored rounded up.
      const now = (nowMs - base) / 1000;
      const expiry = Math.ceil((nowMs + ttlMs - base) / 1000);
      prune(now);
      const out: boolean[] = new Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        const known = seen.get(id);
        if (known !== undefined && known > now) {
          out[i] = false;
        } else {
          seen.delete(id);
          seen.set(id, expiry);
          out[i] = true;
        }
      }
      return out;
    },
    size: () => seen.size,
    evicted: () => evicted,
  };
}

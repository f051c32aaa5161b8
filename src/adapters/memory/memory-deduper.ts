import type { Deduper } from '../../core/ports/deduper.js';

/** Ids in the order they were remembered, with their expiries: chunks of a fixed size. */
const CHUNK = 8192;
interface Chunk {
  ids: string[];
  expiries: Int32Array;
}

/**
 * Seen-ids in process memory, expiring after the TTL. Bounded by `maxEntries`: beyond it the
 * oldest ids are forgotten early (counted in `evicted`, exported as a metric), trading a
 * possible double count of a very late replay for bounded memory.
 *
 * Lookups go to a Map; expiry and eviction walk a separate queue in remembering order. (Walking
 * the Map itself from its start, as this once did, slowed every call down as the window
 * turned over: V8 leaves a deleted entry's slot in place until the table is rebuilt, and each
 * new iterator steps over all of them — 0.17 → 2.2 ms per call of 40 ids within a minute of
 * running at the cap; docs/benchmarks.md.)
 */
export function createMemoryDeduper(opts: { maxEntries?: number } = {}): Deduper & {
  size(): number;
  evicted(): number;
} {
  const maxEntries = opts.maxEntries ?? 2_000_000;
  // Expiries are whole seconds from the first call, rounded up: small integers V8 stores in the
  // map itself, where epoch milliseconds would each be a heap number — two million more objects
  // for every GC to trace when the window is full. An id lives up to a second past its TTL.
  const seen = new Map<string, number>();
  const queue: Chunk[] = [];
  let head = 0; // next to expire in queue[0]
  let tail = CHUNK; // next free slot in the last chunk
  let base = Number.NaN;
  let evicted = 0;

  const remember = (id: string, expiry: number): void => {
    seen.set(id, expiry);
    if (tail === CHUNK) {
      queue.push({ ids: new Array<string>(CHUNK), expiries: new Int32Array(CHUNK) });
      tail = 0;
    }
    const last = queue[queue.length - 1]!;
    last.ids[tail] = id;
    last.expiries[tail] = expiry;
    tail++;
  };

  /** Forgets expired ids, then the oldest beyond `maxEntries`. */
  const prune = (now: number): void => {
    while (queue.length > 0) {
      const first = queue[0]!;
      const filled = queue.length === 1 ? tail : CHUNK;
      if (head === filled) {
        if (queue.length === 1) break; // empty
        queue.shift();
        head = 0;
        continue;
      }
      const expiry = first.expiries[head]!;
      if (expiry > now && seen.size <= maxEntries) break;
      const id = first.ids[head]!;
      first.ids[head] = '';
      head++;
      // An id remembered again after it expired has a later entry: this one is stale.
      if (seen.get(id) !== expiry) continue;
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
          remember(id, expiry);
          out[i] = true;
        }
      }
      return out;
    },
    size: () => seen.size,
    evicted: () => evicted,
  };
}

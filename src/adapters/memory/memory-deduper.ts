import type { Deduper } from '../../core/ports/deduper.js';
import { type EventIdKey, eventIdKey, newEventIdKey } from './event-id-key.js';
import { createEventIdTable } from './event-id-table.js';

/** Ids in the order they were remembered, with their expiries: chunks of a fixed size. */
const CHUNK = 8192;
interface Chunk {
  /** Per entry: the event id's 128 bits (4 words) when `tags` is non-zero. */
  words: Int32Array;
  /** Per entry: the event type tag of an event id in `words`, or 0 for an id in `ids`. */
  tags: Uint8Array;
  /** Ids of other shapes, created on the first such id in the chunk. */
  ids: string[] | null;
  expiries: Int32Array;
}

/**
 * Seen-ids in process memory, expiring after the TTL. Bounded by `maxEntries`: beyond it the
 * oldest ids are forgotten early (counted in `evicted`, exported as a metric), trading a
 * possible double count of a very late replay for bounded memory.
 *
 * Allot's event ids (`<decision UUID>:<d|i|c>`, lowercase) are kept as 128 bits and a tag in a
 * hash table of typed arrays (`event-id-table.ts`), not as strings in a Map: the window holds up
 * to 2M of them for the token lifetime, which as strings cost ~126 bytes each on the V8 heap and
 * a full GC ~64 ms per million alive; typed arrays are neither traced nor copied by the GC
 * (docs/benchmarks.md, "Retained decision ids"). Ids of any other shape go to a Map.
 *
 * Expiry and eviction walk a separate queue in remembering order. (Walking the Map itself from
 * its start, as this once did, slowed every call down as the window turned over: V8 leaves a
 * deleted entry's slot in place until the table is rebuilt, and each new iterator steps over
 * all of them — 0.17 → 2.2 ms per call of 40 ids within a minute of running at the cap.)
 */
export function createMemoryDeduper(opts: { maxEntries?: number } = {}): Deduper & {
  size(): number;
  evicted(): number;
} {
  const maxEntries = opts.maxEntries ?? 2_000_000;
  // Expiries are whole seconds from the first call, rounded up: small integers (in the Map, V8
  // stores them inline; epoch milliseconds would each be a heap number). An id lives up to a
  // second past its TTL.
  const seen = new Map<string, number>();
  const table = createEventIdTable();
  const key: EventIdKey = newEventIdKey();
  const queue: Chunk[] = [];
  let head = 0; // next to expire in queue[0]
  let tail = CHUNK; // next free slot in the last chunk
  let base = Number.NaN;
  let evicted = 0;

  const size = (): number => seen.size + table.size();

  /** Appends to the queue: the event id in `key` when `id` is null. */
  const enqueue = (id: string | null, expiry: number): void => {
    if (tail === CHUNK) {
      queue.push({
        words: new Int32Array(CHUNK * 4),
        tags: new Uint8Array(CHUNK),
        ids: null,
        expiries: new Int32Array(CHUNK),
      });
      tail = 0;
    }
    const last = queue[queue.length - 1]!;
    if (id === null) {
      last.words.set(key.words, tail * 4);
      last.tags[tail] = key.tag;
    } else {
      last.ids ??= new Array<string>(CHUNK).fill('');
      last.ids[tail] = id;
    }
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
      if (expiry > now && size() <= maxEntries) break;
      const i = head;
      head++;
      // An id remembered again after it expired has a later entry: this one is stale.
      const tag = first.tags[i]!;
      if (tag !== 0) {
        const w = first.words;
        const slot = table.find(w[i * 4]!, w[i * 4 + 1]!, w[i * 4 + 2]!, w[i * 4 + 3]!, tag);
        if (slot < 0 || table.expiry(slot) !== expiry) continue;
        table.remove(slot);
      } else {
        const id = first.ids![i]!;
        first.ids![i] = '';
        if (seen.get(id) !== expiry) continue;
        seen.delete(id);
      }
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
        if (eventIdKey(id, key)) {
          const w = key.words;
          const slot = table.find(w[0]!, w[1]!, w[2]!, w[3]!, key.tag);
          if (slot >= 0 && table.expiry(slot) > now) {
            out[i] = false;
            continue;
          }
          if (slot >= 0) table.setExpiry(slot, expiry);
          else table.insert(w[0]!, w[1]!, w[2]!, w[3]!, key.tag, expiry);
          enqueue(null, expiry);
        } else {
          const known = seen.get(id);
          if (known !== undefined && known > now) {
            out[i] = false;
            continue;
          }
          seen.set(id, expiry);
          enqueue(id, expiry);
        }
        out[i] = true;
      }
      return out;
    },
    size,
    evicted: () => evicted,
  };
}

import type { AdCounts, CounterIncrement, CounterStore } from '../../core/ports/counter-store.js';
import { HOUR_MS, hourBucket } from '../../core/window/allocation-window.js';
import { createMemoryDeduper } from './memory-deduper.js';

/** The in-process dedup window: ids remembered, and ids forgotten before their TTL (the cap). */
export interface DedupStats {
  ids: number;
  evicted: number;
}

/**
 * Live counters in process memory: placement → hour bucket → ad → counts. Buckets older than
 * `retentionHours` before the newest seen are dropped, which bounds memory by
 * placements × ads × retention.
 */
export function createMemoryCounterStore(
  opts: { retentionHours?: number; maxSeenIds?: number } = {},
): CounterStore & { dedupStats(): DedupStats } {
  const retentionMs = (opts.retentionHours ?? 48) * HOUR_MS;
  // Seen ids for countOnce. In one process dedup and increment cannot be torn apart (a crash
  // loses both), so pairing the memory deduper with the counters is enough here.
  const seen = createMemoryDeduper({ maxEntries: opts.maxSeenIds ?? 2_000_000 });
  const data = new Map<string, Map<number, Map<string, AdCounts>>>();
  let newestBucket = 0;

  const prune = (): void => {
    const cutoff = newestBucket - retentionMs;
    for (const buckets of data.values()) {
      for (const start of buckets.keys()) if (start < cutoff) buckets.delete(start);
    }
  };

  const store: CounterStore = {
    async add(increments: readonly CounterIncrement[]) {
      let advanced = false;
      for (const inc of increments) {
        let buckets = data.get(inc.placementId);
        if (buckets === undefined) {
          buckets = new Map();
          data.set(inc.placementId, buckets);
        }
        let ads = buckets.get(inc.bucketStartMs);
        if (ads === undefined) {
          ads = new Map();
          buckets.set(inc.bucketStartMs, ads);
        }
        let c = ads.get(inc.adId);
        if (c === undefined) {
          c = { decisions: 0, impressions: 0, clicks: 0 };
          ads.set(inc.adId, c);
        }
        c.decisions += inc.decisions;
        c.impressions += inc.impressions;
        c.clicks += inc.clicks;
        if (inc.impressionsW2 !== undefined) c.impressionsW2 = (c.impressionsW2 ?? 0) + inc.impressionsW2;
        if (inc.impressionSamples !== undefined) {
          c.impressionSamples = (c.impressionSamples ?? 0) + inc.impressionSamples;
        }
        if (inc.bucketStartMs > newestBucket) {
          newestBucket = inc.bucketStartMs;
          advanced = true;
        }
      }
      if (advanced) prune();
    },

    async countOnce(events, dedupTtlMs, nowMs, weights) {
      const counted: boolean[] = new Array(events.length).fill(false);
      for (const type of ['decision', 'impression', 'click'] as const) {
        const idx: number[] = [];
        events.forEach((e, i) => {
          if (e.type === type) idx.push(i);
        });
        if (idx.length === 0) continue;
        const firsts = await seen.firstSeen(
          idx.map((i) => events[i]!.id),
          dedupTtlMs[type],
          nowMs,
        );
        idx.forEach((i, k) => {
          counted[i] = firsts[k]!;
        });
      }
      const increments: CounterIncrement[] = [];
      events.forEach((e, i) => {
        if (!counted[i]) return;
        const w = weights?.[i] ?? 1;
        const imp = e.type === 'impression';
        increments.push({
          placementId: e.placementId,
          adId: e.adId,
          bucketStartMs: hourBucket(e.ts),
          decisions: e.type === 'decision' ? w : 0,
          impressions: imp ? w : 0,
          clicks: e.type === 'click' ? w : 0,
          impressionsW2: imp ? w * w : 0,
          impressionSamples: imp ? 1 : 0,
        });
      });
      await store.add(increments);
      return counted;
    },

    async read(placementId, fromMs, toMs) {
      const out = new Map<string, AdCounts>();
      const buckets = data.get(placementId);
      if (buckets === undefined) return out;
      for (const [start, ads] of buckets) {
        if (start < fromMs || start >= toMs) continue;
        for (const [adId, c] of ads) {
          const o = out.get(adId);
          if (o === undefined) out.set(adId, { ...c });
          else {
            o.decisions += c.decisions;
            o.impressions += c.impressions;
            o.clicks += c.clicks;
            if (c.impressionsW2 !== undefined) o.impressionsW2 = (o.impressionsW2 ?? 0) + c.impressionsW2;
            if (c.impressionSamples !== undefined) {
              o.impressionSamples = (o.impressionSamples ?? 0) + c.impressionSamples;
            }
          }
        }
      }
      return out;
    },

    async close() {
      data.clear();
    },
  };
  return Object.assign(store, { dedupStats: () => ({ ids: seen.size(), evicted: seen.evicted() }) });
}

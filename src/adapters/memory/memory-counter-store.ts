import type { AdCounts, CounterIncrement, CounterStore } from '../../core/ports/counter-store.js';
import { HOUR_MS } from '../../core/window/allocation-window.js';

/**
 * Live counters in process memory: placement → hour bucket → ad → counts. Buckets older than
 * `retentionHours` before the newest seen are dropped, which bounds memory by
 * placements × ads × retention.
 */
export function createMemoryCounterStore(opts: { retentionHours?: number } = {}): CounterStore {
  const retentionMs = (opts.retentionHours ?? 48) * HOUR_MS;
  const data = new Map<string, Map<number, Map<string, AdCounts>>>();
  let newestBucket = 0;

  const prune = (): void => {
    const cutoff = newestBucket - retentionMs;
    for (const buckets of data.values()) {
      for (const start of buckets.keys()) if (start < cutoff) buckets.delete(start);
    }
  };

  return {
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
        const c = ads.get(inc.adId);
        if (c === undefined) {
          ads.set(inc.adId, { decisions: inc.decisions, impressions: inc.impressions, clicks: inc.clicks });
        } else {
          c.decisions += inc.decisions;
          c.impressions += inc.impressions;
          c.clicks += inc.clicks;
        }
        if (inc.bucketStartMs > newestBucket) {
          newestBucket = inc.bucketStartMs;
          advanced = true;
        }
      }
      if (advanced) prune();
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
          }
        }
      }
      return out;
    },

    async close() {
      data.clear();
    },
  };
}

import type { AdCounts, CounterIncrement, CounterStore } from '../../core/ports/counter-store.js';
import { HOUR_MS, hourBucket } from '../../core/window/allocation-window.js';
import { evalLua, luaScript, type RedisConnection } from './redis-client.js';
import { redisKeys } from './redis-keys.js';

export interface RedisCounterStoreOptions {
  /** Shared connection; the store never closes it. */
  client: RedisConnection;
  prefix: string;
  /** A bucket is dropped this long after its last increment (default 48, as the memory store). */
  retentionHours?: number;
}

/** A read longer than this is a caller bug (an epoch-0 start), not a window: refuse it. */
const MAX_READ_BUCKETS = 24 * 400;
const TYPE_SUFFIX = { decision: 'd', impression: 'i', click: 'c' } as const;
const countOnceScript = luaScript('count-once.lua');
const FIELD_SUFFIX = { decisions: 'd', impressions: 'i', clicks: 'c' } as const;
const METRIC_OF_SUFFIX: Partial<Record<string, keyof AdCounts>> = {
  d: 'decisions',
  i: 'impressions',
  c: 'clicks',
  i2: 'impressionsW2',
  is: 'impressionSamples',
};

/**
 * Live counters in Redis, shared by every aggregator and read by every controller: one hash per
 * placement × hour bucket, fields `<adId>:d|i|c` (layout in `redis-keys.ts`).
 *
 * Counts are integers (HINCRBY): today every event counts 1. Sampled counting with fractional
 * weights would need HINCRBYFLOAT, whose float sums drift; `add` rejects non-integers rather
 * than let Redis fail half a transaction.
 *
 * Retention is relative to the last write (EXPIRE per touched bucket), not to the bucket's hour:
 * bucket times come from event timestamps, which need not be close to Redis's clock.
 */
export function createRedisCounterStore(opts: RedisCounterStoreOptions): CounterStore {
  const { client } = opts;
  const keys = redisKeys(opts.prefix);
  const retentionSeconds = Math.ceil((opts.retentionHours ?? 48) * 3600);
  if (!(retentionSeconds > 0)) throw new Error('retentionHours must be positive');

  return {
    async add(increments: readonly CounterIncrement[]) {
      // Merge the batch first: one HINCRBY per (bucket, field), however the caller grouped it.
      const buckets = new Map<string, Map<string, number>>();
      for (const inc of increments) {
        const key = keys.counterBucket(inc.placementId, inc.bucketStartMs);
        for (const metric of ['decisions', 'impressions', 'clicks'] as const) {
          const n = inc[metric];
          if (!Number.isSafeInteger(n)) throw new RangeError(`${metric} must be an integer, got ${n}`);
          if (n === 0) continue;
          let fields = buckets.get(key);
          if (fields === undefined) {
            fields = new Map();
            buckets.set(key, fields);
          }
          const field = `${inc.adId}:${FIELD_SUFFIX[metric]}`;
          fields.set(field, (fields.get(field) ?? 0) + n);
        }
      }
      if (buckets.size === 0) return;
      // One MULTI/EXEC = one round trip, and all-or-nothing if the connection drops mid-batch.
      // On Redis Cluster a batch spanning placements spans slots: it would have to be split per
      // placement (each one's buckets share a hash tag).
      const tx = client.multi();
      for (const [key, fields] of buckets) {
        for (const [field, n] of fields) tx.hIncrBy(key, field, n);
        tx.expire(key, retentionSeconds);
      }
      await tx.exec();
    },

    async countOnce(events, dedupTtlMs, nowMs, weights) {
      // Repeats inside the batch are answered here; each placement's events then go to one
      // count-once script (its keys share a slot), all scripts sent in the same tick (one round trip).
      const counted: boolean[] = new Array(events.length).fill(false);
      const byPlacement = new Map<string, number[]>();
      const firstIndex = new Map<string, number>();
      events.forEach((e, i) => {
        if (firstIndex.has(e.id)) return;
        firstIndex.set(e.id, i);
        let list = byPlacement.get(e.placementId);
        if (list === undefined) {
          list = [];
          byPlacement.set(e.placementId, list);
        }
        list.push(i);
      });
      await Promise.all(
        [...byPlacement].map(async ([placementId, idx]) => {
          const bucketKeys: string[] = [];
          const bucketIndex = new Map<string, number>();
          const args = [String(idx.length), String(nowMs), String(retentionSeconds)];
          for (const i of idx) {
            const e = events[i]!;
            const bucket = keys.counterBucket(placementId, hourBucket(e.ts));
            let j = bucketIndex.get(bucket);
            if (j === undefined) {
              j = bucketKeys.push(bucket);
              bucketIndex.set(bucket, j);
            }
            const w = weights?.[i] ?? 1;
            if (!(w > 0) || !Number.isFinite(w))
              throw new RangeError(`sampling weight must be positive, got ${w}`);
            args.push(String(dedupTtlMs[e.type]), String(j), e.adId, TYPE_SUFFIX[e.type], String(w));
          }
          const eventKeys = idx.map((i) => keys.countedEvent(placementId, events[i]!.id));
          const result = (await evalLua(
            client,
            countOnceScript,
            [...eventKeys, ...bucketKeys],
            args,
          )) as number[];
          idx.forEach((i, k) => {
            counted[i] = result[k] === 1;
          });
        }),
      );
      return counted;
    },

    async read(placementId, fromMs, toMs) {
      const starts: number[] = [];
      for (let t = Math.ceil(fromMs / HOUR_MS) * HOUR_MS; t < toMs; t += HOUR_MS) {
        if (starts.length === MAX_READ_BUCKETS)
          throw new RangeError(`read spans over ${MAX_READ_BUCKETS} hours`);
        starts.push(t);
      }
      const out = new Map<string, AdCounts>();
      // Issued in one tick: node-redis writes them as one pipeline, one round trip.
      const hashes = await Promise.all(starts.map((t) => client.hGetAll(keys.counterBucket(placementId, t))));
      for (const hash of hashes) {
        for (const [field, value] of Object.entries(hash)) {
          const sep = field.lastIndexOf(':');
          const metric = METRIC_OF_SUFFIX[field.slice(sep + 1)];
          if (metric === undefined) continue;
          const adId = field.slice(0, sep);
          let c = out.get(adId);
          if (c === undefined) {
            c = { decisions: 0, impressions: 0, clicks: 0 };
            out.set(adId, c);
          }
          c[metric] = (c[metric] ?? 0) + Number(value);
        }
      }
      return out;
    },

    async close() {
      // The connection belongs to the caller.
    },
  };
}

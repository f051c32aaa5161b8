import type { AllotEvent, EventType } from '../../core/events/allot-event.js';
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
  /** Clock deciding which hour buckets are closed (default `Date.now`). */
  clock?: () => number;
  /** How long a closed bucket read is reused (default 60 s; 0 = always read). */
  closedBucketRefreshMs?: number;
}

/** A read longer than this is a caller bug (an epoch-0 start), not a window: refuse it. */
const MAX_READ_BUCKETS = 24 * 400;
/** An event's type in `count-once.lua`'s per-event code. */
const TYPE_CODE = { decision: 1, impression: 2, click: 3 } as const;
const countOnceScript = luaScript('count-once.lua');
/** A closed bucket changes only when the pipeline lags this far behind (see `read`). */
const SETTLE_MS = 120_000;
/** Events per script call (6.5–9 µs of Redis time each, `npm run bench:pipeline`), two or three
 *  arguments each (id, code, weight): node-redis spreads a command's arguments on the stack, so
 *  one call of 50,000 arguments would overflow it. */
const MAX_EVENTS_PER_CALL = 5000;
/** Events stamped up to this far ahead of the reader's clock are still read. */
const FUTURE_SLACK_MS = 300_000;

/** One placement's packed counts, as `count-once.lua` writes them. */
function unpack(value: string | null | undefined, into: Map<string, AdCounts>): void {
  if (!value) return;
  for (const entry of value.split(';')) {
    const [adId, d, i, c, i2, is] = entry.split(' ');
    if (adId === undefined || is === undefined) continue;
    let o = into.get(adId);
    if (o === undefined) {
      o = { decisions: 0, impressions: 0, clicks: 0 };
      into.set(adId, o);
    }
    o.decisions += Number(d);
    o.impressions += Number(i);
    o.clicks += Number(c);
    if (Number(i2) !== 0) o.impressionsW2 = (o.impressionsW2 ?? 0) + Number(i2);
    if (Number(is) !== 0) o.impressionSamples = (o.impressionSamples ?? 0) + Number(is);
  }
}

/**
 * Live counters in Redis, shared by every aggregator and read by every controller. One hash per
 * UTC hour for the whole deployment, one field per placement holding its ads' counts packed
 * (layout in `redis-keys.ts`); counted event ids in one sorted set scored by expiry.
 *
 * Every write is one `count-once.lua` call whose cost is per batch, not per event: ZMSCORE and
 * ZADD for the ids, HMGET + HSET + EXPIRE per hour touched; the script reads per event only its
 * id and one number, the placement × ad × hour groups once per call. With the aggregator lingering a
 * second per batch that is ~10 commands a second for the whole fleet, whatever the traffic.
 * All keys share the `{live}` hash tag (one Cluster slot): at that rate one slot is no hot spot,
 * and a batch spanning placements stays one atomic script.
 *
 * Reads: one HGET per hour of the window up to now. Buckets that closed over two minutes ago change only
 * when the pipeline lags; they are cached for `closedBucketRefreshMs` (default 60 s), and
 * writes through this instance invalidate them. So a controller stepping every second reads
 * about one key per placement, not one per hour of its window.
 *
 * Retention is relative to the last write (EXPIRE per touched bucket), not to the bucket's hour:
 * bucket times come from event timestamps, which need not be close to Redis's clock.
 */
export function createRedisCounterStore(opts: RedisCounterStoreOptions): CounterStore {
  const { client } = opts;
  const keys = redisKeys(opts.prefix);
  const retentionSeconds = Math.ceil((opts.retentionHours ?? 48) * 3600);
  if (!(retentionSeconds > 0)) throw new Error('retentionHours must be positive');
  const clock = opts.clock ?? Date.now;
  const refreshMs = opts.closedBucketRefreshMs ?? 60_000;
  /** `<bucketStartMs>` → placement → packed value and when it was read. */
  const closed = new Map<number, Map<string, { value: string | null; atMs: number }>>();

  const invalidate = (bucketStarts: Iterable<number>): void => {
    for (const b of bucketStarts) closed.delete(b);
    const oldest = clock() - retentionSeconds * 1000 - HOUR_MS;
    for (const b of closed.keys()) if (b < oldest) closed.delete(b);
  };

  /** One script call: `events` deduped by id (distinct ids), `incs` added as they are. */
  async function write(
    events: ReadonlyArray<{ e: AllotEvent; w: number }>,
    incs: readonly CounterIncrement[],
    dedupTtlMs: Readonly<Record<EventType, number>> | null,
    nowMs: number,
  ): Promise<number[]> {
    const bucketStarts: number[] = [];
    const bucketIndex = new Map<number, number>();
    const indexOf = (start: number): number => {
      let j = bucketIndex.get(start);
      if (j === undefined) {
        j = bucketStarts.push(start);
        bucketIndex.set(start, j);
      }
      return j;
    };
    const ttl = dedupTtlMs ?? { decision: 0, impression: 0, click: 0 };
    let maxTtl = 0;
    // Per event only numbers (its group and type, its weight when not 1): the script reads no
    // per-event text but the id (count-once.lua).
    const groups: string[] = [];
    const groupOf = new Map<string, number>();
    const ids: string[] = new Array(events.length);
    const codes: string[] = new Array(events.length);
    const weights: number[] = new Array(events.length);
    let weighted = false;
    events.forEach(({ e, w }, k) => {
      maxTtl = Math.max(maxTtl, ttl[e.type]);
      const key = `${indexOf(hourBucket(e.ts))} ${e.placementId} ${e.adId}`;
      let g = groupOf.get(key);
      if (g === undefined) {
        g = groups.push(key);
        groupOf.set(key, g);
      }
      ids[k] = e.id;
      codes[k] = String(g * 4 + TYPE_CODE[e.type]);
      weights[k] = w;
      if (w !== 1) weighted = true;
    });
    const args = [
      String(events.length),
      String(nowMs),
      String(retentionSeconds),
      String(incs.length),
      String(maxTtl),
      String(groups.length),
      weighted ? '1' : '0',
      String(ttl.decision),
      String(ttl.impression),
      String(ttl.click),
      ...groups,
      ...ids,
      ...codes,
      ...(weighted ? weights.map(String) : []),
    ];
    for (const inc of incs) {
      const counts = `${inc.decisions} ${inc.impressions} ${inc.clicks} ${inc.impressionsW2 ?? 0} ${inc.impressionSamples ?? 0}`;
      args.push(`${indexOf(inc.bucketStartMs)} ${inc.placementId} ${inc.adId} ${counts}`);
    }
    const result = (await evalLua(
      client,
      countOnceScript,
      [keys.countedEvents(), ...bucketStarts.map((b) => keys.counterBucket(b))],
      args,
    )) as number[];
    invalidate(bucketStarts);
    return result;
  }

  return {
    async add(increments: readonly CounterIncrement[]) {
      for (const inc of increments) {
        for (const metric of [
          'decisions',
          'impressions',
          'clicks',
          'impressionsW2',
          'impressionSamples',
        ] as const) {
          const n = inc[metric] ?? 0;
          if (!Number.isFinite(n)) throw new RangeError(`${metric} must be a finite number, got ${n}`);
        }
      }
      for (let from = 0; from < increments.length; from += MAX_EVENTS_PER_CALL) {
        await write([], increments.slice(from, from + MAX_EVENTS_PER_CALL), null, clock());
      }
    },

    async countOnce(events, dedupTtlMs, nowMs, weights) {
      // Repeats inside the batch are answered here; the rest go to Redis in one script call.
      const counted: boolean[] = new Array(events.length).fill(false);
      const seen = new Set<string>();
      const firsts: Array<{ e: AllotEvent; w: number }> = [];
      const at: number[] = [];
      events.forEach((e, i) => {
        if (seen.has(e.id)) return;
        seen.add(e.id);
        const w = weights?.[i] ?? 1;
        if (!(w > 0) || !Number.isFinite(w))
          throw new RangeError(`sampling weight must be positive, got ${w}`);
        firsts.push({ e, w });
        at.push(i);
      });
      // Each call is atomic; big batches go as several (a script call's arguments are bounded).
      for (let from = 0; from < firsts.length; from += MAX_EVENTS_PER_CALL) {
        const result = await write(firsts.slice(from, from + MAX_EVENTS_PER_CALL), [], dedupTtlMs, nowMs);
        result.forEach((r, k) => {
          counted[at[from + k]!] = r === 1;
        });
      }
      return counted;
    },

    async read(placementId, fromMs, toMs) {
      const starts: number[] = [];
      for (let t = Math.ceil(fromMs / HOUR_MS) * HOUR_MS; t < toMs; t += HOUR_MS) {
        if (starts.length === MAX_READ_BUCKETS)
          throw new RangeError(`read spans over ${MAX_READ_BUCKETS} hours`);
        starts.push(t);
      }
      const now = clock();
      // Hours that have not begun hold nothing (unless a skewed clock stamped events ahead):
      // a window's rest of the day is not read every step.
      while (starts.length > 0 && starts[starts.length - 1]! > now + FUTURE_SLACK_MS) starts.pop();
      const out = new Map<string, AdCounts>();
      const values = await Promise.all(
        // Issued in one tick: node-redis writes them as one pipeline, one round trip.
        starts.map(async (t) => {
          const isClosed = t + HOUR_MS + SETTLE_MS <= now;
          const cached = isClosed ? closed.get(t)?.get(placementId) : undefined;
          if (cached !== undefined && now - cached.atMs < refreshMs) return cached.value;
          const value = await client.hGet(keys.counterBucket(t), placementId);
          if (isClosed) {
            let byPlacement = closed.get(t);
            if (byPlacement === undefined) {
              byPlacement = new Map();
              closed.set(t, byPlacement);
            }
            byPlacement.set(placementId, { value: value ?? null, atMs: now });
          }
          return value;
        }),
      );
      for (const value of values) unpack(value, out);
      return out;
    },

    async close() {
      // The connection belongs to the caller.
      closed.clear();
    },
  };
}

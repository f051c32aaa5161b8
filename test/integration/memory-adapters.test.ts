import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryCounterStore } from '../../src/adapters/memory/memory-counter-store.js';
import { createMemoryDeduper } from '../../src/adapters/memory/memory-deduper.js';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { describeCounterStoreConformance } from '../conformance/counter-store.conformance.js';
import { describeDeduperConformance } from '../conformance/deduper.conformance.js';
import { describeEventBusConformance } from '../conformance/event-bus.conformance.js';

describeEventBusConformance('memory', async () =>
  createMemoryEventBus({ capacity: 50_000, retryDelayMs: 5 }),
);
describeCounterStoreConformance('memory', async () => createMemoryCounterStore());
describeDeduperConformance('memory', async () => createMemoryDeduper());

/** A distinct Allot event id (`<uuid>:i`, what the deduper keeps as numbers) per string. */
const asEventId = (s: string): string => {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}:i`;
};
describeDeduperConformance('memory, event ids', async () => {
  const d = createMemoryDeduper();
  return { firstSeen: (ids, ttlMs, nowMs) => d.firstSeen(ids.map(asEventId), ttlMs, nowMs) };
});

/** The memory deduper's contract as a model: ids in a Map, a queue in remembering order. */
function dedupModel(maxEntries: number) {
  const seen = new Map<string, number>();
  const queue: Array<[string, number]> = [];
  let base = Number.NaN;
  let evicted = 0;
  return {
    firstSeen(ids: readonly string[], ttlMs: number, nowMs: number): boolean[] {
      if (Number.isNaN(base)) base = nowMs;
      const now = (nowMs - base) / 1000;
      const expiry = Math.ceil((nowMs + ttlMs - base) / 1000);
      while (queue.length > 0 && (queue[0]![1] <= now || seen.size > maxEntries)) {
        const [id, e] = queue.shift()!;
        if (seen.get(id) !== e) continue;
        seen.delete(id);
        if (e > now) evicted++;
      }
      return ids.map((id) => {
        const known = seen.get(id);
        if (known !== undefined && known > now) return false;
        seen.set(id, expiry);
        queue.push([id, expiry]);
        return true;
      });
    },
    size: () => seen.size,
    evicted: () => evicted,
  };
}

describe('memory deduper against its model', () => {
  it('answers, sizes and evicts as the model does, for event ids and other ids mixed', async () => {
    // A small pool, so ids repeat: event ids (kept as numbers), the same in uppercase and
    // without a type (kept as strings), and short strings.
    const pool = Array.from({ length: 24 }, (_, i) => asEventId(String(i)));
    pool.push(
      ...pool.slice(0, 6).map((id) => id.toUpperCase()),
      ...pool.slice(0, 4).map((id) => id.slice(0, 36)),
    );
    pool.push('a', 'b', 'c', 'e1');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.array(
          fc.tuple(
            fc.array(fc.integer({ min: 0, max: pool.length - 1 }), { maxLength: 12 }),
            fc.integer({ min: 0, max: 2500 }), // ms since the last call
            fc.constantFrom(0, 500, 1000, 3000),
          ),
          { maxLength: 40 },
        ),
        async (maxEntries, calls) => {
          const d = createMemoryDeduper({ maxEntries });
          const m = dedupModel(maxEntries);
          let t = 1_780_000_000_000;
          for (const [picks, dt, ttl] of calls) {
            t += dt;
            const ids = picks.map((i) => pool[i]!);
            expect(await d.firstSeen(ids, ttl, t)).toEqual(m.firstSeen(ids, ttl, t));
            expect(d.size()).toBe(m.size());
            expect(d.evicted()).toBe(m.evicted());
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('memory adapters: bounds', () => {
  it('the counter store drops buckets older than its retention', async () => {
    const store = createMemoryCounterStore({ retentionHours: 2 });
    const H = 3_600_000;
    const row = (h: number) => ({
      placementId: 'p',
      adId: 'a',
      bucketStartMs: h * H,
      decisions: 1,
      impressions: 1,
      clicks: 0,
    });
    await store.add([row(0), row(1)]);
    await store.add([row(5)]);
    expect((await store.read('p', 0, 10 * H)).get('a')?.impressions).toBe(1);
  });

  it('the deduper keeps expiries in whole seconds: an id lives at most a second past its TTL', async () => {
    const d = createMemoryDeduper();
    const t0 = 1_780_000_000_123; // epoch ms, as the aggregator passes them
    expect(await d.firstSeen(['a'], 900_000, t0)).toEqual([true]);
    expect(await d.firstSeen(['b'], 900_000, t0 + 400)).toEqual([true]);
    expect(await d.firstSeen(['a', 'b'], 900_000, t0 + 899_999)).toEqual([false, false]);
    // `a` expires on time; `b`'s expiry was rounded up to the next whole second (+600 ms).
    expect(await d.firstSeen(['a', 'b'], 900_000, t0 + 900_500)).toEqual([true, false]);
    expect(await d.firstSeen(['b'], 900_000, t0 + 901_000)).toEqual([true]);
    expect(d.size()).toBe(2);
  });

  it('the deduper forgets the oldest first, and an id remembered again keeps its new expiry', async () => {
    const d = createMemoryDeduper({ maxEntries: 20_000 });
    const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `e${from + i}`);
    // 30,000 ids over 30 s (several queue chunks), TTL 10 s.
    for (let s = 0; s < 30; s++) await d.firstSeen(ids(s * 1000, 1000), 10_000, s * 1000);
    // Only the last ten seconds' are remembered; none was evicted early.
    expect(d.size()).toBe(10_000);
    expect(d.evicted()).toBe(0);
    expect(await d.firstSeen(['e19999', 'e20000', 'e29999'], 10_000, 29_500)).toEqual([true, false, false]);
    // e19999 is remembered again (until 40 s); its first entry expiring later must not drop it.
    expect(await d.firstSeen(['e19999'], 10_000, 35_000)).toEqual([false]);
    expect(await d.firstSeen(['e20000', 'e19999'], 10_000, 39_000)).toEqual([true, false]);
    // Over the cap, the oldest go first (at the next call) and count as evicted.
    await d.firstSeen(ids(100_000, 25_000), 10_000, 39_500);
    expect(await d.firstSeen(['e124999'], 10_000, 39_600)).toEqual([false]);
    expect(d.size()).toBe(20_000);
    // All the first 30 s had expired by 39 s; e19999, e20000 and 5,000 of the batch were evicted.
    expect(d.evicted()).toBe(5_002);
  });

  it('the deduper keeps at most maxEntries ids and counts early evictions', async () => {
    const d = createMemoryDeduper({ maxEntries: 100 });
    await d.firstSeen(
      Array.from({ length: 150 }, (_, i) => `id${i}`),
      60_000,
      0,
    );
    await d.firstSeen(['one-more'], 60_000, 1);
    expect(d.size()).toBeLessThanOrEqual(101);
    expect(d.evicted()).toBeGreaterThanOrEqual(49);
  });
});

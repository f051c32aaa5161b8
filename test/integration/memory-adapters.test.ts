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

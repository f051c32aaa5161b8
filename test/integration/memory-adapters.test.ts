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

import { describe, expect, it } from 'vitest';
import type { CounterIncrement, CounterStore } from '../../src/core/ports/counter-store.js';

const H = 3_600_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const inc = (
  adId: string,
  hour: number,
  d: number,
  i: number,
  c: number,
  placementId = 'p',
): CounterIncrement => ({
  placementId,
  adId,
  bucketStartMs: T0 + hour * H,
  decisions: d,
  impressions: i,
  clicks: c,
});

/** The `CounterStore` contract (src/core/ports/counter-store.ts), run against every adapter. */
export function describeCounterStoreConformance(name: string, create: () => Promise<CounterStore>) {
  describe(`CounterStore conformance: ${name}`, () => {
    it('adds batches and sums hour buckets inside [from, to)', async () => {
      const store = await create();
      await store.add([inc('a', 0, 3, 2, 1), inc('b', 0, 1, 1, 0), inc('a', 1, 5, 4, 0)]);
      await store.add([inc('a', 1, 1, 1, 1), inc('a', 5, 100, 100, 100), inc('a', 0, 1, 1, 1, 'other')]);
      const all = await store.read('p', T0, T0 + 24 * H);
      expect(Object.fromEntries(all)).toEqual({
        a: { decisions: 109, impressions: 107, clicks: 102 },
        b: { decisions: 1, impressions: 1, clicks: 0 },
      });
      const early = await store.read('p', T0, T0 + 2 * H);
      expect(early.get('a')).toEqual({ decisions: 9, impressions: 7, clicks: 2 });
      expect((await store.read('p', T0 + 2 * H, T0 + 5 * H)).size).toBe(0);
      expect((await store.read('unknown', T0, T0 + 24 * H)).size).toBe(0);
      await store.close();
    });

    it('returns copies: mutating a read result changes nothing stored', async () => {
      const store = await create();
      await store.add([inc('a', 0, 1, 1, 1)]);
      const r = await store.read('p', T0, T0 + H);
      r.get('a')!.impressions = 999;
      expect((await store.read('p', T0, T0 + H)).get('a')!.impressions).toBe(1);
      await store.close();
    });

    it('sums many concurrent batches exactly', async () => {
      const store = await create();
      await Promise.all(
        Array.from({ length: 50 }, () => store.add([inc('a', 2, 1, 1, 0), inc('b', 2, 2, 0, 0)])),
      );
      const r = await store.read('p', T0, T0 + 24 * H);
      expect(r.get('a')).toEqual({ decisions: 50, impressions: 50, clicks: 0 });
      expect(r.get('b')).toEqual({ decisions: 100, impressions: 0, clicks: 0 });
      await store.close();
    });
  });
}

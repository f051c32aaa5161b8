import { describe, expect, it } from 'vitest';
import type { AllotEvent, EventType } from '../../src/core/events/allot-event.js';
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

    const TTL: Record<EventType, number> = { decision: 60_000, impression: 60_000, click: 60_000 };
    const event = (d: number, type: EventType, adId = 'a', placementId = 'p', hour = 0): AllotEvent => ({
      id: `d${d}:${type[0]}`,
      type,
      ts: T0 + hour * H + 1000,
      decisionId: `d${d}`,
      placementId,
      adId,
      userId: null,
    });

    it('countOnce counts each event id once, across calls and inside one call', async () => {
      const store = await create();
      const batch = [
        event(1, 'decision'),
        event(1, 'impression'),
        event(2, 'impression', 'b'),
        event(1, 'impression'),
      ];
      expect(await store.countOnce(batch, TTL, T0)).toEqual([true, true, true, false]);
      expect(
        await store.countOnce([event(1, 'impression'), event(3, 'click', 'b', 'q', 2)], TTL, T0 + 10),
      ).toEqual([false, true]);
      const p = await store.read('p', T0, T0 + 24 * H);
      expect(p.get('a')).toMatchObject({
        decisions: 1,
        impressions: 1,
        clicks: 0,
        impressionsW2: 1,
        impressionSamples: 1,
      });
      expect(p.get('b')).toMatchObject({
        decisions: 0,
        impressions: 1,
        clicks: 0,
        impressionsW2: 1,
        impressionSamples: 1,
      });
      expect((await store.read('q', T0 + 2 * H, T0 + 3 * H)).get('b')).toMatchObject({
        decisions: 0,
        impressions: 0,
        clicks: 1,
      });
      await store.close();
    });

    it('countOnce forgets an id after its TTL', async () => {
      const store = await create();
      expect(await store.countOnce([event(9, 'impression')], TTL, T0)).toEqual([true]);
      expect(await store.countOnce([event(9, 'impression')], TTL, T0 + 59_000)).toEqual([false]);
      expect(await store.countOnce([event(9, 'impression')], TTL, T0 + 60_001)).toEqual([true]);
      expect((await store.read('p', T0, T0 + H)).get('a')!.impressions).toBe(2);
      await store.close();
    });

    it('countOnce under concurrent redelivery counts every event exactly once', async () => {
      const store = await create();
      const batch = Array.from({ length: 200 }, (_, i) =>
        event(i, i % 2 === 0 ? 'impression' : 'decision', `ad${i % 3}`),
      );
      const results = await Promise.all(Array.from({ length: 10 }, () => store.countOnce(batch, TTL, T0)));
      for (let i = 0; i < batch.length; i++) expect(results.filter((r) => r[i]).length).toBe(1);
      let imps = 0;
      let decs = 0;
      for (const c of (await store.read('p', T0, T0 + H)).values()) {
        imps += c.impressions;
        decs += c.decisions;
      }
      expect([imps, decs]).toEqual([100, 100]);
      await store.close();
    });

    it('countOnce with sampling weights keeps Σw, Σw² and the sample count', async () => {
      const store = await create();
      const batch = [
        event(1, 'impression'),
        event(2, 'impression'),
        event(3, 'decision'),
        event(4, 'impression', 'b'),
      ];
      expect(await store.countOnce(batch, TTL, T0, [4, 2.5, 4, 1])).toEqual([true, true, true, true]);
      const p = await store.read('p', T0, T0 + H);
      expect(p.get('a')).toMatchObject({
        impressions: 6.5,
        decisions: 4,
        impressionsW2: 22.25,
        impressionSamples: 2,
      });
      expect(p.get('b')).toMatchObject({ impressions: 1, impressionsW2: 1, impressionSamples: 1 });
      await store.close();
    });
  });
}

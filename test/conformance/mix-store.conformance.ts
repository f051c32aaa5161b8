import { afterEach, describe, expect, it } from 'vitest';
import type { MixSnapshot, MixStore } from '../../src/core/ports/mix-store.js';

export interface MixStoreFixture {
  store: MixStore;
  /** Makes recorded samples readable (remote stores buffer them); a no-op for memory. */
  flush: () => Promise<void>;
  cleanup: () => Promise<void>;
}

export interface MixStoreFixtureOptions {
  halfLifeMs: number;
  maxContexts: number;
}

const MIN = 60_000;
const HALF_LIFE = 10 * MIN;
/** Minute-aligned, so that reads at T0 see no decay in any adapter. */
const T0 = Date.parse('2026-06-01T00:00:00Z');
const AB = ['a', 'b'] as const;
const ABC = ['a', 'b', 'c'] as const;

const countsOf = (s: MixSnapshot | null): Record<string, number> => Object.fromEntries(s?.counts ?? []);

/** The `MixStore` contract (src/core/ports/mix-store.ts), run against every adapter. */
export function describeMixStoreConformance(
  name: string,
  factory: (opts: MixStoreFixtureOptions) => Promise<MixStoreFixture>,
): void {
  describe(`MixStore conformance: ${name}`, () => {
    const open: MixStoreFixture[] = [];
    const create = async (opts: Partial<MixStoreFixtureOptions> = {}): Promise<MixStoreFixture> => {
      const fx = await factory({ halfLifeMs: HALF_LIFE, maxContexts: 100, ...opts });
      open.push(fx);
      return fx;
    };
    afterEach(async () => {
      for (const fx of open.splice(0)) await fx.cleanup();
    });

    /** Records `n` samples of eligibility `key` over candidates `ids` at `t`. */
    const record = (
      store: MixStore,
      placementId: string,
      ids: readonly string[],
      key: string,
      n: number,
      t: number,
    ) => {
      for (let i = 0; i < n; i++) store.record(placementId, ids.join(','), ids, key, { i }, t);
    };

    it('returns null and no contexts for an unknown placement', async () => {
      const { store } = await create();
      expect(await store.read('nope', T0)).toBeNull();
      expect(await store.recentContexts('nope')).toEqual([]);
    });

    it('adds up records, across calls and flushes', async () => {
      const { store, flush } = await create();
      record(store, 'p', AB, '22', 3, T0);
      record(store, 'p', AB, '20', 2, T0);
      await flush();
      record(store, 'p', AB, '22', 4, T0);
      await flush();
      const snap = await store.read('p', T0);
      expect(snap?.adIds).toEqual(['a', 'b']);
      expect(countsOf(snap)).toEqual({ '22': 7, '20': 2 });
      expect(snap?.samples).toBe(9);
    });

    it('keeps placements apart', async () => {
      const { store, flush } = await create();
      record(store, 'p', AB, '22', 3, T0);
      record(store, 'q', ABC, '012', 5, T0);
      await flush();
      expect(countsOf(await store.read('p', T0))).toEqual({ '22': 3 });
      expect(countsOf(await store.read('q', T0))).toEqual({ '012': 5 });
      expect((await store.read('q', T0))?.adIds).toEqual(['a', 'b', 'c']);
    });

    it('drops earlier samples when the candidates change', async () => {
      const { store, flush } = await create();
      record(store, 'p', AB, '22', 5, T0);
      await flush();
      record(store, 'p', ABC, '221', 2, T0 + MIN);
      await flush();
      const snap = await store.read('p', T0 + MIN);
      expect(snap?.adIds).toEqual(['a', 'b', 'c']);
      expect(Object.keys(countsOf(snap))).toEqual(['221']);
      expect(snap?.counts.get('221')).toBeCloseTo(2, 1);
      expect(snap?.samples).toBe(2);
    });

    it('halves counts every half-life; samples stay undecayed', async () => {
      const { store, flush } = await create();
      // Mid-minute on purpose: adapters that keep time in minute slices are within ±5 %.
      const t = T0 + 17_000;
      record(store, 'p', AB, '22', 100, t);
      record(store, 'p', AB, '02', 40, t);
      await flush();
      const one = await store.read('p', t + HALF_LIFE);
      expect(one?.counts.get('22')).toBeGreaterThan(50 * 0.95);
      expect(one?.counts.get('22')).toBeLessThan(50 * 1.05);
      expect(one?.counts.get('02')).toBeGreaterThan(20 * 0.95);
      expect(one?.counts.get('02')).toBeLessThan(20 * 1.05);
      expect(one?.samples).toBe(140);
      const two = await store.read('p', t + 2 * HALF_LIFE);
      expect(two?.counts.get('22')).toBeGreaterThan(25 * 0.95);
      expect(two?.counts.get('22')).toBeLessThan(25 * 1.05);
      // The shape of the mix survives decay: the ratio between keys does not move.
      expect(two!.counts.get('22')! / two!.counts.get('02')!).toBeCloseTo(2.5, 2);
    });

    it('weighs recent samples more than old ones', async () => {
      const { store, flush } = await create();
      record(store, 'p', AB, '20', 100, T0);
      record(store, 'p', AB, '02', 100, T0 + 2 * HALF_LIFE);
      await flush();
      const snap = await store.read('p', T0 + 2 * HALF_LIFE);
      const ratio = snap!.counts.get('02')! / snap!.counts.get('20')!;
      expect(ratio).toBeGreaterThan(4 * 0.95);
      expect(ratio).toBeLessThan(4 * 1.05);
    });

    it('returns the latest contexts, at most maxContexts', async () => {
      const { store, flush } = await create({ maxContexts: 5 });
      for (let i = 0; i < 8; i++) store.record('p', 'a', ['a'], '2', { n: i, country: 'DE' }, T0);
      await flush();
      for (let i = 8; i < 12; i++) store.record('p', 'a', ['a'], '2', { n: i, country: 'DE' }, T0);
      await flush();
      const contexts = await store.recentContexts('p');
      expect(contexts).toHaveLength(5);
      expect(contexts.map((c) => c.n).sort((x, y) => Number(x) - Number(y))).toEqual([7, 8, 9, 10, 11]);
      expect(contexts[0]).toEqual({ n: contexts[0]!.n, country: 'DE' });
      expect(await store.recentContexts('q')).toEqual([]);
    });

    it('keeps contexts across a candidate change', async () => {
      const { store, flush } = await create();
      store.record('p', 'a', ['a'], '2', { n: 1 }, T0);
      store.record('p', 'a,b', ['a', 'b'], '22', { n: 2 }, T0);
      await flush();
      expect((await store.recentContexts('p')).map((c) => c.n).sort()).toEqual([1, 2]);
    });
  });
}

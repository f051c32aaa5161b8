import { describe, expect, it } from 'vitest';
import { AllotError } from '../../src/core/errors.js';
import type { ConfigImportBatch, ConfigStore } from '../../src/core/ports/config-store.js';
import { makeAd } from '../support/fixtures.js';
import { makePlacement, T0, T1, targets } from './config-store-fixtures.js';

const T2 = '2024-05-03T08:00:00.000Z';

const batch = (parts: Partial<ConfigImportBatch>): ConfigImportBatch => ({
  ads: [],
  placements: [],
  targets: [],
  updatedAt: T2,
  ...parts,
});

/** Everything a store holds, to prove a rejected import wrote nothing. */
const everything = async (store: ConfigStore) => ({
  snapshot: await store.snapshot(),
  revision: await store.revision(),
});

/**
 * The ConfigStore contract's bulk half (`importConfig`), run inside
 * `describeConfigStoreConformance` with its fixture; `seed` creates ads a, b, c and placement
 * p1 (fallback c, targets [b 0.25, a 0.5]) at T0/T1.
 */
export function describeConfigStoreImport(ctx: {
  name: string;
  store: () => ConfigStore;
  seed: () => Promise<void>;
}): void {
  describe('importConfig', () => {
    it('upserts ads and placements, replaces target sets, counts each, bumps the revision once', async () => {
      const store = ctx.store();
      await ctx.seed();
      const rev = await store.revision();
      const a2 = makeAd('a', { name: 'renamed', status: 'paused', createdAt: T2, updatedAt: T2 });
      const d = makeAd('d', { targeting: { key: 'country', in: ['DE'] }, createdAt: T2, updatedAt: T2 });
      const p1 = makePlacement('p1', { name: 'renamed', fallbackAdId: 'd', createdAt: T2, updatedAt: T2 });
      const p2 = makePlacement('p2', {
        window: { lengthHours: 6, timeZone: 'Europe/Berlin' },
        createdAt: T2,
      });
      const result = await store.importConfig(
        batch({
          ads: [a2, d],
          placements: [p1, p2],
          targets: [
            { placementId: 'p2', targets: targets(['d', 0.5], ['a', 0.2]) },
            { placementId: 'p1', targets: targets(['c', 1]) },
          ],
        }),
      );
      expect(result).toEqual({
        revision: rev + 1,
        adsCreated: 1,
        adsUpdated: 1,
        placementsCreated: 1,
        placementsUpdated: 1,
      });
      expect(await store.revision()).toBe(rev + 1);
      // Replaced rows keep their createdAt; new ones take the batch's.
      expect(await store.getAd('a')).toEqual({ ...a2, createdAt: T0 });
      expect(await store.getAd('d')).toEqual(d);
      expect(await store.getAd('b')).toEqual(makeAd('b'));
      expect(await store.getPlacement('p1')).toEqual({ ...p1, createdAt: T0 });
      expect(await store.getPlacement('p2')).toEqual(p2);
      expect(await store.getTargets('p1')).toEqual({
        placementId: 'p1',
        version: 2,
        targets: targets(['c', 1]),
        updatedAt: T2,
      });
      expect(await store.getTargets('p2')).toEqual({
        placementId: 'p2',
        version: 1,
        targets: targets(['d', 0.5], ['a', 0.2]),
        updatedAt: T2,
      });
      expect((await store.snapshot()).revision).toBe(rev + 1);
    });

    it('keeps the targets of placements it replaces without a target set', async () => {
      const store = ctx.store();
      await ctx.seed();
      const before = await store.getTargets('p1');
      await store.importConfig(
        batch({ placements: [makePlacement('p1', { name: 'x', fallbackAdId: 'c' })] }),
      );
      expect(await store.getTargets('p1')).toEqual(before);
      expect((await store.getPlacement('p1'))!.name).toBe('x');
    });

    it('targets and fallbacks may name ads and placements created in the same batch', async () => {
      const store = ctx.store();
      const result = await store.importConfig(
        batch({
          ads: [makeAd('n1'), makeAd('n2'), makeAd('house')],
          placements: [makePlacement('np', { fallbackAdId: 'house' })],
          targets: [{ placementId: 'np', targets: targets(['n2', 0.3], ['n1', 0.6]) }],
        }),
      );
      expect(result).toMatchObject({ revision: 1, adsCreated: 3, placementsCreated: 1 });
      expect((await store.getTargets('np'))!.targets).toEqual(targets(['n2', 0.3], ['n1', 0.6]));
      // The references are real: the ads are now in use.
      const err = await store.deleteAd('n1').catch((e: unknown) => e);
      expect((err as AllotError).code).toBe('ALLOT_ERR_IN_USE');
    });

    it('a reference to an ad or placement in neither store nor batch fails, listing each, and writes nothing', async () => {
      const store = ctx.store();
      await ctx.seed();
      const before = await everything(store);
      const err = await store
        .importConfig(
          batch({
            ads: [makeAd('new1'), makeAd('a', { name: 'changed' })],
            placements: [makePlacement('p3', { fallbackAdId: 'ghost' }), makePlacement('p1', { name: 'x' })],
            targets: [
              { placementId: 'p1', targets: targets(['new1', 0.1], ['ghost2', 0.1], ['a', 0.1]) },
              { placementId: 'nowhere', targets: [] },
            ],
          }),
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AllotError);
      expect((err as AllotError).code).toBe('ALLOT_ERR_VALIDATION');
      expect((err as AllotError).problems.map((p) => p.path)).toEqual([
        '/placements/0/fallbackAdId',
        '/targets/0/targets/1/adId',
        '/targets/1/placementId',
      ]);
      expect((err as AllotError).problems[1]!.message).toContain('ghost2');
      expect(await everything(store)).toEqual(before);
    });

    it('ids repeated within the batch fail and write nothing', async () => {
      const store = ctx.store();
      await ctx.seed();
      const before = await everything(store);
      const err = await store
        .importConfig(
          batch({
            ads: [makeAd('x'), makeAd('y'), makeAd('x')],
            placements: [makePlacement('q'), makePlacement('q')],
            targets: [
              { placementId: 'p1', targets: targets(['a', 0.1], ['a', 0.2]) },
              { placementId: 'p1', targets: [] },
            ],
          }),
        )
        .catch((e: unknown) => e);
      expect((err as AllotError).code).toBe('ALLOT_ERR_VALIDATION');
      expect((err as AllotError).problems.map((p) => p.path)).toEqual([
        '/ads/2/id',
        '/placements/1/id',
        '/targets/1/placementId',
        '/targets/0/targets/1/adId',
      ]);
      expect(await everything(store)).toEqual(before);
    });

    it('existingIds: which of the given ids the store holds', async () => {
      const store = ctx.store();
      await ctx.seed();
      const found = await store.existingIds({ ads: ['a', 'zz', 'c', 'a'], placements: ['p1', 'p9'] });
      expect([...found.ads].sort()).toEqual(['a', 'c']);
      expect([...found.placements]).toEqual(['p1']);
      const none = await store.existingIds({ ads: [], placements: [] });
      expect(none.ads.size + none.placements.size).toBe(0);
    });

    it('an empty batch writes nothing', async () => {
      const store = ctx.store();
      await ctx.seed();
      const rev = await store.revision();
      expect(await store.importConfig(batch({}))).toEqual({
        revision: rev,
        adsCreated: 0,
        adsUpdated: 0,
        placementsCreated: 0,
        placementsUpdated: 0,
      });
      expect(await store.revision()).toBe(rev);
    });

    it('takes 10,000 ads in one batch, then replaces them all', async () => {
      const store = ctx.store();
      const ids = Array.from({ length: 10_000 }, (_, i) => `bulk-${String(i).padStart(5, '0')}`);
      const ads = ids.map((id) => makeAd(id, { targeting: { key: 'slot', in: [id] } }));
      const set = { placementId: 'big', targets: ids.slice(0, 500).map((adId) => ({ adId, share: 0.001 })) };
      let t0 = performance.now();
      const created = await store.importConfig(
        batch({ ads, placements: [makePlacement('big')], targets: [set] }),
      );
      const createMs = performance.now() - t0;
      expect(created).toEqual({
        revision: 1,
        adsCreated: 10_000,
        adsUpdated: 0,
        placementsCreated: 1,
        placementsUpdated: 0,
      });
      t0 = performance.now();
      const renamed = ads.map((a) => ({ ...a, name: `${a.name} v2`, createdAt: T1, updatedAt: T1 }));
      const updated = await store.importConfig(batch({ ads: renamed, targets: [set] }));
      const updateMs = performance.now() - t0;
      expect(updated).toMatchObject({ revision: 2, adsCreated: 0, adsUpdated: 10_000 });
      const listed = await store.listAds();
      expect(listed).toHaveLength(10_000);
      expect(listed[9_999]).toEqual({ ...renamed[9_999], createdAt: T0 });
      expect((await store.getTargets('big'))!.version).toBe(2);
      // A figure for the record, not a bound: timings on a shared machine would flake.
      console.log(
        `[${ctx.name}] importConfig of 10,000 ads + 500 targets: create ${createMs.toFixed(0)} ms, replace ${updateMs.toFixed(0)} ms`,
      );
    });
  });
}

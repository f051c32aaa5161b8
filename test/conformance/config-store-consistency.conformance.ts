import { describe, expect, it } from 'vitest';
import type { ConfigStore } from '../../src/core/ports/config-store.js';
import { makeAd } from '../support/fixtures.js';
import type { ConfigStoreFixture } from './config-store.conformance.js';
import { makePlacement, T1, targets, unsetTargets } from './config-store-fixtures.js';

/**
 * The ConfigStore contract's consistency half (revision, snapshot, lifecycle, several
 * instances), run inside `describeConfigStoreConformance` with its fixture.
 */
export function describeConfigStoreConsistency(ctx: {
  store: () => ConfigStore;
  fixture: () => ConfigStoreFixture | undefined;
  seed: () => Promise<void>;
}): void {
  describe('revision', () => {
    it('every successful write bumps it by exactly 1; failed and no-op writes do not', async () => {
      const store = ctx.store();
      const steps: Array<[string, () => Promise<unknown>, number]> = [
        ['createAd', () => store.createAd(makeAd('a')), 1],
        ['createAd b', () => store.createAd(makeAd('b')), 1],
        ['updateAd', () => store.updateAd(makeAd('a', { name: 'x' })), 1],
        ['createPlacement', () => store.createPlacement(makePlacement('p1', { fallbackAdId: 'b' })), 1],
        ['updatePlacement', () => store.updatePlacement(makePlacement('p1', { name: 'y' })), 1],
        ['putTargets', () => store.putTargets('p1', targets(['a', 1]), T1), 1],
        ['failed createAd', () => store.createAd(makeAd('a')).catch(() => null), 0],
        ['failed deleteAd', () => store.deleteAd('a').catch(() => null), 0],
        ['failed putTargets', () => store.putTargets('p1', targets(['q', 1]), T1).catch(() => 0), 0],
        ['unknown updateAd', () => store.updateAd(makeAd('zz')), 0],
        ['unknown deletePlacement', () => store.deletePlacement('zz'), 0],
        ['deletePlacement', () => store.deletePlacement('p1'), 1],
        ['deleteAd', () => store.deleteAd('a'), 1],
      ];
      let expected = 0;
      for (const [label, step, delta] of steps) {
        await step();
        expected += delta;
        expect({ label, revision: await store.revision() }).toEqual({ label, revision: expected });
      }
    });

    it('counts concurrent writes exactly', async () => {
      const store = ctx.store();
      const ids = Array.from({ length: 20 }, (_, i) => `ad-${String(i).padStart(2, '0')}`);
      await Promise.all(ids.map((id) => store.createAd(makeAd(id))));
      expect(await store.revision()).toBe(20);
      expect((await store.listAds()).map((a) => a.id)).toEqual(ids);
    });
  });

  describe('snapshot', () => {
    it('holds everything, sorted, with a target set for every placement', async () => {
      const store = ctx.store();
      await ctx.seed();
      await store.createPlacement(makePlacement('p0'));
      const snap = await store.snapshot();
      expect(snap.revision).toBe(await store.revision());
      expect(snap.revision).toBe(6);
      expect(snap.ads).toEqual([makeAd('a'), makeAd('b'), makeAd('c')]);
      expect(snap.placements).toEqual([makePlacement('p0'), makePlacement('p1', { fallbackAdId: 'c' })]);
      expect(snap.targets).toEqual([
        unsetTargets('p0'),
        {
          placementId: 'p1',
          version: 1,
          targets: targets(['b', 0.25], ['a', 0.5]),
          updatedAt: T1,
        },
      ]);
    });

    it('is consistent while writes run', async () => {
      const store = ctx.store();
      await store.createPlacement(makePlacement('p1'));
      const writes = Array.from({ length: 10 }, (_, i) => store.createAd(makeAd(`w${i}`)));
      const snaps = await Promise.all(Array.from({ length: 5 }, () => store.snapshot()));
      await Promise.all(writes);
      for (const snap of snaps) {
        // One placement write plus one per ad visible in the same snapshot.
        expect(snap.revision).toBe(1 + snap.ads.length);
      }
    });
  });

  describe('lifecycle', () => {
    it('close() releases the store; later calls fail and close() may repeat', async () => {
      const store = ctx.store();
      await store.createAd(makeAd('a'));
      await store.close();
      await expect(store.revision()).rejects.toThrow();
      await store.close();
    });

    it('a second instance on the same data sees every write', async (testCtx) => {
      const store = ctx.store();
      const fx = ctx.fixture();
      if (!fx?.openAnother) {
        testCtx.skip();
        return;
      }
      const other = await fx.openAnother();
      try {
        await ctx.seed();
        expect(await other.revision()).toBe(await store.revision());
        expect(await other.snapshot()).toEqual(await store.snapshot());
        await other.createAd(makeAd('from-other'));
        expect(await store.getAd('from-other')).toEqual(makeAd('from-other'));
        expect(await store.revision()).toBe(6);
        // Writers on both instances interleave without losing revision bumps.
        await Promise.all([
          ...Array.from({ length: 5 }, (_, i) => store.createAd(makeAd(`s${i}`))),
          ...Array.from({ length: 5 }, (_, i) => other.createAd(makeAd(`o${i}`))),
        ]);
        expect(await store.revision()).toBe(16);
        expect(await other.revision()).toBe(16);
      } finally {
        await other.close();
      }
    });
  });
}

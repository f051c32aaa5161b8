import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AllotError, type ErrorCode } from '../../src/core/errors.js';
import type { ConfigStore } from '../../src/core/ports/config-store.js';
import { makeAd } from '../support/fixtures.js';
import { describeConfigStoreConsistency } from './config-store-consistency.conformance.js';
import { makePlacement, T0, T1, targets, unsetTargets } from './config-store-fixtures.js';
import { describeConfigStoreImport } from './config-store-import.conformance.js';

export interface ConfigStoreFixture {
  store: ConfigStore;
  cleanup: () => Promise<void>;
  /** Opens a second store on the same data (same file / schema); omit when there is none (':memory:'). */
  openAnother?: () => Promise<ConfigStore>;
}

async function expectAllotError(promise: Promise<unknown>, code: ErrorCode): Promise<AllotError> {
  const err = await promise.then(
    () => {
      throw new Error(`expected ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AllotError);
  expect((err as AllotError).code).toBe(code);
  return err as AllotError;
}

/** The `ConfigStore` contract (src/core/ports/config-store.ts); every adapter must pass it. */
export function describeConfigStoreConformance(
  name: string,
  factory: () => Promise<ConfigStoreFixture>,
): void {
  describe(`ConfigStore conformance: ${name}`, () => {
    let fx: ConfigStoreFixture | undefined;
    let store: ConfigStore;

    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
    });
    afterEach(async () => {
      // Reset first so a failing factory in the next test does not clean this fixture twice.
      const done = fx;
      fx = undefined;
      await done?.cleanup();
    });

    /** Creates ads a, b, c and placement p1 with fallback c and targets [b, a]. */
    async function seed(): Promise<void> {
      for (const id of ['a', 'b', 'c']) await store.createAd(makeAd(id));
      await store.createPlacement(makePlacement('p1', { fallbackAdId: 'c' }));
      await store.putTargets('p1', targets(['b', 0.25], ['a', 0.5]), T1);
    }

    describe('a fresh store', () => {
      it('is empty at revision 0', async () => {
        expect(await store.revision()).toBe(0);
        expect(await store.listAds()).toEqual([]);
        expect(await store.listPlacements()).toEqual([]);
        expect(await store.snapshot()).toEqual({ revision: 0, ads: [], placements: [], targets: [] });
      });

      it('returns null / false for unknown ids', async () => {
        expect(await store.getAd('nope')).toBeNull();
        expect(await store.getPlacement('nope')).toBeNull();
        expect(await store.getTargets('nope')).toBeNull();
        expect(await store.putTargets('nope', [], T1)).toBeNull();
        expect(await store.updateAd(makeAd('nope'))).toBeNull();
        expect(await store.updatePlacement(makePlacement('nope'))).toBeNull();
        expect(await store.deleteAd('nope')).toBe(false);
        expect(await store.deletePlacement('nope')).toBe(false);
        expect(await store.revision()).toBe(0);
      });
    });

    describe('ads', () => {
      it('round-trips every field exactly', async () => {
        const rich = makeAd('rich', {
          creative: { type: 'html', html: '<b>"hi" ü 🎉</b>\n', height: 90 },
          targeting: {
            all: [
              { key: 'country', in: ['DE', 'AT'] },
              { any: [{ key: 'age', gte: 18.5 }, { not: { key: 'loggedIn', exists: true } }] },
              { key: 'tier', notIn: [1, true, 'x'] },
            ],
          },
          frequencyCap: { impressions: 3, windowSeconds: 86_400 },
          startAt: '2024-06-01T00:00:00.000Z',
          endAt: '2024-07-01T00:00:00Z',
          status: 'paused',
          createdAt: '2024-05-01T10:00:00+02:00',
          updatedAt: '2024-05-03T00:00:00.123456Z',
        });
        const plain = makeAd('plain');
        expect(await store.createAd(rich)).toEqual(rich);
        expect(await store.createAd(plain)).toEqual(plain);
        expect(await store.getAd('rich')).toEqual(rich);
        expect(await store.getAd('plain')).toEqual(plain);
        expect(Object.keys((await store.getAd('rich'))!).sort()).toEqual(Object.keys(rich).sort());
      });

      it('lists ads sorted by id', async () => {
        for (const id of ['m', 'B', 'a', 'z-1', 'z']) await store.createAd(makeAd(id));
        expect((await store.listAds()).map((a) => a.id)).toEqual(['B', 'a', 'm', 'z', 'z-1']);
      });

      it('returns copies the caller owns', async () => {
        const ad = makeAd('a', { targeting: { key: 'country', in: ['DE'] } });
        const created = await store.createAd(ad);
        created.name = 'changed';
        ad.name = 'changed too';
        const read = (await store.getAd('a'))!;
        expect(read.name).toBe('Ad a');
        (read.targeting as { in: string[] }).in.push('FR');
        expect((await store.getAd('a'))!.targeting).toEqual({ key: 'country', in: ['DE'] });
        (await store.listAds())[0]!.name = 'changed';
        expect((await store.getAd('a'))!.name).toBe('Ad a');
      });

      it('rejects an existing id with CONFLICT and writes nothing', async () => {
        await store.createAd(makeAd('a'));
        await expectAllotError(store.createAd(makeAd('a', { name: 'other' })), 'ALLOT_ERR_CONFLICT');
        expect((await store.getAd('a'))!.name).toBe('Ad a');
        expect(await store.listAds()).toHaveLength(1);
        expect(await store.revision()).toBe(1);
      });

      it('updateAd replaces the stored ad', async () => {
        await store.createAd(makeAd('a', { frequencyCap: { impressions: 1, windowSeconds: 60 } }));
        const next = makeAd('a', {
          name: 'renamed',
          creative: { type: 'html', html: '<i>x</i>' },
          frequencyCap: null,
          updatedAt: T1,
        });
        expect(await store.updateAd(next)).toEqual(next);
        expect(await store.getAd('a')).toEqual(next);
        expect(await store.revision()).toBe(2);
      });

      it('deleteAd removes an unused ad', async () => {
        await store.createAd(makeAd('a'));
        expect(await store.deleteAd('a')).toBe(true);
        expect(await store.getAd('a')).toBeNull();
        expect(await store.deleteAd('a')).toBe(false);
        expect(await store.revision()).toBe(2);
      });

      it('deleteAd of a targeted ad fails with IN_USE and deletes nothing', async () => {
        await seed();
        await store.createPlacement(makePlacement('p2'));
        await store.putTargets('p2', targets(['a', 1]), T1);
        const rev = await store.revision();
        const err = await expectAllotError(store.deleteAd('a'), 'ALLOT_ERR_IN_USE');
        expect(err.problems.map((p) => p.path)).toEqual(['/placements/p1', '/placements/p2']);
        expect(await store.getAd('a')).not.toBeNull();
        expect((await store.getTargets('p1'))!.targets).toHaveLength(2);
        expect(await store.revision()).toBe(rev);
      });

      it('deleteAd of a fallback ad fails with IN_USE', async () => {
        await seed();
        const err = await expectAllotError(store.deleteAd('c'), 'ALLOT_ERR_IN_USE');
        expect(err.problems).toHaveLength(1);
        expect(err.problems[0]!.path).toBe('/placements/p1');
        expect(err.problems[0]!.message).toContain('p1');
        expect(await store.getAd('c')).not.toBeNull();
      });

      it('an ad no longer referenced can be deleted', async () => {
        await seed();
        await store.putTargets('p1', targets(['b', 1]), T1);
        expect(await store.deleteAd('a')).toBe(true);
        await store.updatePlacement(makePlacement('p1', { fallbackAdId: null }));
        expect(await store.deleteAd('c')).toBe(true);
        expect((await store.listAds()).map((a) => a.id)).toEqual(['b']);
      });
    });

    describe('placements', () => {
      it('creates, reads, lists sorted, updates and deletes', async () => {
        await store.createAd(makeAd('house'));
        const p2 = makePlacement('p2', {
          fallbackAdId: 'house',
          window: { lengthHours: 6, timeZone: 'Europe/Berlin' },
        });
        const p1 = makePlacement('p1');
        expect(await store.createPlacement(p2)).toEqual(p2);
        expect(await store.createPlacement(p1)).toEqual(p1);
        expect(await store.getPlacement('p2')).toEqual(p2);
        expect(await store.listPlacements()).toEqual([p1, p2]);

        const renamed = makePlacement('p1', {
          name: 'Sidebar',
          fallbackAdId: 'house',
          window: { lengthHours: 48, timeZone: 'America/New_York' },
          updatedAt: T1,
        });
        expect(await store.updatePlacement(renamed)).toEqual(renamed);
        expect(await store.getPlacement('p1')).toEqual(renamed);

        expect(await store.deletePlacement('p1')).toBe(true);
        expect(await store.getPlacement('p1')).toBeNull();
        expect(await store.listPlacements()).toEqual([p2]);
        expect(await store.revision()).toBe(5);
      });

      it('rejects an existing id with CONFLICT and writes nothing', async () => {
        await store.createPlacement(makePlacement('p1'));
        await expectAllotError(
          store.createPlacement(makePlacement('p1', { name: 'x' })),
          'ALLOT_ERR_CONFLICT',
        );
        expect((await store.getPlacement('p1'))!.name).toBe('Placement p1');
        expect(await store.revision()).toBe(1);
      });

      it('rejects an unknown fallback ad on create', async () => {
        const err = await expectAllotError(
          store.createPlacement(makePlacement('p1', { fallbackAdId: 'ghost' })),
          'ALLOT_ERR_VALIDATION',
        );
        expect(err.problems).toEqual([{ path: '/fallbackAdId', message: expect.any(String) }]);
        expect(await store.getPlacement('p1')).toBeNull();
        expect(await store.revision()).toBe(0);
      });

      it('rejects an unknown fallback ad on update and keeps the placement', async () => {
        await store.createPlacement(makePlacement('p1'));
        const err = await expectAllotError(
          store.updatePlacement(makePlacement('p1', { name: 'x', fallbackAdId: 'ghost' })),
          'ALLOT_ERR_VALIDATION',
        );
        expect(err.problems.map((p) => p.path)).toEqual(['/fallbackAdId']);
        expect(await store.getPlacement('p1')).toEqual(makePlacement('p1'));
        expect(await store.revision()).toBe(1);
      });

      it('updatePlacement keeps the targets', async () => {
        await seed();
        const before = await store.getTargets('p1');
        await store.updatePlacement(makePlacement('p1', { name: 'renamed' }));
        expect(await store.getTargets('p1')).toEqual(before);
      });

      it('deletePlacement removes its targets too', async () => {
        await seed();
        expect(await store.deletePlacement('p1')).toBe(true);
        expect(await store.getTargets('p1')).toBeNull();
        // Nothing references the ads any more.
        expect(await store.deleteAd('a')).toBe(true);
        expect(await store.deleteAd('c')).toBe(true);
        await store.createPlacement(makePlacement('p1'));
        expect(await store.getTargets('p1')).toEqual(unsetTargets('p1'));
      });
    });

    describe('targets', () => {
      it('are empty at version 0 until set', async () => {
        await store.createPlacement(makePlacement('p1'));
        expect(await store.getTargets('p1')).toEqual(unsetTargets('p1'));
      });

      it('keep their order, bump the version and store updatedAt', async () => {
        for (const id of ['a', 'b', 'c']) await store.createAd(makeAd(id));
        await store.createPlacement(makePlacement('p1'));
        const first = targets(['c', 1 / 3], ['a', 0], ['b', 0.1]);
        const expected1 = { placementId: 'p1', version: 1, targets: first, updatedAt: T0 };
        expect(await store.putTargets('p1', first, T0)).toEqual(expected1);
        expect(await store.getTargets('p1')).toEqual(expected1);

        const second = targets(['b', 1]);
        const expected2 = { placementId: 'p1', version: 2, targets: second, updatedAt: T1 };
        expect(await store.putTargets('p1', second, T1)).toEqual(expected2);
        expect(await store.getTargets('p1')).toEqual(expected2);

        expect(await store.putTargets('p1', [], T1)).toEqual({ ...expected2, version: 3, targets: [] });
        expect(await store.revision()).toBe(7);
      });

      it('returned targets are copies', async () => {
        await seed();
        const input = targets(['a', 0.5]);
        const put = (await store.putTargets('p1', input, T1))!;
        input[0]!.share = 0.9;
        put.targets[0]!.share = 0.8;
        expect((await store.getTargets('p1'))!.targets).toEqual(targets(['a', 0.5]));
      });

      it('a put naming unknown ads fails, listing each, and keeps the previous targets', async () => {
        await seed();
        const before = await store.getTargets('p1');
        const rev = await store.revision();
        const err = await expectAllotError(
          store.putTargets(
            'p1',
            targets(['ghost1', 0.1], ['a', 0.1], ['ghost2', 0.1]),
            '2030-01-01T00:00:00.000Z',
          ),
          'ALLOT_ERR_VALIDATION',
        );
        expect(err.problems.map((p) => p.path)).toEqual(['/targets/0/adId', '/targets/2/adId']);
        expect(err.problems[0]!.message).toContain('ghost1');
        expect(await store.getTargets('p1')).toEqual(before);
        expect(await store.revision()).toBe(rev);
      });

      it('a put naming an ad twice fails with VALIDATION and writes nothing', async () => {
        await seed();
        const before = await store.getTargets('p1');
        const err = await expectAllotError(
          store.putTargets('p1', targets(['a', 0.1], ['a', 0.2]), T1),
          'ALLOT_ERR_VALIDATION',
        );
        expect(err.problems.map((p) => p.path)).toEqual(['/targets/1/adId']);
        expect(await store.getTargets('p1')).toEqual(before);
      });
    });

    describeConfigStoreConsistency({ store: () => store, fixture: () => fx, seed });
    describeConfigStoreImport({ name, store: () => store, seed });
  });
}

import { afterEach, describe, expect, it } from 'vitest';
import type { AllocationReport, PlacementWeights } from '../../src/core/allocation/allocation-report.js';
import type { AllocationStateStore } from '../../src/core/ports/allocation-state-store.js';

export interface AllocationStateStoreFixture {
  store: AllocationStateStore;
  cleanup: () => Promise<void>;
}

const weightsOf = (targetsVersion: number, pairs: Array<[string, number]>): PlacementWeights => ({
  targetsVersion,
  weights: new Map(pairs),
});

/** A report with every kind of value a report carries: nested state, nulls, strings, fractions. */
function makeReport(overrides: Partial<AllocationReport> = {}): AllocationReport {
  return {
    adIds: ['a', 'b', 'fallback'],
    targetsVersion: 3,
    atMs: 1_780_000_000_123,
    samples: 4711,
    state: {
      adIds: ['a', 'b', 'fallback'],
      correction: [1.25, 0.8, 1],
      expected: null,
      weights: [0.5, 0.3, 0.2],
    },
    weights: [0.5, 0.3, 0.2],
    renderRates: [0.97, 1, 0.5],
    achievable: [0.4, 0.1, 0.5],
    limits: [null, 'targeting', 'overbooked'],
    feasible: false,
    desired: [0.45, 0.1, 0.45],
    ...overrides,
  };
}

/** Any version that can never be current: the read always returns the state. */
const ANY = -1;

/** The `AllocationStateStore` contract (src/core/ports/allocation-state-store.ts). */
export function describeAllocationStateStoreConformance(
  name: string,
  factory: () => Promise<AllocationStateStoreFixture>,
): void {
  describe(`AllocationStateStore conformance: ${name}`, () => {
    const open: AllocationStateStoreFixture[] = [];
    const create = async (): Promise<AllocationStateStore> => {
      const fx = await factory();
      open.push(fx);
      return fx.store;
    };
    afterEach(async () => {
      for (const fx of open.splice(0)) {
        await fx.store.close();
        await fx.cleanup();
      }
    });

    it('watch hears each publish: its version and the weights it published', async () => {
      const store = await create();
      const heard: Array<[number, Record<string, number>]> = [];
      const stop = await store.watch((version, weights) => {
        for (const [id, w] of weights) heard.push([version, { [id]: w.weights.get('a') ?? -1 }]);
        if (weights.size === 0) heard.push([version, {}]);
      });
      await store.publish(new Map([['p', weightsOf(1, [['a', 0.25]])]]), new Map());
      await store.publish(new Map([['q', weightsOf(2, [['a', 0.75]])]]), new Map([['q', makeReport()]]));
      const end = Date.now() + 5000;
      while (heard.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(heard).toEqual([
        [1, { p: 0.25 }],
        [2, { q: 0.75 }],
      ]);
      await stop();
      await store.publish(new Map([['p', weightsOf(3, [['a', 1]])]]), new Map());
      await new Promise((r) => setTimeout(r, 100));
      expect(heard).toHaveLength(2);
      expect((await store.readWeights(ANY))?.version).toBe(3);
    });

    it('starts empty at version 0', async () => {
      const store = await create();
      expect(await store.readWeights(0)).toBeNull();
      expect(await store.readWeights(ANY)).toEqual({ version: 0, weights: new Map() });
      expect(await store.readReport('p')).toBeNull();
    });

    it('bumps the version on publish and answers null while it is unchanged', async () => {
      const store = await create();
      await store.publish(
        new Map([
          [
            'p',
            weightsOf(1, [
              ['a', 0.75],
              ['b', 0.25],
            ]),
          ],
        ]),
        new Map(),
      );
      const first = await store.readWeights(0);
      expect(first).toEqual({
        version: 1,
        weights: new Map([
          [
            'p',
            weightsOf(1, [
              ['a', 0.75],
              ['b', 0.25],
            ]),
          ],
        ]),
      });
      expect(await store.readWeights(1)).toBeNull();
      await store.publish(new Map([['p', weightsOf(2, [['a', 1]])]]), new Map());
      const second = await store.readWeights(1);
      expect(second?.version).toBe(2);
      expect(second?.weights.get('p')).toEqual(weightsOf(2, [['a', 1]]));
      expect(await store.readWeights(2)).toBeNull();
    });

    it('a partial publish keeps the other placements', async () => {
      const store = await create();
      await store.publish(
        new Map([
          ['p', weightsOf(1, [['a', 1]])],
          [
            'q',
            weightsOf(7, [
              ['x', 0.5],
              ['y', 0.5],
            ]),
          ],
        ]),
        new Map([
          ['p', makeReport({ samples: 1 })],
          ['q', makeReport({ samples: 2 })],
        ]),
      );
      await store.publish(
        new Map([['p', weightsOf(2, [['b', 1]])]]),
        new Map([['p', makeReport({ samples: 3 })]]),
      );
      const read = await store.readWeights(ANY);
      expect(read?.version).toBe(2);
      expect(read?.weights).toEqual(
        new Map([
          ['p', weightsOf(2, [['b', 1]])],
          [
            'q',
            weightsOf(7, [
              ['x', 0.5],
              ['y', 0.5],
            ]),
          ],
        ]),
      );
      expect((await store.readReport('p'))?.samples).toBe(3);
      expect((await store.readReport('q'))?.samples).toBe(2);
    });

    it('round-trips reports exactly, including arrays and nulls', async () => {
      const store = await create();
      const full = makeReport();
      const other = makeReport({
        adIds: [],
        limits: [],
        weights: [],
        state: { adIds: [], correction: [], expected: [0.2, 0.8], weights: [] },
        feasible: true,
      });
      await store.publish(
        new Map(),
        new Map([
          ['p', full],
          ['q', other],
        ]),
      );
      expect(await store.readReport('p')).toEqual(full);
      expect(await store.readReport('q')).toEqual(other);
      expect(await store.readReport('unknown')).toBeNull();
    });

    it('copies: neither the publisher nor a reader can change what is stored', async () => {
      const store = await create();
      const report = makeReport();
      const weights = weightsOf(1, [['a', 1]]);
      await store.publish(new Map([['p', weights]]), new Map([['p', report]]));
      report.weights[0] = 99;
      (weights.weights as Map<string, number>).set('a', 99);
      const read = (await store.readReport('p'))!;
      expect(read.weights[0]).toBe(0.5);
      read.limits[0] = 'frequencyCap';
      read.state.correction.push(7);
      expect(await store.readReport('p')).toEqual(makeReport());
      const w = (await store.readWeights(ANY))!.weights;
      expect(w.get('p')?.weights.get('a')).toBe(1);
      w.delete('p');
      expect((await store.readWeights(ANY))!.weights.has('p')).toBe(true);
    });

    it('forget drops weights and reports of the given placements and bumps the version', async () => {
      const store = await create();
      await store.publish(
        new Map([
          ['p', weightsOf(1, [['a', 1]])],
          ['q', weightsOf(1, [['b', 1]])],
        ]),
        new Map([
          ['p', makeReport()],
          ['q', makeReport()],
        ]),
      );
      await store.forget(['p', 'never-published']);
      const read = await store.readWeights(1);
      expect(read?.version).toBe(2);
      expect([...read!.weights.keys()]).toEqual(['q']);
      expect(await store.readReport('p')).toBeNull();
      expect(await store.readReport('q')).toEqual(makeReport());
      await expect(store.forget([])).resolves.toBeUndefined();
      expect((await store.readWeights(ANY))?.weights.has('q')).toBe(true);
    });

    it('concurrent publishes each bump the version once and all land', async () => {
      const store = await create();
      const before = (await store.readWeights(ANY))!.version;
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.publish(
            new Map([[`p${i}`, weightsOf(i, [['a', i]])]]),
            new Map([[`p${i}`, makeReport({ samples: i })]]),
          ),
        ),
      );
      const after = (await store.readWeights(before))!;
      expect(after.version).toBe(before + 10);
      expect(after.weights.size).toBe(10);
      for (let i = 0; i < 10; i++) {
        expect(after.weights.get(`p${i}`)).toEqual(weightsOf(i, [['a', i]]));
        expect((await store.readReport(`p${i}`))?.samples).toBe(i);
      }
    });
  });
}

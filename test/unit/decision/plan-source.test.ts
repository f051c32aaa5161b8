import { describe, expect, it } from 'vitest';
import type { ConfigSnapshot } from '../../../src/core/domain/config-snapshot.js';
import { compilePlan } from '../../../src/core/plan/compile-plan.js';
import type { Plan } from '../../../src/core/plan/plan.js';
import type { ConfigStore } from '../../../src/core/ports/config-store.js';
import { createPlanSource } from '../../../src/decision/plan-source.js';
import { makePlacement } from '../../conformance/config-store-fixtures.js';
import { makeAd } from '../../support/fixtures.js';

/** A config store whose revision the test moves, counting snapshot reads; reads take `readMs`. */
function fakeStore(readMs: number) {
  const state = { revision: 1, snapshots: 0, loads: 0 };
  const store = {
    revision: async () => {
      state.loads++;
      return state.revision;
    },
    snapshot: async (): Promise<ConfigSnapshot> => {
      const revision = state.revision;
      state.snapshots++;
      await new Promise((r) => setTimeout(r, readMs));
      return { revision, ads: [], placements: [], targets: [] };
    },
  } as unknown as ConfigStore;
  return { store, state };
}

describe('plan source refresh', () => {
  it('coalesces a burst of concurrent refreshes into the running load plus one', async () => {
    const { store, state } = fakeStore(20);
    const source = createPlanSource({ store, pollMs: 60_000 });
    await source.refresh();
    expect(source.current().revision).toBe(1);
    expect(state.snapshots).toBe(1);
    expect(state.loads).toBe(1);

    // 50 writes land while a load runs; each awaits its refresh (read-your-writes).
    state.revision = 2;
    const first = source.refresh();
    await new Promise((r) => setTimeout(r, 5)); // the first load is reading revision 2
    const burst = Array.from({ length: 50 }, (_, i) => {
      state.revision = 3 + i;
      return source.refresh();
    });
    await Promise.all([first, ...burst]);
    // The initial load, the running one, and one queued for the whole burst.
    expect(state.loads).toBe(3);
    expect(state.snapshots).toBe(3);
    expect(source.current().revision).toBe(52);
  });

  it('resolves a refresh only after a load that began after the call (the write is visible)', async () => {
    const { store, state } = fakeStore(30);
    const source = createPlanSource({ store, pollMs: 60_000 });
    await source.refresh();
    state.revision = 2;
    const running = source.refresh(); // reads revision 2
    await new Promise((r) => setTimeout(r, 5)); // the load has read the revision and is reading
    state.revision = 3; // a write that the running load did not see
    await source.refresh();
    expect(source.current().revision).toBe(3);
    await running;
    expect(source.current().revision).toBe(3);
  });

  it('a failed load rejects its callers and does not block the next refresh', async () => {
    const { store, state } = fakeStore(5);
    let fail = true;
    const failing = {
      revision: store.revision,
      snapshot: () => (fail ? Promise.reject(new Error('store down')) : store.snapshot()),
    } as unknown as ConfigStore;
    const source = createPlanSource({ store: failing, pollMs: 60_000 });
    await expect(source.refresh()).rejects.toThrow('store down');
    fail = false;
    state.revision = 7;
    await source.refresh();
    expect(source.current().revision).toBe(7);
  });
});

describe('plan source compile', () => {
  it('compiles a large plan in slices: the event loop runs meanwhile, the result is the same plan', async () => {
    const ads = Array.from({ length: 50_000 }, (_, i) =>
      makeAd(`a${i}`, { targeting: { key: 'country', in: ['DE'] } }),
    );
    const snapshot: ConfigSnapshot = {
      revision: 7,
      ads,
      placements: [makePlacement('p', { fallbackAdId: 'a0' })],
      targets: [
        { placementId: 'p', version: 1, targets: [{ adId: 'a1', share: 0.5 }], updatedAt: ads[0]!.updatedAt },
      ],
    };
    const store = { revision: async () => 7, snapshot: async () => snapshot } as unknown as ConfigStore;
    const source = createPlanSource({ store, pollMs: 60_000 });
    let turns = 0;
    let compiling = true;
    const tick = () => {
      if (!compiling) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    await source.refresh();
    compiling = false;
    expect(turns).toBeGreaterThan(1);
    const plan = source.current();
    expect(plan.revision).toBe(7);
    expect(plan.ads.size).toBe(50_000);
    // Compiled targeting is a closure (compared by reference): compare everything else.
    const view = (p: Plan) => ({
      revision: p.revision,
      ads: [...p.ads.values()].map(({ matches: _m, ...ad }) => ad),
      placements: [...p.placements.values()].map(({ candidates, ...rest }) => ({
        ...rest,
        candidates: candidates.map((c) => c.id),
      })),
    });
    expect(view(plan)).toEqual(view(compilePlan(snapshot)));
    expect(plan.ads.get('a1')!.matches({ country: 'DE' })).toBe(true);
    expect(plan.ads.get('a1')!.matches({ country: 'FR' })).toBe(false);
  });
});

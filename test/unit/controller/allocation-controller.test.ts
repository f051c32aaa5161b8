import { describe, expect, it } from 'vitest';
import { createMemoryCounterStore } from '../../../src/adapters/memory/memory-counter-store.js';
import { createMemoryMixStore } from '../../../src/adapters/memory/memory-mix-store.js';
import { createAllocationController } from '../../../src/controller/allocation-controller.js';
import type { ConfigSnapshot } from '../../../src/core/domain/config-snapshot.js';
import { compilePlan } from '../../../src/core/plan/compile-plan.js';
import { addPlacement } from '../../support/fixtures.js';

/** `n` placements of 3 ads each, 40 % / 40 % targets. */
function bigPlan(n: number) {
  const snapshot: ConfigSnapshot = { revision: 1, ads: [], placements: [], targets: [] };
  for (let p = 0; p < n; p++) {
    addPlacement(
      snapshot,
      `p${p}`,
      [0, 1, 2].map((a) => `p${p}-a${a}`),
      [0.4, 0.4],
    );
  }
  return compilePlan(snapshot);
}

describe('allocation controller on a large plan', () => {
  it('gives the event loop turns during a long step, and steps every placement', async () => {
    const plan = bigPlan(2_000);
    const counters = createMemoryCounterStore();
    // Each placement's counter read costs ~50 µs of synchronous work: a 100 ms step in all.
    const slow = {
      ...counters,
      read: (...args: Parameters<typeof counters.read>) => {
        const end = performance.now() + 0.05;
        while (performance.now() < end);
        return counters.read(...args);
      },
    };
    let stepped = 0;
    const controller = createAllocationController({
      plan: () => plan,
      counters: slow,
      mix: createMemoryMixStore({ halfLifeMs: 3_600_000 }),
      now: () => Date.parse('2026-06-01T10:00:00Z'),
      intervalMs: 1000,
      publish: (update) => {
        stepped += update.size;
      },
    });
    // A timer due now stands for a decision request waiting for the event loop.
    let turns = 0;
    let finished = false;
    const tick = () => {
      if (finished) return;
      turns++;
      setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    const t0 = performance.now();
    await controller.step();
    finished = true;
    const ms = performance.now() - t0;
    expect(stepped).toBe(2_000);
    expect(ms).toBeGreaterThan(80);
    // Without yielding, the whole step would hold the loop: no turn at all until it ends.
    expect(turns).toBeGreaterThan(3);
  });

  it('skips a placement deleted while the step yielded', async () => {
    let plan = bigPlan(3_000);
    const counters = createMemoryCounterStore();
    let reads = 0;
    const controller = createAllocationController({
      plan: () => plan,
      counters: {
        ...counters,
        read: (...args: Parameters<typeof counters.read>) => {
          // Halfway through, the plan loses every placement but one (a manager deleted them).
          if (++reads === 1_500) plan = bigPlan(1);
          const end = performance.now() + 0.02;
          while (performance.now() < end);
          return counters.read(...args);
        },
      },
      mix: createMemoryMixStore({ halfLifeMs: 3_600_000 }),
      now: () => Date.parse('2026-06-01T10:00:00Z'),
      intervalMs: 1000,
      publish: () => undefined,
    });
    await expect(controller.step()).resolves.toBeUndefined();
    expect(reads).toBeGreaterThanOrEqual(1_500);
    expect(reads).toBeLessThan(3_000);
  });
});

import { describe, expect, it } from 'vitest';
import { createMemoryCounterStore } from '../../src/adapters/memory/memory-counter-store.js';
import { createMemoryMixStore } from '../../src/adapters/memory/memory-mix-store.js';
import {
  type AllocationReport,
  type ControlSolver,
  createAllocationController,
  type WeightUpdate,
} from '../../src/controller/allocation-controller.js';
import { startControlStepThread } from '../../src/controller/control-step-thread.js';
import type { ConfigSnapshot } from '../../src/core/domain/config-snapshot.js';
import { compilePlan } from '../../src/core/plan/compile-plan.js';
import { mulberry32 } from '../../src/core/random/mulberry32.js';
import { CAPPED, ELIGIBLE, NOT_MATCHED } from '../../src/core/selection/describe-eligibility.js';
import { addPlacement } from '../support/fixtures.js';

const T0 = Date.parse('2026-06-01T10:00:00Z');
const HOUR = 3_600_000;
const PLACEMENTS = 150; // two batches for the solver (100 per batch)
const ADS = 6;

/** `PLACEMENTS` placements of 6 ads: targets 20/15/10/10/5 %, the last ad the fallback. */
function plan() {
  const snapshot: ConfigSnapshot = { revision: 1, ads: [], placements: [], targets: [] };
  for (let p = 0; p < PLACEMENTS; p++) {
    const ids = Array.from({ length: ADS }, (_, a) => `p${p}-a${a}`);
    addPlacement(snapshot, `p${p}`, ids, [0.2, 0.15, 0.1, 0.1, 0.05]);
  }
  return compilePlan(snapshot);
}

/**
 * One world: a controller over memory stores fed the same pseudo-random traffic (eligibility
 * patterns, some ads capped or untargeted, render rates per ad), stepped `steps` times a second
 * apart; returns every published update and the reports after the last step.
 */
async function run(steps: number, solve?: ControlSolver, onSolveError?: (err: unknown) => void) {
  const p = plan();
  const counters = createMemoryCounterStore();
  const mix = createMemoryMixStore({ halfLifeMs: HOUR });
  let nowMs = T0;
  const published: WeightUpdate[] = [];
  let reports = new Map<string, AllocationReport>();
  const controller = createAllocationController({
    plan: () => p,
    counters,
    mix,
    now: () => nowMs,
    intervalMs: 1000,
    publish: (update, r) => {
      published.push(update);
      reports = new Map([...reports, ...r]);
    },
    ...(solve ? { solve } : {}),
    ...(onSolveError ? { onSolveError } : {}),
  });
  const rand = mulberry32(42);
  for (let s = 0; s < steps; s++) {
    for (const placement of p.placements.values()) {
      for (let r = 0; r < 40; r++) {
        let key = '';
        for (let a = 0; a < ADS; a++) {
          const x = rand();
          key += a === ADS - 1 || x < 0.6 ? ELIGIBLE : x < 0.7 ? CAPPED : NOT_MATCHED;
        }
        mix.record(placement.id, placement.candidateKey, placement.candidateIds, key, {}, nowMs);
      }
      await counters.add(
        placement.candidateIds.map((adId, a) => {
          const decisions = Math.floor(rand() * 50);
          return {
            placementId: placement.id,
            adId,
            bucketStartMs: T0,
            decisions,
            impressions: Math.floor(decisions * (0.5 + a * 0.08)),
            clicks: 0,
          };
        }),
      );
    }
    await controller.step();
    nowMs += 1000;
  }
  return { published, reports };
}

describe('the controller solver on a worker thread', () => {
  it('publishes exactly the weights and reports of the controller stepping on its own thread', async () => {
    const here = await run(4);
    const thread = await startControlStepThread();
    let calls = 0;
    const counted: ControlSolver = (jobs) => {
      calls++;
      return thread.solve(jobs);
    };
    const there = await run(4, counted);
    await thread.close();
    expect(calls).toBe(8); // 150 placements in batches of 100, 4 steps
    expect(there.published).toHaveLength(4);
    expect(there.published[3]!.size).toBe(PLACEMENTS);
    expect(there.published).toEqual(here.published);
    expect(there.reports).toEqual(here.reports);
    // Not a trivial fit: the weights differ between ads and change from step to step.
    const w = (u: WeightUpdate) => [...u.get('p7')!.weights.values()];
    expect(new Set(w(there.published[3]!).map((x) => x.toFixed(6))).size).toBeGreaterThan(3);
    expect(w(there.published[3]!)).not.toEqual(w(there.published[0]!));
  });

  it('a failing solver: the batch is stepped on the controller thread and the failure reported', async () => {
    const here = await run(2);
    const errors: unknown[] = [];
    const failing: ControlSolver = async () => {
      throw new Error('solver gone');
    };
    const there = await run(2, failing, (err) => errors.push(err));
    expect(errors).toHaveLength(4);
    expect(String(errors[0])).toMatch(/solver gone/);
    expect(there.published).toEqual(here.published);
  });

  it('a closed solver thread refuses new batches', async () => {
    const thread = await startControlStepThread();
    await thread.close();
    await expect(thread.solve([])).rejects.toThrow(/solver thread is closed/);
  });
});

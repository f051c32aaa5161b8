import { describe, expect, it } from 'vitest';
import { createMemoryFrequencyStore } from '../../../src/adapters/memory/memory-frequency-store.js';
import { DEFAULT_ALLOCATION_WINDOW } from '../../../src/core/domain/placement.js';
import { compilePlan } from '../../../src/core/plan/compile-plan.js';
import type { CompiledPlacement } from '../../../src/core/plan/plan.js';
import { mulberry32 } from '../../../src/core/random/mulberry32.js';
import type { DecisionRequest } from '../../../src/core/selection/select-ad.js';
import { lotterySelect } from '../../../src/sim/lottery-select.js';
import { makeAd } from '../../support/fixtures.js';

const AT = '2026-01-01T00:00:00.000Z';

function placement(targets: Record<string, number>, fallback: string | null): CompiledPlacement {
  const ads = [
    makeAd('a'),
    makeAd('b', { targeting: { key: 'country', in: ['DE'] } }),
    makeAd('house', { targeting: { key: 'country', notIn: ['US'] } }),
  ];
  const plan = compilePlan({
    revision: 1,
    ads,
    placements: [
      {
        id: 'p',
        name: 'p',
        fallbackAdId: fallback,
        window: DEFAULT_ALLOCATION_WINDOW,
        createdAt: AT,
        updatedAt: AT,
      },
    ],
    targets: [
      {
        placementId: 'p',
        version: 1,
        targets: Object.entries(targets).map(([adId, share]) => ({ adId, share })),
        updatedAt: AT,
      },
    ],
  });
  return plan.placements.get('p')!;
}

function shares(p: CompiledPlacement, country: string, n = 100_000): Record<string, number> {
  const freq = createMemoryFrequencyStore({ pendingMs: 1000 });
  const req: DecisionRequest = { userId: 'u', context: { country }, nowMs: Date.parse(AT) };
  const random = mulberry32(7);
  const scratch = new Uint8Array(p.candidates.length);
  const counts: Record<string, number> = { none: 0 };
  for (let i = 0; i < n; i++) {
    const k = lotterySelect(p, req, freq, random(), scratch);
    const id = k < 0 ? 'none' : p.candidates[k]!.id;
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([id, c]) => [id, c / n]));
}

describe('lotterySelect (Revive-style weighted lottery)', () => {
  it('uses target shares as absolute probabilities; the fallback takes the rest', () => {
    const s = shares(placement({ a: 0.3, b: 0.5 }, 'house'), 'DE');
    expect(s.a).toBeCloseTo(0.3, 2);
    expect(s.b).toBeCloseTo(0.5, 2);
    expect(s.house).toBeCloseTo(0.2, 2);
  });

  it('an ineligible ad leaves its probability to the fallback, not to the other ads', () => {
    const s = shares(placement({ a: 0.3, b: 0.5 }, 'house'), 'FR');
    expect(s.b).toBeUndefined();
    expect(s.a).toBeCloseTo(0.3, 2);
    expect(s.house).toBeCloseTo(0.7, 2);
  });

  it('without an eligible fallback the rest is no fill, as in Revive', () => {
    const s = shares(placement({ a: 0.3, b: 0.5 }, 'house'), 'US');
    expect(s.a).toBeCloseTo(0.3, 2);
    expect(s.none).toBeCloseTo(0.7, 2);
  });

  it('without a fallback, shares are relative among the eligible ads', () => {
    expect(shares(placement({ a: 0.3, b: 0.5 }, null), 'DE').a).toBeCloseTo(0.375, 2);
    expect(shares(placement({ a: 0.3, b: 0.5 }, null), 'FR')).toEqual({ none: 0, a: 1 });
  });
});

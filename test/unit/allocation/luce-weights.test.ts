import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { predictShares, solveLuceWeights } from '../../../src/core/allocation/luce-weights.js';
import type { RequestMix } from '../../../src/core/allocation/request-mix.js';

const mixOf = (n: number, patterns: RequestMix['patterns'], totalMass: number): RequestMix => ({
  adIds: Array.from({ length: n }, (_, a) => `ad${a}`),
  patterns,
  matchMass: new Array(n).fill(0),
  totalMass,
});

const expectAllClose = (actual: readonly number[], expected: readonly number[], digits: number) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((x, i) => {
    expect(x, `[${i}]`).toBeCloseTo(expected[i]!, digits);
  });
};

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

describe('predictShares', () => {
  it('splits each pattern in proportion to weight, as shares of all requests', () => {
    // {0,1} 60 with w 1:3 → 15 / 45; {1,2} 20 with w 3:0 → 20 to ad1; 20 requests with nothing eligible.
    const mix = mixOf(
      3,
      [
        { eligible: [0, 1], mass: 60 },
        { eligible: [1, 2], mass: 20 },
        { eligible: [], mass: 20 },
      ],
      100,
    );
    expectAllClose(predictShares(mix, [1, 3, 0]), [0.15, 0.65, 0], 15);
  });

  it('a pattern whose eligible candidates all weigh 0 serves no one', () => {
    const mix = mixOf(2, [{ eligible: [0, 1], mass: 1 }], 1);
    expect(predictShares(mix, [0, 0])).toEqual([0, 0]);
  });
});

describe('solveLuceWeights golden cases', () => {
  it('one pattern with every candidate: weights ∝ demand', () => {
    const mix = mixOf(3, [{ eligible: [0, 1, 2], mass: 7 }], 7);
    const r = solveLuceWeights(mix, [0.5, 0.3, 0.2]);
    expect(r.converged).toBe(true);
    expectAllClose(r.weights, [0.5, 0.3, 0.2], 12);
    expectAllClose(r.predicted, [0.5, 0.3, 0.2], 12);
  });

  it('A always eligible, B on half the traffic, demands 0.75 / 0.25: equal weights', () => {
    // A wins its solo half, then w_A / (w_A + w_B) of the shared half: 0.5 + 0.5·½ = 0.75.
    const mix = mixOf(
      2,
      [
        { eligible: [0], mass: 50 },
        { eligible: [0, 1], mass: 50 },
      ],
      100,
    );
    const r = solveLuceWeights(mix, [0.75, 0.25]);
    expect(r.converged).toBe(true);
    expectAllClose(r.weights, [0.5, 0.5], 9);
  });

  it('A always eligible, B on half the traffic, demands 0.6 / 0.4: B needs 4× A', () => {
    // B wins 0.5 · w_B / (w_A + w_B) = 0.4 → w_B = 4 w_A.
    const mix = mixOf(
      2,
      [
        { eligible: [0], mass: 1 },
        { eligible: [0, 1], mass: 1 },
      ],
      2,
    );
    const r = solveLuceWeights(mix, [0.6, 0.4]);
    expectAllClose(r.weights, [0.2, 0.8], 9);
    expectAllClose(r.predicted, [0.6, 0.4], 9);
  });

  it('three ads in a chain with a fallback everywhere matches hand-solved weights', () => {
    // Weights (0.1, 0.2, 0.3, 0.4) over {0,1,3} 40, {1,2,3} 40, {3} 20 (fallback = 3) predict
    // ad0 40·1/7, ad1 40·2/7 + 40·2/9, ad2 40·3/9, ad3 40·4/7 + 40·4/9 + 20 (of 100).
    const mix = mixOf(
      4,
      [
        { eligible: [0, 1, 3], mass: 40 },
        { eligible: [1, 2, 3], mass: 40 },
        { eligible: [3], mass: 20 },
      ],
      100,
    );
    const demand = [0.4 / 7, 0.8 / 7 + 0.8 / 9, 1.2 / 9, 1.6 / 7 + 1.6 / 9 + 0.2];
    expectAllClose(predictShares(mix, [0.1, 0.2, 0.3, 0.4]), demand, 15);
    const r = solveLuceWeights(mix, demand);
    expect(r.converged).toBe(true);
    expectAllClose(r.weights, [0.1, 0.2, 0.3, 0.4], 8);
  });

  it('zero demand → weight 0; never-eligible positive demand stays finite', () => {
    const mix = mixOf(3, [{ eligible: [0, 1], mass: 1 }], 1);
    const r = solveLuceWeights(mix, [0, 1, 0.2]);
    expect(r.weights[0]).toBe(0);
    expect(r.weights.every(Number.isFinite)).toBe(true);
    expect(r.weights[2]).toBeGreaterThan(0);
    expect(r.predicted).toEqual([0, 1, 0]);
    expect(sum(r.weights)).toBeCloseTo(1, 12);
  });

  it('no positive demand: all weights 0, nothing to iterate', () => {
    const r = solveLuceWeights(mixOf(2, [{ eligible: [0, 1], mass: 1 }], 1), [0, 0]);
    expect(r).toEqual({ weights: [0, 0], predicted: [0, 0], iterations: 0, converged: true });
  });

  it('exactly tight demands: the squeezed weight is clamped at max / maxRatio, not 0', () => {
    // A's whole demand is its solo traffic, so it should win none of the shared half.
    const mix = mixOf(
      2,
      [
        { eligible: [0], mass: 1 },
        { eligible: [0, 1], mass: 1 },
      ],
      2,
    );
    const r = solveLuceWeights(mix, [0.5, 0.5], { maxRatio: 1e4 });
    expect(r.weights[0]! * 1e4).toBeCloseTo(r.weights[1]!, 9);
    expect(r.predicted[1]).toBeCloseTo(0.5, 4);
    expect(r.converged).toBe(true);
  });

  it('infeasible demands stay finite and serve the nearest mix', () => {
    // B wants 0.8 but can only ever get the shared half; A wants less than its solo half.
    const mix = mixOf(
      2,
      [
        { eligible: [0], mass: 1 },
        { eligible: [0, 1], mass: 1 },
      ],
      2,
    );
    const r = solveLuceWeights(mix, [0.2, 0.8]);
    expect(r.weights.every((w) => Number.isFinite(w) && w > 0)).toBe(true);
    expect(r.weights[1]! / r.weights[0]!).toBeCloseTo(1e6, 3);
    expect(r.predicted[1]).toBeCloseTo(0.5, 5);
  });

  it('over-subscribed single pattern: weights ∝ demand, shares scaled down in proportion', () => {
    const r = solveLuceWeights(mixOf(2, [{ eligible: [0, 1], mass: 1 }], 1), [0.9, 0.6]);
    expectAllClose(r.weights, [0.6, 0.4], 12);
    expectAllClose(r.predicted, [0.6, 0.4], 12);
  });

  it('an over-demanded group does not distort an unlinked group', () => {
    // {2,3} asks for 0.6 of its 0.5: scaled down in proportion. {0,1} keeps its exact 3 : 2.
    const mix = mixOf(
      4,
      [
        { eligible: [0, 1], mass: 1 },
        { eligible: [2, 3], mass: 1 },
      ],
      2,
    );
    const r = solveLuceWeights(mix, [0.3, 0.2, 0.4, 0.2]);
    expect(r.converged).toBe(true);
    expect(r.weights[0]! / r.weights[1]!).toBeCloseTo(1.5, 9);
    expect(r.weights[2]! / r.weights[3]!).toBeCloseTo(2, 9);
    expectAllClose(r.predicted, [0.3, 0.2, 1 / 3, 1 / 6], 9);
  });

  it('stops at maxIterations without converging', () => {
    const mix = mixOf(
      2,
      [
        { eligible: [0, 1], mass: 1 },
        { eligible: [1], mass: 1 },
      ],
      2,
    );
    const r = solveLuceWeights(mix, [0.45, 0.55], { maxIterations: 1, initial: [0.5, 0.5] });
    expect(r.iterations).toBe(1);
    expect(r.converged).toBe(false);
  });
});

/** Up to 8 candidates, up to 12 patterns (some traffic eligible for no one), random positive weights. */
const luceArb = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.record({
    mix: fc
      .record({
        patterns: fc.array(
          fc.record({
            eligible: fc.subarray(
              Array.from({ length: n }, (_, a) => a),
              { minLength: 1 },
            ),
            mass: fc.double({ min: 0.01, max: 10, noNaN: true }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        unfilled: fc.double({ min: 0, max: 5, noNaN: true }),
      })
      .map(({ patterns, unfilled }) => mixOf(n, patterns, sum(patterns.map((p) => p.mass)) + unfilled)),
    weights: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
  }),
);

const SEEDED = { seed: 42, numRuns: 300 };

describe('solveLuceWeights: properties (seeded)', () => {
  it('recovers demands made by positive weights within 1e-6; weights sum to 1', () => {
    fc.assert(
      fc.property(luceArb, ({ mix, weights }) => {
        const demand = predictShares(mix, weights);
        const r = solveLuceWeights(mix, demand);
        r.predicted.forEach((x, a) => {
          expect(Math.abs(x - demand[a]!)).toBeLessThanOrEqual(1e-6);
        });
        expect(Math.abs(sum(r.weights) - 1)).toBeLessThanOrEqual(1e-12);
        expect(r.weights.every((w) => Number.isFinite(w) && w >= 0)).toBe(true);
      }),
      SEEDED,
    );
  });

  it('with comparisons connecting every candidate the solution is unique: the generating weights', () => {
    // Hunter (2004), Assumption 1: connected comparisons make the Luce weights unique up to scale.
    fc.assert(
      fc.property(luceArb, fc.double({ min: 0.01, max: 10, noNaN: true }), ({ mix, weights }, mass) => {
        const everyone = { eligible: mix.adIds.map((_, a) => a), mass };
        const connected = { ...mix, patterns: [...mix.patterns, everyone], totalMass: mix.totalMass + mass };
        const demand = predictShares(connected, weights);
        const r = solveLuceWeights(connected, demand, { tolerance: 1e-12, maxIterations: 5000 });
        const total = sum(weights);
        r.weights.forEach((w, a) => {
          expect(Math.abs(w * total - weights[a]!) / weights[a]!).toBeLessThanOrEqual(1e-6);
        });
      }),
      SEEDED,
    );
  });

  it('warm start from the solution converges within 2 iterations', () => {
    fc.assert(
      fc.property(luceArb, ({ mix, weights }) => {
        const demand = predictShares(mix, weights);
        const cold = solveLuceWeights(mix, demand, { maxIterations: 5000 });
        expect(cold.converged).toBe(true);
        for (const initial of [cold.weights, weights]) {
          const warm = solveLuceWeights(mix, demand, { initial });
          expect(warm.converged).toBe(true);
          expect(warm.iterations).toBeLessThanOrEqual(2);
        }
      }),
      SEEDED,
    );
  });

  it('any demands, feasible or not: finite weights summing to 1 within maxRatio, finite shares', () => {
    const demandsArb = luceArb.chain(({ mix }) =>
      fc.record({
        mix: fc.constant(mix),
        demand: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 1, noNaN: true })), {
          minLength: mix.adIds.length,
          maxLength: mix.adIds.length,
        }),
      }),
    );
    fc.assert(
      fc.property(demandsArb, ({ mix, demand }) => {
        const r = solveLuceWeights(mix, demand);
        if (demand.every((x) => x === 0)) {
          expect(r.weights.every((w) => w === 0)).toBe(true);
          return;
        }
        expect(Math.abs(sum(r.weights) - 1)).toBeLessThanOrEqual(1e-12);
        const top = Math.max(...r.weights);
        r.weights.forEach((w, a) => {
          if (demand[a] === 0) expect(w).toBe(0);
          else expect(w).toBeGreaterThanOrEqual((top / 1e6) * (1 - 1e-12));
        });
        expect(r.predicted.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
      }),
      SEEDED,
    );
  });
});

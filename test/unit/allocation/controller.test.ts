import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ControlInput, controlStep } from '../../../src/core/allocation/controller.js';
import type { RequestMix } from '../../../src/core/allocation/request-mix.js';
import { runClosedLoop } from '../../support/closed-loop.js';
import { makeAd } from '../../support/fixtures.js';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const input = (over: Partial<ControlInput>): ControlInput => ({
  adIds: ['a', 'b', 'f'],
  targets: [0.3, 0.5, 0.2],
  fallbackIndex: 2,
  mix: null,
  windowImpressions: [0, 0, 0],
  windowDecisions: [0, 0, 0],
  windowImpressionsTotal: 0,
  recentDecisions: [0, 0, 0],
  ...over,
});
const everyone = (n: number, mass = 1): RequestMix => ({
  adIds: Array.from({ length: n }, (_, i) => `x${i}`),
  patterns: [{ eligible: Array.from({ length: n }, (_, i) => i), mass }],
  matchMass: new Array(n).fill(mass),
  totalMass: mass,
});

describe('controlStep: hand-checked cases', () => {
  it('untargeted, on track, no data: weights are the targets', () => {
    const out = controlStep(null, input({}));
    out.weights.forEach((w, i) => {
      expect(w).toBeCloseTo([0.3, 0.5, 0.2][i]!, 6);
    });
    expect(out.feasible).toBe(true);
    expect(out.limits).toEqual([null, null, null]);
    out.desired.forEach((d, i) => {
      expect(d).toBeCloseTo([0.3, 0.5, 0.2][i]!, 12);
    });
  });

  it('render rates: an ad rendering half the time gets twice the requests per target point', () => {
    // On target (no catch-up), with enough decisions to swamp the render prior:
    // r_a = 1, r_b = 0.5, r_f = 1.
    const out = controlStep(null, {
      ...input({}),
      adIds: ['a', 'b', 'f'],
      targets: [0.25, 0.25, 0.5],
      windowDecisions: [250_000, 500_000, 500_000],
      windowImpressions: [250_000, 250_000, 500_000],
      windowImpressionsTotal: 1_000_000,
      mix: everyone(3),
    });
    expect(out.renderRates[1]).toBeCloseTo(0.5, 3);
    // Request shares ∝ t/r = 0.25, 0.5, 0.5 → 0.2, 0.4, 0.4 (one pattern: weights = shares).
    expect(out.weights[0]).toBeCloseTo(0.2, 3);
    expect(out.weights[1]).toBeCloseTo(0.4, 3);
    expect(out.weights[2]).toBeCloseTo(0.4, 3);
  });

  it('catch-up: a deficit raises the desired share by deficit / T, at most 20 % of target', () => {
    const small = controlStep(
      null,
      input({ windowImpressions: [2900, 5000, 2100], windowImpressionsTotal: 10_000 }),
    );
    expect(small.desired[0]).toBeCloseTo(0.3 + 100 / 10_000, 9);
    expect(small.desired[2]).toBeCloseTo(1 - small.desired[0]! - small.desired[1]!, 9);
    const big = controlStep(
      null,
      input({ windowImpressions: [1000, 5000, 4000], windowImpressionsTotal: 10_000 }),
    );
    expect(big.desired[0]).toBeCloseTo(0.36, 9);
    const ahead = controlStep(
      null,
      input({ windowImpressions: [5000, 3000, 2000], windowImpressionsTotal: 10_000 }),
    );
    expect(ahead.desired[0]).toBeCloseTo(0.24, 9);
  });

  it('a narrow ad is limited by its targeting; the others keep their impression shares', () => {
    // a matches 10 % of requests and wants 30 %; all render at 1.
    const mix: RequestMix = {
      adIds: ['a', 'b', 'f'],
      patterns: [
        { eligible: [0, 1, 2], mass: 10 },
        { eligible: [1, 2], mass: 90 },
      ],
      matchMass: [10, 100, 100],
      totalMass: 100,
    };
    const out = controlStep(null, input({ mix }));
    expect(out.limits).toEqual(['targeting', null, null]);
    expect(out.feasible).toBe(false);
    expect(out.achievable[0]).toBeCloseTo(0.1, 6);
    expect(out.achievable[1]).toBeCloseTo(0.5, 6);
    expect(out.achievable[2]).toBeCloseTo(0.4, 6);
    // a is saturated: its weight dwarfs the others in the pattern it shares.
    expect(out.weights[0]! / (out.weights[1]! + out.weights[2]!)).toBeGreaterThan(100);
  });

  it('caps, not targeting: matchMass large, eligible mass small → frequencyCap', () => {
    const mix: RequestMix = {
      adIds: ['a', 'b', 'f'],
      patterns: [
        { eligible: [0, 1, 2], mass: 10 },
        { eligible: [1, 2], mass: 90 },
      ],
      matchMass: [80, 100, 100],
      totalMass: 100,
    };
    expect(controlStep(null, input({ mix })).limits[0]).toBe('frequencyCap');
  });

  it('overbooking: two ads on one segment are scaled down proportionally; the third is untouched', () => {
    const mix: RequestMix = {
      adIds: ['a', 'b', 'c', 'f'],
      patterns: [
        { eligible: [0, 1, 2, 3], mass: 40 },
        { eligible: [2, 3], mass: 60 },
      ],
      matchMass: [40, 40, 100, 100],
      totalMass: 100,
    };
    const out = controlStep(null, {
      ...input({}),
      adIds: ['a', 'b', 'c', 'f'],
      targets: [0.3, 0.3, 0.2, 0.2],
      fallbackIndex: 3,
      windowImpressions: [0, 0, 0, 0],
      windowDecisions: [0, 0, 0, 0],
      recentDecisions: [0, 0, 0, 0],
      mix,
    });
    expect(out.limits).toEqual(['overbooked', 'overbooked', null, null]);
    expect(out.achievable[0]).toBeCloseTo(0.2, 6);
    expect(out.achievable[1]).toBeCloseTo(0.2, 6);
    expect(out.achievable[2]).toBeCloseTo(0.2, 6);
  });

  it('feedback: an ad that won fewer requests than expected gets a larger correction', () => {
    const first = controlStep(null, input({ mix: everyone(3) }));
    const second = controlStep(first.state, input({ mix: everyone(3), recentDecisions: [200, 600, 200] }));
    expect(second.state.correction[0]).toBeGreaterThan(1);
    expect(second.state.correction[1]).toBeLessThan(1);
    expect(Math.exp(sum(second.state.correction.map(Math.log)) / 3)).toBeCloseTo(1, 9);
  });
});

describe('closed loop: shares converge', () => {
  const contexts = ['DE', 'FR', 'US', 'IT'];
  it('property: on random scenarios every ad reaches min(target, achievable) within 1 pp, infeasible ones ≥ 98 % of achievable', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            countries: fc.subarray(contexts, { minLength: 1 }),
            share: fc.double({ min: 0.05, max: 0.35, noNaN: true }),
            render: fc.double({ min: 0.5, max: 1, noNaN: true }),
          }),
          { minLength: 2, maxLength: 4 },
        ),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 1_000_000 }),
        async (specs, fallbackRender, seed) => {
          const total = sum(specs.map((s) => s.share));
          const scale = total > 0.9 ? 0.9 / total : 1;
          const ads = specs.map((s, i) => ({
            ad: makeAd(`ad${i}`, { targeting: { key: 'country', in: s.countries } }),
            share: s.share * scale,
            render: s.render,
          }));
          const fallback = { ad: makeAd('house'), share: 0, render: fallbackRender };
          const { report, share } = await runClosedLoop({
            ads,
            fallback,
            traffic: (rnd) => ({ country: contexts[Math.floor(rnd() * contexts.length)]! }),
            decisions: 30_000,
            stepEvery: 1000,
            seed,
          });
          ads.forEach((a, i) => {
            const goal = Math.min(a.share, report.achievable[i]!);
            const got = share(a.ad.id);
            if (report.limits[i] === null) expect(Math.abs(got - a.share)).toBeLessThanOrEqual(0.01);
            else expect(got).toBeGreaterThanOrEqual(0.98 * goal);
          });
        },
      ),
      { numRuns: 12, seed: 4242 },
    );
  }, 120_000);
});

import cases from './controller-cases.json' with { type: 'json' };

// Golden vectors: one controller step per case, locked to 1e-9. The "why" of each case says
// what a reader can check by hand; a change here is a change of the maths, to be explained.
describe('controlStep: golden vectors', () => {
  it.each(
    cases as unknown as Array<{ name: string; input: ControlInput; expected: Record<string, unknown> }>,
  )('$name', ({ input: caseInput, expected }) => {
    const out = controlStep(null, caseInput);
    const close = (got: number[], want: unknown) =>
      (want as number[]).forEach((w, i) => {
        expect(got[i]).toBeCloseTo(w, 8);
      });
    close(out.weights, expected.weights);
    close(out.achievable, expected.achievable);
    close(out.desired, expected.desired);
    close(out.renderRates, expected.renderRates);
    expect(out.limits).toEqual(expected.limits);
    expect(out.feasible).toBe(expected.feasible);
  });
});

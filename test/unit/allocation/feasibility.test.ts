import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeFeasibility, type FeasibilityResult } from '../../../src/core/allocation/feasibility.js';
import { type FlowEdge, maxFlow } from '../../../src/core/allocation/max-flow.js';
import type { RequestMix } from '../../../src/core/allocation/request-mix.js';

interface FeasibilityCase extends RequestMix {
  name: string;
  demand: number[];
  fallbackIndex: number;
  expected: FeasibilityResult;
}

const cases = JSON.parse(
  readFileSync(new URL('./feasibility-cases.json', import.meta.url), 'utf8'),
) as FeasibilityCase[];

describe('analyzeFeasibility golden vectors', () => {
  it('covers every reason, nested groups and feasible cases', () => {
    const reasons = new Set(cases.flatMap((c) => c.expected.limit));
    for (const r of ['targeting', 'frequencyCap', 'overbooked', null])
      expect(reasons, String(r)).toContain(r);
    expect(cases.some((c) => c.expected.groups.length >= 2)).toBe(true);
    expect(cases.filter((c) => c.expected.feasible).length).toBeGreaterThanOrEqual(3);
  });

  it.each(cases)('$name', ({ adIds, patterns, matchMass, totalMass, demand, fallbackIndex, expected }) => {
    const r = analyzeFeasibility({ mix: { adIds, patterns, matchMass, totalMass }, demand, fallbackIndex });
    expect(r.feasible).toBe(expected.feasible);
    expect(r.limit).toEqual(expected.limit);
    expect(r.achievable).toHaveLength(expected.achievable.length);
    r.achievable.forEach((x, i) => {
      expect(x, `achievable[${i}]`).toBeCloseTo(expected.achievable[i]!, 12);
    });
    expect(r.groups.map((g) => g.members)).toEqual(expected.groups.map((g) => g.members));
    r.groups.forEach((g, i) => {
      expect(g.scale, `groups[${i}].scale`).toBeCloseTo(expected.groups[i]!.scale, 12);
    });
  });
});

/** Max flow of the transport network for `amounts` (fallback left out), and Σ amounts. */
function servable(mix: RequestMix, amounts: readonly number[], fallbackIndex: number) {
  const n = mix.adIds.length;
  const P = mix.patterns.length;
  const edges: FlowEdge[] = [];
  let total = 0;
  amounts.forEach((x, a) => {
    if (a === fallbackIndex || !(x > 0)) return;
    total += x;
    edges.push({ from: 0, to: 2 + a, capacity: x });
  });
  mix.patterns.forEach((p, k) => {
    for (const a of p.eligible) edges.push({ from: 2 + a, to: 2 + n + k, capacity: Infinity });
    edges.push({ from: 2 + n + k, to: 1, capacity: p.mass / mix.totalMass });
  });
  return { flow: maxFlow({ nodeCount: 2 + n + P, edges, source: 0, sink: 1 }).value, total };
}

const jointlyServable = (mix: RequestMix, amounts: readonly number[], fb: number): boolean => {
  const { flow, total } = servable(mix, amounts, fb);
  // Absolute slack: shares below ~1e-12 are rounding (a routed demand can be 5e-324).
  return flow >= total * (1 - 1e-9) - 1e-10;
};

/**
 * The bottleneck decomposition by brute force over Hall's condition: λ* = min over subsets T of
 * capacity(N(T)) / demand(T); the union of the minimisers is cut to λ*·demand; repeat.
 */
function referenceAchievable(mix: RequestMix, demand: readonly number[], fb: number): number[] {
  const out = demand.slice();
  let open = demand.flatMap((d, a) => (a !== fb && d > 0 ? [a] : []));
  const alive = mix.patterns.map(() => true);
  const neighbourCap = (set: readonly number[]) =>
    mix.patterns.reduce(
      (s, p, k) => s + (alive[k] && p.eligible.some((a) => set.includes(a)) ? p.mass / mix.totalMass : 0),
      0,
    );
  while (open.length > 0) {
    const subsets: Array<{ set: number[]; ratio: number }> = [];
    for (let mask = 1; mask < 1 << open.length; mask++) {
      const set = open.filter((_, i) => mask & (1 << i));
      subsets.push({ set, ratio: neighbourCap(set) / set.reduce((s, a) => s + demand[a]!, 0) });
    }
    const best = Math.min(...subsets.map((s) => s.ratio));
    if (best >= 1 - 1e-9) break;
    const tight = new Set(subsets.filter((s) => s.ratio <= best * (1 + 1e-9) + 1e-15).flatMap((s) => s.set));
    for (const a of tight) out[a] = best * demand[a]!;
    mix.patterns.forEach((p, k) => {
      if (p.eligible.some((a) => tight.has(a))) alive[k] = false;
    });
    open = open.filter((a) => !tight.has(a));
  }
  return out;
}

interface Problem {
  mix: RequestMix;
  demand: number[];
  fallbackIndex: number;
}

/** Up to 6 ads plus (maybe) a fallback, up to 8 patterns, some traffic where nothing is eligible. */
const problemArb: fc.Arbitrary<Problem> = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc
    .record({
      withFallback: fc.boolean(),
      patterns: fc.array(
        fc.record({
          eligible: fc.subarray(Array.from({ length: n + 1 }, (_, i) => i)),
          mass: fc.integer({ min: 1, max: 100 }),
        }),
        { maxLength: 8 },
      ),
      unfilled: fc.integer({ min: 0, max: 50 }),
      demand: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 0.6, noNaN: true })), {
        minLength: n + 1,
        maxLength: n + 1,
      }),
      cappedOut: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: n + 1, maxLength: n + 1 }),
    })
    .map(({ withFallback, patterns, unfilled, demand, cappedOut }) => {
      const size = withFallback ? n + 1 : n;
      const ps = patterns.map((p) => ({ eligible: p.eligible.filter((a) => a < size), mass: p.mass }));
      const matchMass = Array.from(
        { length: size },
        (_, a) => cappedOut[a]! + ps.reduce((s, p) => s + (p.eligible.includes(a) ? p.mass : 0), 0),
      );
      const totalMass = ps.reduce((s, p) => s + p.mass, 0) + unfilled + 1;
      return {
        mix: { adIds: Array.from({ length: size }, (_, a) => `ad${a}`), patterns: ps, matchMass, totalMass },
        demand: demand.slice(0, size),
        fallbackIndex: withFallback ? n : -1,
      };
    }),
);

const run = ({ mix, demand, fallbackIndex }: Problem) => analyzeFeasibility({ mix, demand, fallbackIndex });
const SEEDED = { seed: 42, numRuns: 300 };

describe('analyzeFeasibility: properties (seeded)', () => {
  it('achievable never exceeds demand, and is jointly servable', () => {
    fc.assert(
      fc.property(problemArb, (pr) => {
        const r = run(pr);
        r.achievable.forEach((x, a) => {
          expect(x).toBeLessThanOrEqual(pr.demand[a]!);
          expect(x).toBeGreaterThanOrEqual(0);
        });
        expect(jointlyServable(pr.mix, r.achievable, pr.fallbackIndex)).toBe(true);
      }),
      SEEDED,
    );
  });

  it('unlimited candidates get exactly their demand; groups partition the limited ones at scale·demand', () => {
    fc.assert(
      fc.property(problemArb, (pr) => {
        const r = run(pr);
        const grouped = r.groups.flatMap((g) => g.members);
        expect(new Set(grouped).size).toBe(grouped.length);
        r.limit.forEach((l, a) => {
          if (l === null) expect(r.achievable[a]).toBe(pr.demand[a]);
          expect(grouped.includes(a)).toBe(l !== null);
        });
        for (const g of r.groups) {
          expect(g.scale).toBeGreaterThanOrEqual(0);
          expect(g.scale).toBeLessThan(1);
          for (const a of g.members) {
            expect(r.achievable[a]).toBeCloseTo(g.scale * pr.demand[a]!, 15);
            const alone =
              (pr.mix.matchMass[a] ?? 0) / pr.mix.totalMass < pr.demand[a]! ? 'targeting' : 'frequencyCap';
            expect(r.limit[a]).toBe(g.members.length > 1 ? 'overbooked' : alone);
          }
        }
        for (let i = 1; i < r.groups.length; i++) {
          expect(r.groups[i]!.scale).toBeGreaterThanOrEqual(r.groups[i - 1]!.scale);
        }
        expect(r.feasible).toBe(r.groups.length === 0);
      }),
      SEEDED,
    );
  });

  it('scaling every demand by the most overbooked group’s scale is feasible, and no more', () => {
    fc.assert(
      fc.property(problemArb, (pr) => {
        const r = run(pr);
        const first = r.groups[0];
        if (first === undefined) return;
        const scaled = pr.demand.map((d) => d * first.scale);
        expect(run({ ...pr, demand: scaled }).feasible).toBe(true);
        if (first.scale > 0) {
          const over = pr.demand.map((d) => d * first.scale * (1 + 1e-4));
          expect(run({ ...pr, demand: over }).feasible).toBe(false);
        }
      }),
      SEEDED,
    );
  });

  it('agrees with the brute-force Hall decomposition', () => {
    fc.assert(
      fc.property(problemArb, (pr) => {
        const r = run(pr);
        const ref = referenceAchievable(pr.mix, pr.demand, pr.fallbackIndex);
        r.achievable.forEach((x, a) => {
          expect(Math.abs(x - ref[a]!)).toBeLessThanOrEqual(1e-9);
        });
      }),
      SEEDED,
    );
  });

  it('demands that some routing of the traffic serves are feasible', () => {
    const feasibleArb = problemArb.chain((pr) =>
      fc
        .array(fc.double({ min: 0, max: 1, noNaN: true }), {
          minLength: pr.mix.patterns.length * pr.mix.adIds.length,
          maxLength: pr.mix.patterns.length * pr.mix.adIds.length,
        })
        .map((split) => {
          // Route a random fraction of each pattern to each eligible ad (fractions sum ≤ 1).
          const n = pr.mix.adIds.length;
          const demand = new Array<number>(n).fill(0);
          pr.mix.patterns.forEach((p, k) => {
            const parts = p.eligible.map((a) => split[k * n + a]!);
            const norm = Math.max(
              1,
              parts.reduce((s, x) => s + x, 0),
            );
            p.eligible.forEach((a, j) => {
              demand[a]! += ((parts[j]! / norm) * p.mass) / pr.mix.totalMass;
            });
          });
          return { ...pr, demand };
        }),
    );
    fc.assert(
      fc.property(feasibleArb, (pr) => {
        const r = run(pr);
        expect(r.feasible).toBe(true);
        expect(r.achievable).toEqual(pr.demand);
        expect(r.limit.every((l) => l === null)).toBe(true);
      }),
      SEEDED,
    );
  });
});

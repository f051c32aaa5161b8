import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MIN_RATE,
  normalQuantile,
  requiredSamples,
  samplingRateFor,
  smoothTraffic,
  zFor,
} from '../../../src/core/sampling/sampling-rate.js';
import { Z95 } from '../../../src/core/stats/wilson-interval.js';

/** fast-check runs seeded, like the rest of the suite (GUIDE: unit tests are deterministic). */
const SEEDED = { seed: 42, numRuns: 300 };

/** ∫₀^z φ(x) dx by composite Simpson (error ~1e-14 here): a check independent of AS 241. */
function normalMass(z: number, steps = 2_000): number {
  const phi = (x: number): number => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  const h = z / steps;
  let sum = phi(0) + phi(z);
  for (let i = 1; i < steps; i++) sum += (i % 2 === 1 ? 4 : 2) * phi(i * h);
  return (sum * h) / 3;
}

describe('zFor / normalQuantile: golden values', () => {
  // Reference values: R's qnorm (itself AS 241) and standard tables.
  it.each([
    [0.95, 1.959963984540054],
    [0.99, 2.5758293035489004],
    [0.9, 1.6448536269514722],
    [0.5, 0.6744897501960817],
  ])('zFor(%s) = %s', (confidence, z) => {
    expect(zFor(confidence)).toBeCloseTo(z, 12);
  });

  it.each([
    [0.5, 0, 12],
    [0.975, 1.959963984540054, 12],
    [0.02, -2.053748910631823, 12],
    [1e-10, -6.361340902404056, 12],
    [1e-300, -37.0471, 4], // R prints qnorm(1e-300) to 7 significant digits
  ])('normalQuantile(%s) = %s', (p, z, digits) => {
    expect(normalQuantile(p)).toBeCloseTo(z, digits);
  });

  it('agrees with the Z95 constant used by wilsonInterval', () => {
    expect(Math.abs(zFor(0.95) - Z95)).toBeLessThan(1e-12);
  });

  it('returns ±Infinity at 0 and 1, NaN outside; zFor rejects confidence outside (0, 1)', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(1.2)).toBeNaN();
    expect(normalQuantile(Number.NaN)).toBeNaN();
    for (const c of [0, 1, -0.5, Number.NaN]) expect(() => zFor(c)).toThrow(RangeError);
  });

  it('property: the interval ±zFor(c) holds mass c under the normal density', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 0.999, noNaN: true }), (c) => {
        expect(2 * normalMass(zFor(c))).toBeCloseTo(c, 9);
      }),
      { ...SEEDED, numRuns: 50 },
    );
  });

  // Below 1e-6, 1 − p itself loses the digits the antisymmetry check would need.
  it('property: increasing, and antisymmetric about 0.5', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 0.5, noNaN: true }),
        fc.double({ min: 1e-9, max: 0.4, noNaN: true }),
        (p, d) => {
          expect(normalQuantile(p)).toBeCloseTo(-normalQuantile(1 - p), 6);
          expect(normalQuantile(p + d)).toBeGreaterThan(normalQuantile(p));
        },
      ),
      SEEDED,
    );
  });
});

describe('requiredSamples: RESEARCH.md "Counting and sampling"', () => {
  it.each([
    // [share, margin, confidence, samples]
    [0.5, 0.01, 0.95, 9_604],
    [0.3, 0.01, 0.95, 8_068],
    [0.1, 0.01, 0.95, 3_458],
    // RESEARCH.md says 38,416 with z rounded to 1.96; the exact z gives ⌈38,414.59⌉.
    [0.5, 0.005, 0.95, 38_415],
    [0.5, 0.01, 0.99, 16_588],
    [0, 0.01, 0.95, 0],
  ])('share %s within ±%s at %s → %s', (share, margin, confidence, samples) => {
    expect(requiredSamples({ share, margin, confidence })).toBe(samples);
  });

  it('defaults to the worst-case share 0.5', () => {
    expect(requiredSamples({ margin: 0.01, confidence: 0.95 })).toBe(9_604);
  });

  it('reproduces "807 s at 1,000 req/s with a 1 % sample" for p = 0.3', () => {
    expect(requiredSamples({ share: 0.3, margin: 0.01, confidence: 0.95 }) / (1_000 * 0.01)).toBeCloseTo(
      806.8,
      1,
    );
  });

  it('rejects shares outside [0, 1] and margins outside (0, 1)', () => {
    expect(() => requiredSamples({ share: 1.5, margin: 0.01, confidence: 0.95 })).toThrow(RangeError);
    expect(() => requiredSamples({ margin: 0, confidence: 0.95 })).toThrow(RangeError);
    expect(() => requiredSamples({ margin: 1, confidence: 0.95 })).toThrow(RangeError);
  });
});

describe('samplingRateFor', () => {
  const pp1 = { margin: 0.01, confidence: 0.95 };

  it.each([
    // [events per interval, rate]
    [200_000, 9_604 / 200_000],
    [1_000_000, 0.009_604],
    [20_000, 0.4802],
    [9_604, 1],
    [5_000, 1], // margin out of reach in one interval: count everything
    [0, 1], // no traffic seen yet
    [Number.NaN, 1],
    [Number.POSITIVE_INFINITY, 1],
    [1e8, DEFAULT_MIN_RATE], // would be 9.6e-5: floored so a sample never weighs over 1,000
  ])('±1 pp at 95 %%, %s events → q = %s', (events, rate) => {
    expect(samplingRateFor({ ...pp1, expectedEventsPerInterval: events })).toBeCloseTo(rate, 12);
  });

  it('uses a given share instead of the worst case', () => {
    expect(samplingRateFor({ ...pp1, share: 0.1, expectedEventsPerInterval: 200_000 })).toBeCloseTo(
      3_458 / 200_000,
      12,
    );
  });

  it('clamps to [minRate, maxRate]', () => {
    expect(samplingRateFor({ ...pp1, expectedEventsPerInterval: 5_000, maxRate: 0.5 })).toBe(0.5);
    expect(samplingRateFor({ ...pp1, expectedEventsPerInterval: 0, maxRate: 0.5 })).toBe(0.5);
    expect(samplingRateFor({ ...pp1, expectedEventsPerInterval: 1e6, minRate: 0.05 })).toBe(0.05);
    expect(() =>
      samplingRateFor({ ...pp1, expectedEventsPerInterval: 1, minRate: 0.5, maxRate: 0.1 }),
    ).toThrow(RangeError);
    expect(() => samplingRateFor({ ...pp1, expectedEventsPerInterval: 1, minRate: 0 })).toThrow(RangeError);
  });

  const events = fc.double({ min: 1, max: 1e9, noNaN: true });
  const margin = fc.double({ min: 0.001, max: 0.2, noNaN: true });

  it('property: more traffic never raises the rate', () => {
    fc.assert(
      fc.property(events, events, margin, (a, b, e) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        const rate = (n: number): number =>
          samplingRateFor({ margin: e, confidence: 0.95, expectedEventsPerInterval: n });
        expect(rate(hi)).toBeLessThanOrEqual(rate(lo));
      }),
      SEEDED,
    );
  });

  it('property: a tighter margin or a higher confidence never lowers the rate', () => {
    fc.assert(
      fc.property(events, margin, margin, (n, a, b) => {
        const [tight, loose] = a < b ? [a, b] : [b, a];
        const rate = (e: number, confidence = 0.95): number =>
          samplingRateFor({ margin: e, confidence, expectedEventsPerInterval: n });
        expect(rate(tight)).toBeGreaterThanOrEqual(rate(loose));
        expect(rate(tight, 0.99)).toBeGreaterThanOrEqual(rate(tight));
      }),
      SEEDED,
    );
  });

  it('property: in range, and when not clamped the expected samples meet the requirement', () => {
    fc.assert(
      fc.property(events, margin, fc.double({ min: 0, max: 1, noNaN: true }), (n, e, share) => {
        const spec = { margin: e, confidence: 0.95, share };
        const q = samplingRateFor({ ...spec, expectedEventsPerInterval: n });
        expect(q).toBeGreaterThanOrEqual(DEFAULT_MIN_RATE);
        expect(q).toBeLessThanOrEqual(1);
        if (q > DEFAULT_MIN_RATE && q < 1) expect(q * n).toBeCloseTo(requiredSamples(spec), 6);
      }),
      SEEDED,
    );
  });
});

describe('smoothTraffic (EWMA)', () => {
  it('starts from the first observation and then moves a fraction α towards each new one', () => {
    expect(smoothTraffic(undefined, 500)).toBe(500);
    expect(smoothTraffic(100, 200)).toBeCloseTo(130, 12);
    expect(smoothTraffic(100, 200, 1)).toBe(200);
    expect(() => smoothTraffic(100, 200, 0)).toThrow(RangeError);
  });

  it('property: stays between the previous value and the observation', () => {
    fc.assert(
      fc.property(fc.nat(1e9), fc.nat(1e9), fc.double({ min: 0.01, max: 1, noNaN: true }), (prev, obs, a) => {
        const s = smoothTraffic(prev, obs, a);
        expect(s).toBeGreaterThanOrEqual(Math.min(prev, obs) - 1e-6);
        expect(s).toBeLessThanOrEqual(Math.max(prev, obs) + 1e-6);
      }),
      SEEDED,
    );
  });
});

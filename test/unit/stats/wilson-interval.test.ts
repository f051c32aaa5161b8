import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/core/random/mulberry32.js';
import { wilsonInterval, Z95 } from '../../../src/core/stats/wilson-interval.js';

function binomial(rand: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (rand() < p) k++;
  return k;
}

function coverage(p: number, n: number, trials: number, seed: number): number {
  const rand = mulberry32(seed);
  let covered = 0;
  for (let t = 0; t < trials; t++) {
    const [lo, hi] = wilsonInterval(binomial(rand, n, p), n);
    if (lo <= p && p <= hi) covered++;
  }
  return covered / trials;
}

describe('wilsonInterval: known values', () => {
  it('Z95 is the two-sided 95 % normal quantile', () => {
    expect(Z95).toBeCloseTo(1.96, 2);
  });

  it('50 of 100 → about [0.4038, 0.5962]', () => {
    const [lo, hi] = wilsonInterval(50, 100);
    expect(lo).toBeCloseTo(0.4038, 4);
    expect(hi).toBeCloseTo(0.5962, 4);
  });

  it('0 of 10 → lower bound 0, upper about 0.2775', () => {
    const [lo, hi] = wilsonInterval(0, 10);
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(0.2775, 4);
  });

  it('10 of 10 → upper bound (about) 1, lower about 0.7225', () => {
    const [lo, hi] = wilsonInterval(10, 10);
    expect(lo).toBeCloseTo(0.7225, 4);
    expect(hi).toBeCloseTo(1, 12);
  });

  // SRC BUG (floating point): for k = 0 the Wilson lower bound is exactly 0 and for k = n the
  // upper bound is exactly 1, but centre ∓ half leaves a few ulps: wilsonInterval(0, 3)[0] is
  // 5.55e-17 and wilsonInterval(10, 10)[1] is 0.9999999999999999. So the status API's ci95 for a
  // 0-share fallback with no impressions, or a share-1 ad with every impression, excludes the
  // target share it should contain. Fix: pin lo = 0 when successes <= 0 and hi = 1 when
  // successes >= n. Remove `.fails` once fixed.
  it('k = 0 gives a lower bound of exactly 0 and k = n an upper bound of exactly 1', () => {
    for (let n = 1; n <= 100; n++) {
      expect(wilsonInterval(0, n)[0], `0/${n}`).toBe(0);
      expect(wilsonInterval(n, n)[1], `${n}/${n}`).toBe(1);
    }
  });

  it('1 of 10 → about [0.0179, 0.4042]', () => {
    const [lo, hi] = wilsonInterval(1, 10);
    expect(lo).toBeCloseTo(0.0179, 4);
    expect(hi).toBeCloseTo(0.4042, 4);
  });

  it('300 of 1000 → about [0.2724, 0.3291]', () => {
    const [lo, hi] = wilsonInterval(300, 1000);
    expect(lo).toBeCloseTo(0.2724, 4);
    expect(hi).toBeCloseTo(0.3291, 4);
  });

  it('n = 0 (or negative) → [0, 1]', () => {
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
    expect(wilsonInterval(0, -5)).toEqual([0, 1]);
  });

  it('a smaller z gives a narrower interval (z = 1 for 50/100 → about [0.4502, 0.5498])', () => {
    const [lo, hi] = wilsonInterval(50, 100, 1);
    expect(lo).toBeCloseTo(0.4502, 4);
    expect(hi).toBeCloseTo(0.5498, 4);
  });

  it('is symmetric: interval(k, n) mirrors interval(n − k, n)', () => {
    for (const [k, n] of [
      [3, 17],
      [0, 5],
      [40, 90],
    ] as const) {
      const [lo, hi] = wilsonInterval(k, n);
      const [lo2, hi2] = wilsonInterval(n - k, n);
      expect(lo).toBeCloseTo(1 - hi2, 12);
      expect(hi).toBeCloseTo(1 - lo2, 12);
    }
  });

  it('always contains the observed proportion and stays within [0, 1]', () => {
    for (const n of [1, 2, 7, 50, 333]) {
      for (let k = 0; k <= n; k++) {
        const [lo, hi] = wilsonInterval(k, n);
        expect(lo).toBeGreaterThanOrEqual(0);
        expect(hi).toBeLessThanOrEqual(1);
        expect(lo).toBeLessThanOrEqual(k / n + 1e-12);
        expect(hi).toBeGreaterThanOrEqual(k / n - 1e-12);
      }
    }
  });

  it('narrows as n grows at a fixed proportion', () => {
    const widths = [10, 100, 1000, 10_000].map((n) => {
      const [lo, hi] = wilsonInterval(n * 0.3, n);
      return hi - lo;
    });
    for (let i = 1; i < widths.length; i++) expect(widths[i]!).toBeLessThan(widths[i - 1]!);
  });
});

describe('wilsonInterval: Monte-Carlo coverage (seeded)', () => {
  it('mulberry32 is deterministic and roughly uniform', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });

  it('covers p = 0.3 with n = 1000 in at least 93 % of 2000 trials', () => {
    const c = coverage(0.3, 1000, 2000, 42);
    expect(c).toBeGreaterThanOrEqual(0.93);
    // A 95 % interval should not be wildly conservative either.
    expect(c).toBeLessThanOrEqual(0.98);
  });

  it('covers a small share (p = 0.02, n = 200) in at least 90 % of 2000 trials', () => {
    expect(coverage(0.02, 200, 2000, 7)).toBeGreaterThanOrEqual(0.9);
  });

  it('z = 1 (about 68 %) covers far less than z = 1.96', () => {
    const rand = mulberry32(1);
    let covered = 0;
    for (let t = 0; t < 2000; t++) {
      const [lo, hi] = wilsonInterval(binomial(rand, 1000, 0.3), 1000, 1);
      if (lo <= 0.3 && 0.3 <= hi) covered++;
    }
    expect(covered / 2000).toBeGreaterThan(0.62);
    expect(covered / 2000).toBeLessThan(0.74);
  });
});

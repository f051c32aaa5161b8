import { describe, expect, it } from 'vitest';
import { liveMargin } from '../../../src/analytics/reconciliation-job.js';
import { mulberry32 } from '../../../src/core/random/mulberry32.js';

/** Poisson-samples n impressions (and n/render decisions) at rate q, as the aggregator does. */
function sampled(rand: () => number, n: number, decisions: number, q: number) {
  let impressions = 0;
  let w2 = 0;
  let d = 0;
  for (let i = 0; i < n; i++) {
    if (rand() < q) {
      impressions += 1 / q;
      w2 += 1 / (q * q);
    }
  }
  for (let i = 0; i < decisions; i++) if (rand() < q) d += 1 / q;
  return { decisions: d, impressions, clicks: 0, impressionsW2: w2 };
}

describe('reconciliation interval of a live count', () => {
  it('is zero for exact counts: any difference is drift', () => {
    const exact = { decisions: 120, impressions: 100, clicks: 7, impressionsW2: 100 };
    expect(liveMargin(exact, 'impressions')).toBe(0);
    expect(liveMargin(exact, 'decisions')).toBe(0);
    expect(liveMargin(exact, 'clicks')).toBe(0);
  });

  it('covers the true count about 99 % of the time when sampled (impressions and decisions)', () => {
    const rand = mulberry32(7);
    const trials = 2000;
    const n = 5000;
    const decisions = 8000;
    let coveredI = 0;
    let coveredD = 0;
    for (let t = 0; t < trials; t++) {
      const c = sampled(rand, n, decisions, 0.05);
      if (Math.abs(c.impressions - n) <= liveMargin(c, 'impressions')) coveredI++;
      if (Math.abs(c.decisions - decisions) <= liveMargin(c, 'decisions')) coveredD++;
    }
    // 99 % nominal; a 2,000-trial estimate sits within ±0.7 pp of the true coverage (3 σ).
    expect(coveredI / trials).toBeGreaterThan(0.98);
    expect(coveredI / trials).toBeLessThan(0.998);
    expect(coveredD / trials).toBeGreaterThan(0.98);
    expect(coveredD / trials).toBeLessThan(0.998);
  });

  it('flags a real loss: the archive missing 10 % of 20K impressions sampled at 20 %', () => {
    const rand = mulberry32(11);
    let flagged = 0;
    for (let t = 0; t < 200; t++) {
      const c = sampled(rand, 20_000, 30_000, 0.2);
      if (Math.abs(c.impressions - 18_000) > liveMargin(c, 'impressions')) flagged++;
    }
    // margin ≈ 2.576 · √(4000 · 20) ≈ 730 against a 2,000 gap: nearly always flagged.
    expect(flagged).toBeGreaterThanOrEqual(195);
  });
});

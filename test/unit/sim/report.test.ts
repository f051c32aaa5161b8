import { describe, expect, it } from 'vitest';
import { buildReport, referenceShares, toJson, toMarkdown } from '../../../src/sim/report.js';
import { parseScenario } from '../../../src/sim/scenario-schema.js';
import type { SimResult } from '../../../src/sim/simulate.js';

describe('referenceShares', () => {
  it('with a fallback: min(target, achievable), the fallback takes what is left', () => {
    const ref = referenceShares([0.25, 0.2, 0.3, 0.25], [0.1667, 0.1333, 0.3, 0.4], 3);
    expect(ref.map((x) => +x.toFixed(4))).toEqual([0.1667, 0.1333, 0.3, 0.4]);
  });

  it('without a fallback: limited ads get their achievable share, the others split the rest by target', () => {
    const ref = referenceShares([0.5, 0.3, 0.2], [0.1, 0.54, 0.36], -1);
    expect(ref.map((x) => +x.toFixed(4))).toEqual([0.1, 0.54, 0.36]);
  });
});

/** A hand-made run: 2 hours, ad a reaches its 30 % only from minute 90 on. */
function fakeRun(strategy: SimResult['strategy']): SimResult {
  const cumulative = Array.from({ length: 120 }, (_, m) => {
    const done = (m + 1) * 100;
    const a = m < 89 ? done * 0.2 : done * 0.3;
    return [a, done - a];
  });
  return {
    scenario: 'fake',
    strategy,
    adIds: ['a', 'house'],
    fallbackIndex: 1,
    targets: [0.3, 0.7],
    startMs: 0,
    durationHours: 2,
    requests: 12_000,
    filled: 12_000,
    decisionsByAd: [3600, 8400],
    impressionsByAd: [3600, 8400],
    hourly: [
      [1500, 4500],
      [2100, 3900],
    ],
    cumulative,
    report: null,
    controlTrace: [
      { atMs: 1_800_000, achievable: [0.3, 0.7], limits: [null, null] },
      { atMs: 5_400_000, achievable: [0.3, 0.7], limits: [null, null] },
    ],
    elapsedMs: 100,
  };
}

describe('buildReport', () => {
  const scenario = parseScenario({
    name: 'fake',
    seed: 1,
    decisions: 12_000,
    durationHours: 2,
    ads: [{ id: 'a' }, { id: 'house' }],
    placement: { fallbackAdId: 'house', targets: [{ adId: 'a', share: 0.3 }] },
    traffic: { attributes: {} },
  });
  const report = buildReport(scenario, [fakeRun('allot')]);
  const a = report.strategies[0]!.ads[0]!;

  it('computes realized share, deviations and convergence against the reference', () => {
    expect(report.achievableFrom).toBe('allot');
    expect(a.realized).toBeCloseTo(0.3, 9);
    expect(a.endDeviation).toBeCloseTo(0, 9);
    // Hour 0: 1500 / 6000 = 25 %; hour 1: 2100 / 6000 = 35 %.
    expect(a.maxHourlyDeviation).toBeCloseTo(0.05, 9);
    expect(a.convergenceMinutes).toBe(90);
    expect(report.strategies[0]!.decisionsPerMinute).toBe(7_200_000);
  });

  it('formats Markdown and JSON', () => {
    const md = toMarkdown(report);
    expect(md).toContain('| a | 30.00 % | 30.00 % |  | allot | 30.00 % | 0.00 | 5.00 | 90 |');
    expect(md).toContain('| house (fallback) |');
    const json = JSON.parse(toJson(report, [fakeRun('allot')]));
    expect(json.strategies[0].ads[0].convergenceMinutes).toBe(90);
    expect(json.series[0].minutes).toHaveLength(12);
  });
});

import { describe, expect, it } from 'vitest';
import type { CompiledAd } from '../../../src/core/plan/plan.js';
import {
  type DecisionRequest,
  type FrequencyView,
  isEligible,
} from '../../../src/core/selection/select-ad.js';
import type { RequestContext } from '../../../src/core/targeting/targeting-rule.js';
import { buildReport } from '../../../src/sim/report.js';
import { parseScenario, type ScenarioInput } from '../../../src/sim/scenario-schema.js';
import { type SimResult, simulate } from '../../../src/sim/simulate.js';
import { STRATEGIES } from '../../../src/sim/strategies.js';

/** Overlapping targeting and unequal render rates; 50K decisions over 4 simulated hours. */
const small: ScenarioInput = {
  name: 'small',
  seed: 42,
  decisions: 50_000,
  durationHours: 4,
  ads: [
    { id: 'dach', targeting: { key: 'country', in: ['DE', 'AT'] }, renderRate: 0.8 },
    { id: 'over40', targeting: { key: 'age', gte: 40 }, renderRate: 0.6 },
    { id: 'open' },
    { id: 'house', renderRate: 0.9 },
  ],
  placement: {
    fallbackAdId: 'house',
    targets: [
      { adId: 'dach', share: 0.3 },
      { adId: 'over40', share: 0.2 },
      { adId: 'open', share: 0.15 },
    ],
  },
  traffic: {
    attributes: { country: { DE: 0.35, AT: 0.15, FR: 0.1, US: 0.4 }, age: { uniformInt: [18, 65] } },
  },
};

/** Everything the simulator does besides timing, for equality checks. */
const outcome = ({ elapsedMs: _, ...rest }: SimResult) => rest;

describe('simulate', () => {
  it('is deterministic: the same seed gives identical results, another seed different ones', async () => {
    const s = parseScenario({
      ...small,
      decisions: 20_000,
      servers: 2,
      samplingRate: 0.5,
      statusDelaySeconds: 5,
    });
    for (const strategy of STRATEGIES) {
      const a = await simulate(s, strategy);
      const b = await simulate(s, strategy);
      expect(outcome(b)).toEqual(outcome(a));
      const c = await simulate({ ...s, seed: 43 }, strategy);
      expect(c.impressionsByAd).not.toEqual(a.impressionsByAd);
    }
  });

  it('every strategy sees the same requests', async () => {
    const s = parseScenario({ ...small, decisions: 5_000 });
    const seen = new Map<string, Array<[string | null, RequestContext]>>();
    for (const strategy of STRATEGIES) {
      const requests: Array<[string | null, RequestContext]> = [];
      // The fallback is untargeted and uncapped, so every request is filled and reaches the hook.
      await simulate(s, strategy, undefined, (_ad, req) => {
        requests.push([req.userId, req.context]);
      });
      seen.set(strategy, requests);
    }
    expect(seen.get('allot')).toHaveLength(5_000);
    expect(seen.get('smooth')).toEqual(seen.get('allot'));
    expect(seen.get('lottery')).toEqual(seen.get('allot'));
  });

  it('Allot lands within 0.5 pp of every target; the lottery strays further hour by hour', async () => {
    const s = parseScenario(small);
    const results = [await simulate(s, 'allot'), await simulate(s, 'lottery')];
    const [allot, lottery] = buildReport(s, results).strategies;
    for (const ad of allot!.ads) {
      expect(ad.achievable).toBeCloseTo(ad.target, 3);
      expect(Math.abs(ad.realized - ad.target), ad.adId).toBeLessThan(0.005);
    }
    expect(lottery!.worstHourlyDeviation).toBeGreaterThan(allot!.worstHourlyDeviation);
  });

  it('on untargeted traffic round-robin is exact where the lottery is noisy', async () => {
    const s = parseScenario({
      ...small,
      ads: [{ id: 'a' }, { id: 'b' }, { id: 'house' }],
      placement: {
        fallbackAdId: 'house',
        targets: [
          { adId: 'a', share: 0.3 },
          { adId: 'b', share: 0.5 },
        ],
      },
    });
    const report = buildReport(s, [await simulate(s, 'smooth'), await simulate(s, 'lottery')]);
    const [smooth, lottery] = report.strategies;
    expect(smooth!.worstHourlyDeviation).toBeLessThan(0.0005);
    expect(lottery!.worstHourlyDeviation).toBeGreaterThan(smooth!.worstHourlyDeviation);
  });

  it('never serves an ineligible ad (targeting and frequency caps, checked with the real isEligible)', async () => {
    const s = parseScenario({
      ...small,
      decisions: 30_000,
      users: 300,
      ads: [
        ...small.ads.slice(0, 2),
        { id: 'open', frequencyCap: { impressions: 2, windowSeconds: 3600 } },
        { id: 'house', targeting: { key: 'country', notIn: ['US'] } },
      ],
    });
    for (const strategy of STRATEGIES) {
      let checked = 0;
      const wrong: string[] = [];
      let k = 0;
      const audit = (ad: CompiledAd, req: DecisionRequest, freq: FrequencyView): void => {
        if (k++ % 7 !== 0) return;
        checked++;
        if (!isEligible(ad, req, freq)) wrong.push(`${ad.id} ${req.userId} ${JSON.stringify(req.context)}`);
      };
      const r = await simulate(s, strategy, undefined, audit);
      expect(checked).toBeGreaterThan(1_000);
      expect(wrong, strategy).toEqual([]);
      // The cap binds (300 users, 2 per hour) and the fallback leaves US requests unfilled.
      expect(r.filled).toBeLessThan(r.requests);
    }
  });

  it('reports progress up to the total', async () => {
    const calls: number[] = [];
    await simulate(parseScenario({ ...small, decisions: 40_000 }), 'smooth', (done, total) => {
      expect(total).toBe(40_000);
      calls.push(done);
    });
    expect(calls.length).toBeGreaterThan(2);
    expect(calls.at(-1)).toBe(40_000);
    expect([...calls].sort((a, b) => a - b)).toEqual(calls);
  });
});

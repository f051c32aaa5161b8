import { expect } from 'vitest';
import { mulberry32 } from '../../src/core/random/mulberry32.js';
import { imageAd } from './start-allot.js';

/**
 * The allocation engine's acceptance scenario on placement `news`: overlapping targeting,
 * unequal render rates (some decisions never fire their impression), an infeasible ad (`c`:
 * FR is too small a segment for its share) and a fallback (`house`).
 */
export const SCENARIO_ADS = {
  a: { targeting: { key: 'country', in: ['DE', 'AT'] }, share: 0.3, render: 1.0 },
  b: { targeting: { key: 'age', gte: 40 }, share: 0.25, render: 0.6 },
  c: { targeting: { key: 'country', in: ['FR'] }, share: 0.2, render: 0.9 },
  house: { targeting: undefined, share: 0, render: 0.8 },
} as const;

export type ScenarioAdId = keyof typeof SCENARIO_ADS;

/** An admin API call; only the status is looked at. */
type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number }>;

/** Creates the ads, the placement and its targets through the admin API. */
export async function createScenario(call: Call): Promise<void> {
  for (const [id, ad] of Object.entries(SCENARIO_ADS)) {
    const res = await call('POST', '/v1/ads', imageAd(id, ad.targeting ? { targeting: ad.targeting } : {}));
    expect(res.status).toBe(201);
  }
  await call('POST', '/v1/placements', { id: 'news', name: 'News', fallbackAdId: 'house' });
  const put = await call('PUT', '/v1/placements/news/targets', {
    targets: (['a', 'b', 'c'] as const).map((adId) => ({ adId, share: SCENARIO_ADS[adId].share })),
  });
  expect(put.status).toBe(200);
}

export interface ScenarioRequest {
  /** The decision request body. */
  body: { placementId: 'news'; userId: string; context: { country: string; age: number } };
  /** Uniform in [0, 1): the decision's impression fires if this is below its ad's render rate. */
  fire: number;
}

/**
 * `n` decision requests from `seed`: 35 % DE, 15 % AT, 10 % FR, 40 % US; ages 18-65;
 * 20,000 users.
 */
export function scenarioRequests(seed: number, n: number): ScenarioRequest[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const x = rnd();
    return {
      body: {
        placementId: 'news',
        userId: `u${Math.floor(rnd() * 20_000)}`,
        context: {
          country: x < 0.35 ? 'DE' : x < 0.5 ? 'AT' : x < 0.6 ? 'FR' : 'US',
          age: 18 + Math.floor(rnd() * 48),
        },
      },
      fire: rnd(),
    };
  });
}

/** Whether the impression of a decision for `adId` fires. */
export const renders = (adId: string, req: ScenarioRequest): boolean =>
  req.fire < SCENARIO_ADS[adId as ScenarioAdId].render;

// Fixtures: the workload of bench/http-decisions.mjs (bench/lib/workload.mjs), built in process.
// Type imports only: every case imports what it measures itself (see `case.ts`).
import { randomUUID } from 'node:crypto';
import type { Ad } from '../../src/core/domain/ad.js';
import type { ConfigSnapshot } from '../../src/core/domain/config-snapshot.js';
import type { AllotEvent } from '../../src/core/events/allot-event.js';
import type { RequestContext, TargetingRule } from '../../src/core/targeting/targeting-rule.js';

const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL'];
const PLACEMENTS = 100;
const ADS = 20;
export const T0 = Date.UTC(2026, 0, 1);
const ISO = new Date(T0).toISOString();
/** Requests cycled over (a power of two: the index wraps with a mask). */
const N_REQ = 8192;
export const MASK = N_REQ - 1;

/** mulberry32, seeded: every run and every tree cycles over the same requests. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Req {
  placementId: string;
  userId: string;
  context: RequestContext;
}

/** As the HTTP bench: a random placement, a user out of 100K, country, age 14–70, member 30 %. */
function requests(): Req[] {
  const rnd = seeded(42);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  return Array.from({ length: N_REQ }, () => ({
    placementId: `pl${int(0, PLACEMENTS - 1)}`,
    userId: `u${int(1, 100_000)}`,
    context: { country: COUNTRIES[int(0, COUNTRIES.length - 1)]!, age: int(14, 70), member: rnd() < 0.3 },
  }));
}
export const REQS = requests();

/**
 * 100 placements × 20 ads as the HTTP bench creates them through the API: every other ad
 * targeted (country in 4 of 8, and age ≥ 18–27 or member), every fifth capped at 5 an hour,
 * ad 0 the fallback, ads 1–19 sharing 90 %.
 */
export function snapshot(): ConfigSnapshot {
  const s: ConfigSnapshot = { revision: 1, ads: [], placements: [], targets: [] };
  for (let p = 0; p < PLACEMENTS; p++) {
    for (let a = 0; a < ADS; a++) {
      const id = `p${p}-a${a}`;
      const ad: Ad = {
        id,
        name: id,
        creative: { type: 'image', url: `https://cdn.example.com/${id}.png`, width: 300, height: 250 },
        clickUrl: `https://advertiser.example.com/${id}`,
        targeting:
          a % 2 === 1
            ? {
                all: [
                  { key: 'country', in: COUNTRIES.slice(a % 4, (a % 4) + 4) },
                  {
                    any: [
                      { key: 'age', gte: 18 + (a % 10) },
                      { key: 'member', in: [true] },
                    ],
                  },
                ],
              }
            : null,
        frequencyCap: a % 5 === 0 && a > 0 ? { impressions: 5, windowSeconds: 3600 } : null,
        startAt: null,
        endAt: null,
        status: 'active',
        createdAt: ISO,
        updatedAt: ISO,
      };
      s.ads.push(ad);
    }
    s.placements.push({
      id: `pl${p}`,
      name: `Placement ${p}`,
      fallbackAdId: `p${p}-a0`,
      window: { lengthHours: 24, timeZone: 'UTC' },
      createdAt: ISO,
      updatedAt: ISO,
    });
    s.targets.push({
      placementId: `pl${p}`,
      version: 1,
      updatedAt: ISO,
      targets: Array.from({ length: ADS - 1 }, (_, i) => ({
        adId: `p${p}-a${i + 1}`,
        share: 0.9 / (ADS - 1),
      })),
    });
  }
  return s;
}

/** Country in a list, an age range, a member flag, nested and/or. */
export const RULE: TargetingRule = {
  all: [
    { key: 'country', in: ['DE', 'FR', 'US', 'GB'] },
    {
      any: [
        {
          all: [
            { key: 'age', gte: 18 },
            { key: 'age', lt: 35 },
          ],
        },
        { key: 'member', in: [true] },
      ],
    },
  ],
};

/** Decision events as `decide` publishes them, `n` of them (the bus adapters' entry size is 500). */
export function decisionEvents(n: number): AllotEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const r = REQS[i & MASK]!;
    const decisionId = randomUUID();
    return {
      id: `${decisionId}:d`,
      type: 'decision',
      ts: T0 + i,
      decisionId,
      placementId: r.placementId,
      adId: `${r.placementId.replace('pl', 'p')}-a${1 + (i % (ADS - 1))}`,
      userId: r.userId,
    };
  });
}

export const BEACON_KEYS = () => new Map([['k1', Buffer.from('bench-beacon-secret-0123456789abcdef')]]);

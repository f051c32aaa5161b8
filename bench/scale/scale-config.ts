// The configuration the scale bench measures: P placements × A ads as `bench/http-decisions.mjs`
// creates them through the API (every other ad targeted on country and age/member, every fifth
// frequency-capped, a fallback per placement), as API bodies, domain objects or a snapshot.
import type { Ad } from '../../src/core/domain/ad.js';
import type { ConfigSnapshot } from '../../src/core/domain/config-snapshot.js';
import {
  DEFAULT_ALLOCATION_WINDOW,
  type Placement,
  type TargetSet,
} from '../../src/core/domain/placement.js';

export const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL'];
export const ISO = new Date().toISOString();

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function parseSize(s: string): { placements: number; ads: number } {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (m === null) throw new Error(`size "${s}": expected <placements>x<ads>, e.g. 10000x50`);
  return { placements: Number(m[1]), ads: Number(m[2]) };
}

/** Ad `a` of placement `p`, as `bench/http-decisions.mjs` creates it through the API. */
export function adBody(p: number, a: number) {
  const id = `p${p}-a${a}`;
  return {
    id,
    name: id,
    creative: { type: 'image' as const, url: `https://cdn.example.com/${id}.png`, width: 300, height: 250 },
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
  };
}

/** The ad as the manager API takes it (no null targeting or cap). */
export function apiAd(p: number, a: number) {
  const { targeting, frequencyCap, ...rest } = adBody(p, a);
  return {
    ...rest,
    ...(targeting === null ? {} : { targeting }),
    ...(frequencyCap === null ? {} : { frequencyCap }),
  };
}

/** The placement as the manager API takes it. */
export function apiPlacement(p: number) {
  const { createdAt: _c, updatedAt: _u, window: _w, ...placement } = toPlacement(p);
  return placement;
}

export const toAd = (p: number, a: number): Ad => ({
  ...adBody(p, a),
  startAt: null,
  endAt: null,
  status: 'active',
  createdAt: ISO,
  updatedAt: ISO,
});
export const toPlacement = (p: number): Placement => ({
  id: `pl${p}`,
  name: `Placement ${p}`,
  fallbackAdId: `p${p}-a0`,
  window: DEFAULT_ALLOCATION_WINDOW,
  createdAt: ISO,
  updatedAt: ISO,
});
export const targetsOf = (p: number, ads: number) =>
  Array.from({ length: ads - 1 }, (_, i) => ({ adId: `p${p}-a${i + 1}`, share: 0.9 / (ads - 1) }));

export function buildSnapshot(placements: number, ads: number): ConfigSnapshot {
  const snapshot: ConfigSnapshot = { revision: 1, ads: [], placements: [], targets: [] };
  for (let p = 0; p < placements; p++) {
    for (let a = 0; a < ads; a++) snapshot.ads.push(toAd(p, a));
    snapshot.placements.push(toPlacement(p));
    const set: TargetSet = { placementId: `pl${p}`, version: 1, targets: targetsOf(p, ads), updatedAt: ISO };
    snapshot.targets.push(set);
  }
  return snapshot;
}

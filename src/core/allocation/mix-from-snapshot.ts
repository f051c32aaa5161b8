import type { MixSnapshot } from '../ports/mix-store.js';
import { CAPPED, ELIGIBLE } from '../selection/describe-eligibility.js';
import type { RequestMix } from './request-mix.js';

/**
 * Turns sampled eligibility keys into the request mix the controller and feasibility analysis
 * read: one pattern per distinct set of eligible candidates, and per candidate the mass its
 * targeting matched (eligible or capped). Null when the samples describe other candidates.
 */
export function mixFromSnapshot(snapshot: MixSnapshot | null, adIds: readonly string[]): RequestMix | null {
  if (snapshot === null || snapshot.adIds.join(',') !== adIds.join(',')) return null;
  const n = adIds.length;
  const patterns = new Map<string, { eligible: number[]; mass: number }>();
  const matchMass: number[] = new Array(n).fill(0);
  let totalMass = 0;
  for (const [key, mass] of snapshot.counts) {
    if (key.length !== n || mass <= 0) continue;
    totalMass += mass;
    let sig = '';
    const eligible: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = key[i];
      if (c === ELIGIBLE) eligible.push(i);
      if (c === ELIGIBLE || c === CAPPED) matchMass[i]! += mass;
      sig += c === ELIGIBLE ? '1' : '0';
    }
    const p = patterns.get(sig);
    if (p === undefined) patterns.set(sig, { eligible, mass });
    else p.mass += mass;
  }
  if (totalMass <= 0) return null;
  return { adIds, patterns: [...patterns.values()], matchMass, totalMass };
}

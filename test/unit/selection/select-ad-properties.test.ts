import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryFrequencyStore } from '../../../src/adapters/memory/memory-frequency-store.js';
import type { FrequencyCap } from '../../../src/core/domain/ad.js';
import { mulberry32 } from '../../../src/core/random/mulberry32.js';
import { describeEligibility } from '../../../src/core/selection/describe-eligibility.js';
import { type DecisionRequest, selectAd } from '../../../src/core/selection/select-ad.js';
import { SelectorState } from '../../../src/core/selection/selector-state.js';
import type { TargetingRule } from '../../../src/core/targeting/targeting-rule.js';
import { makeAd } from '../../support/fixtures.js';
import { referenceMatches } from '../../support/targeting-reference.js';

import { compile, contextArb, iso, noCaps, req, ruleArb, T0 } from './selection-helpers.js';

interface AdSpec {
  rule: TargetingRule | null;
  start: number | null;
  end: number | null;
  cap: FrequencyCap | null;
  paused: boolean;
  share: number;
}
const secondsArb = (min: number, max: number) => fc.integer({ min, max }).map((s) => s * 1000);
const adSpecArb: fc.Arbitrary<AdSpec> = fc.record({
  rule: fc.option(ruleArb, { nil: null, freq: 2 }),
  start: fc.option(secondsArb(0, 60), { nil: null }),
  end: fc.option(secondsArb(10, 120), { nil: null }),
  cap: fc.option(
    fc.record({
      impressions: fc.integer({ min: 1, max: 3 }),
      windowSeconds: fc.integer({ min: 1, max: 30 }),
    }),
    { nil: null },
  ),
  paused: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  share: fc.integer({ min: 0, max: 4 }),
});
const scenarioArb = fc.record({
  specs: fc.array(adSpecArb, { minLength: 2, maxLength: 6 }),
  slack: fc.constantFrom(0, 0, 1, 3),
  fallback: fc.option(fc.nat(), { nil: null }),
  pendingMs: fc.constantFrom(1000, 5000, 1e9),
  requests: fc.array(
    fc.record({
      context: contextArb,
      userId: fc.constantFrom(null, 'u1', 'u2', 'u3'),
      // Coarse steps so that requests land exactly on flight, window and lapse boundaries.
      dtMs: fc.integer({ min: 0, max: 6 }).map((n) => n * 500),
      impress: fc.boolean(),
    }),
    { minLength: 1, maxLength: 60, size: 'max' },
  ),
});

describe('selectAd: properties over random plans and request streams', () => {
  it('only ever selects an eligible ad, per an independent reference', () => {
    const seen = { filled: 0, noFill: 0, fallback: 0, capped: 0, capBlocked: 0 };
    fc.assert(
      fc.property(scenarioArb, ({ specs, slack, fallback, pendingMs, requests }) => {
        const sum = specs.reduce((s, a) => s + a.share, 0) + slack;
        const ids = specs.map((_, i) => `ad${i}`);
        const ads = specs.map((s, i) =>
          makeAd(ids[i]!, {
            targeting: s.rule,
            frequencyCap: s.cap,
            startAt: s.start === null ? null : iso(T0 + s.start),
            endAt: s.end === null ? null : iso(T0 + s.end),
            status: s.paused ? 'paused' : 'active',
          }),
        );
        const fbId = fallback === null ? null : ids[fallback % ids.length]!;
        const pl = compile(
          ads,
          Object.fromEntries(ids.map((id, i) => [id, sum && specs[i]!.share / sum])),
          fbId,
        );
        const spec = new Map(ids.map((id, i) => [id, specs[i]!]));
        const expectedIds = ids.filter((_id, i) => specs[i]!.share > 0 && sum > 0);
        if (fbId !== null && !expectedIds.includes(fbId)) expectedIds.push(fbId);
        expect(pl.candidates.map((c) => c.id)).toEqual(expectedIds.filter((id) => !spec.get(id)!.paused));
        // Reference cap state: every reservation (ts, impressed) per user + ad.
        const serves = new Map<string, { ts: number; impressed: boolean }[]>();
        const refCount = (user: string, adId: string, cap: FrequencyCap, now: number) =>
          (serves.get(`${user}|${adId}`) ?? []).filter(
            (s) => s.ts > now - cap.windowSeconds * 1000 && (s.impressed || s.ts >= now - pendingMs),
          ).length;
        const eligible = (adId: string, r: DecisionRequest): boolean => {
          const s = spec.get(adId)!;
          if (s.paused) return false;
          if (s.start !== null && r.nowMs < T0 + s.start) return false;
          if (s.end !== null && r.nowMs >= T0 + s.end) return false;
          if (s.rule !== null && !referenceMatches(s.rule, r.context)) return false;
          if (s.cap === null) return true;
          const under = r.userId !== null && refCount(r.userId, adId, s.cap, r.nowMs) < s.cap.impressions;
          if (r.userId !== null && !under) seen.capBlocked++;
          return under;
        };

        const freq = createMemoryFrequencyStore({ pendingMs });
        const state = new SelectorState();
        // The decision path's sampled variant: eligibility evaluated once by describeEligibility
        // and handed to selectAd must choose exactly what selectAd evaluating it itself chooses.
        const stateKnown = new SelectorState();
        const known = new Uint8Array(pl.candidates.length);
        let nowMs = T0 - 5000;
        requests.forEach((q, k) => {
          nowMs += q.dtMs;
          const r = req(q.context, q.userId, nowMs);
          const idx = selectAd(pl, state.bookFor(pl), r, freq);
          describeEligibility(pl, r, freq, known);
          expect(selectAd(pl, stateKnown.bookFor(pl), r, freq, known)).toBe(idx);
          const elig = pl.candidates.map((c) => eligible(c.id, r));
          expect([...known].map((k) => k === 1)).toEqual(elig);
          const weightedEligible = pl.candidates.some((_, i) => elig[i] && pl.weights[i]! > 0);
          if (idx < 0) {
            seen.noFill++;
            expect(elig.some(Boolean)).toBe(false);
            return;
          }
          seen.filled++;
          const ad = pl.candidates[idx]!;
          expect(elig[idx]).toBe(true);
          if (pl.weights[idx]! <= 0) {
            seen.fallback++;
            expect(idx).toBe(pl.fallbackIndex);
            expect(weightedEligible).toBe(false);
          }
          const s = spec.get(ad.id)!;
          if (s.cap !== null) {
            seen.capped++;
            expect(q.userId).not.toBeNull();
            const user = q.userId!;
            freq.reserve(user, ad.id, `d${k}`, s.cap, nowMs);
            const list = serves.get(`${user}|${ad.id}`) ?? [];
            list.push({ ts: nowMs, impressed: false });
            serves.set(`${user}|${ad.id}`, list);
            expect(refCount(user, ad.id, s.cap, nowMs)).toBeLessThanOrEqual(s.cap.impressions);
            if (q.impress) {
              freq.recordImpression(user, ad.id, `d${k}`, nowMs);
              list[list.length - 1]!.impressed = true;
            }
          }
        });
      }),
      { seed: 42, numRuns: 300 },
    );
    // The property must not hold vacuously: every branch was exercised.
    expect(seen.filled).toBeGreaterThan(2000);
    expect(seen.noFill).toBeGreaterThan(500);
    expect(seen.fallback).toBeGreaterThan(20);
    expect(seen.capped).toBeGreaterThan(1000);
    expect(seen.capBlocked).toBeGreaterThan(300);
  });

  it('a capped ad is never selected for a request without userId', () => {
    fc.assert(
      fc.property(fc.array(adSpecArb, { minLength: 2, maxLength: 6 }), contextArb, (specs, ctx) => {
        const ads = specs.map((s, i) => makeAd(`ad${i}`, { targeting: s.rule, frequencyCap: s.cap }));
        const pl = compile(ads, Object.fromEntries(ads.map((a) => [a.id, 1 / ads.length])), 'ad0');
        const book = new SelectorState().bookFor(pl);
        for (let k = 0; k < 5; k++) {
          const i = selectAd(pl, book, req(ctx), noCaps);
          if (i >= 0) expect(pl.candidates[i]!.cap).toBeNull();
        }
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('selectAd: per-pattern Luce proportions', () => {
  it('serves each fixed eligibility pattern E within one pick of n_E × w_a / Σ_{b∈E} w_b', () => {
    // 30 candidates put pattern bits in both halves of the numeric key; 60 use the string key.
    const sizes = [2, 3, 4, 5, 6, 8, 30, 60];
    let checked = 0;
    for (let seed = 1; seed <= 48; seed++) {
      const rand = mulberry32(seed);
      const k = sizes[seed % sizes.length]!;
      const ids = Array.from({ length: k }, (_, i) => `ad${i}`);
      const ads = ids.map((id) => makeAd(id, { targeting: { key: id, exists: true } }));
      const w = ids.map(() => 0.01 + rand());
      const pl = compile(
        ads,
        Object.fromEntries(ids.map((id) => [id, 1 / k])),
        null,
        Object.fromEntries(ids.map((id, i) => [id, w[i]!])),
      );
      expect(pl.candidateIds).toEqual(ids);

      // Distinct non-empty subsets: at most 2^k − 1 of them.
      const nPatterns = Math.min(2 ** k - 1, 2 + Math.floor(rand() * 5));
      const patterns: number[][] = [];
      const seen = new Set<string>();
      while (patterns.length < nPatterns) {
        const members = ids.flatMap((_, i) => (rand() < 0.5 ? [i] : []));
        if (members.length === 0 || seen.has(members.join())) continue;
        seen.add(members.join());
        patterns.push(members);
      }
      const requests = patterns.map((m) => req(Object.fromEntries(m.map((i) => [ids[i]!, true]))));
      const totals = patterns.map((m) => m.reduce((s, i) => s + w[i]!, 0));
      const counts = patterns.map(() => new Array<number>(k).fill(0));
      const served = new Array<number>(nPatterns).fill(0);

      const state = new SelectorState();
      let ahead = Number.NEGATIVE_INFINITY;
      for (let n = 0; n < 4000; n++) {
        const p = Math.floor(rand() * nPatterns);
        const i = selectAd(pl, state.bookFor(pl), requests[p]!, noCaps);
        if (!patterns[p]!.includes(i))
          expect.fail(`seed ${seed}: picked ${i} outside pattern ${patterns[p]}`);
        counts[p]![i]!++;
        served[p]!++;
        // Never more than one pick ahead of the share, at any step (credit_a > −Σw always).
        for (const a of patterns[p]!)
          ahead = Math.max(ahead, counts[p]![a]! - (served[p]! * w[a]!) / totals[p]!);
      }
      expect(ahead).toBeLessThan(1);
      expect(state.bookFor(pl).patterns).toBe(nPatterns);
      patterns.forEach((members, p) => {
        expect(served[p]).toBeGreaterThan(200);
        for (let a = 0; a < k; a++) {
          if (!members.includes(a)) {
            expect(counts[p]![a]).toBe(0);
            continue;
          }
          const want = (served[p]! * w[a]!) / totals[p]!;
          if (Math.abs(counts[p]![a]! - want) > 1 + 1e-9) {
            expect.fail(
              `seed ${seed}, pattern ${members}: ad${a} served ${counts[p]![a]} times, want ${want}`,
            );
          }
          checked++;
        }
      });
    }
    expect(checked).toBeGreaterThan(500);
  });
});

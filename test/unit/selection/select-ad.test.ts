import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryFrequencyStore } from '../../../src/adapters/memory/memory-frequency-store.js';
import type { Ad, FrequencyCap } from '../../../src/core/domain/ad.js';
import type { ConfigSnapshot } from '../../../src/core/domain/config-snapshot.js';
import { DEFAULT_ALLOCATION_WINDOW, type Placement } from '../../../src/core/domain/placement.js';
import { compilePlan, type WeightOverrides, withWeights } from '../../../src/core/plan/compile-plan.js';
import type { CompiledPlacement, Plan } from '../../../src/core/plan/plan.js';
import { mulberry32 } from '../../../src/core/random/mulberry32.js';
import { type DecisionRequest, type FrequencyView, selectAd } from '../../../src/core/selection/select-ad.js';
import { CreditBook, SelectorState } from '../../../src/core/selection/selector-state.js';
import type { RequestContext, TargetingRule } from '../../../src/core/targeting/targeting-rule.js';
import { makeAd } from '../../support/fixtures.js';
import { contextValueFrom, referenceMatches, targetingArbs } from '../../support/targeting-reference.js';

const T0 = Date.UTC(2025, 0, 1);
const ISO = new Date(T0).toISOString();
const iso = (ms: number): string => new Date(ms).toISOString();

function compileSnapshot(
  ads: Ad[],
  targets: Record<string, number>,
  fallback: string | null,
  overrides?: Record<string, number>,
  placementId = 'p',
): Plan {
  const placement: Placement = {
    id: placementId,
    name: placementId,
    fallbackAdId: fallback,
    window: DEFAULT_ALLOCATION_WINDOW,
    createdAt: ISO,
    updatedAt: ISO,
  };
  const set = { placementId, version: 1, updatedAt: ISO, targets: [] as { adId: string; share: number }[] };
  for (const [adId, share] of Object.entries(targets)) set.targets.push({ adId, share });
  const snapshot: ConfigSnapshot = { revision: 1, ads, placements: [placement], targets: [set] };
  const ov: WeightOverrides | undefined =
    overrides === undefined ? undefined : new Map([[placementId, new Map(Object.entries(overrides))]]);
  return compilePlan(snapshot, ov);
}
function compile(
  ads: Ad[],
  targets: Record<string, number>,
  fallback: string | null,
  overrides?: Record<string, number>,
  placementId = 'p',
): CompiledPlacement {
  return compileSnapshot(ads, targets, fallback, overrides, placementId).placements.get(placementId)!;
}

const noCaps: FrequencyView = { isCapped: () => false };
function req(context: RequestContext = {}, userId: string | null = null, nowMs = T0): DecisionRequest {
  return { userId, context, nowMs };
}
function pick(pl: CompiledPlacement, book: CreditBook, r: DecisionRequest, freq = noCaps): string | null {
  const i = selectAd(pl, book, r, freq);
  return i < 0 ? null : pl.candidates[i]!.id;
}

const value = contextValueFrom(['x', 'y'], [0, 1, 2]);
const { rule: ruleArb, context: contextArb } = targetingArbs({
  context: { a: value, b: value, c: value },
  listValue: value,
  maxListLength: 3,
  bound: fc.constantFrom(0, 1, 2),
  ops: ['in', 'notIn', 'gte', 'lt', 'exists'],
  maxDepth: 2,
});

describe('selectAd: smoothness', () => {
  it('serves 0.3/0.5 + fallback 0.2 within one pick of share × n at every step of 10,000', () => {
    const pl = compile([makeAd('a'), makeAd('b'), makeAd('f')], { a: 0.3, b: 0.5 }, 'f');
    expect(pl.candidates.map((c) => c.id)).toEqual(['a', 'b', 'f']);
    const shares = [0.3, 0.5, 0.2];
    const counts = [0, 0, 0];
    const book = new SelectorState().bookFor(pl);
    let worst = 0;
    for (let n = 1; n <= 10_000; n++) {
      const i = selectAd(pl, book, req(), noCaps);
      expect(i).toBeGreaterThanOrEqual(0);
      counts[i]!++;
      for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(counts[k]! - shares[k]! * n));
    }
    expect(worst).toBeLessThanOrEqual(1 + 1e-9);
    for (let k = 0; k < 3; k++) expect(Math.abs(counts[k]! / 10_000 - shares[k]!)).toBeLessThanOrEqual(0.005);
  });
});

interface SelectionCase {
  name: string;
  /** The hand derivation, for a reader. */
  why?: string;
  ads: { id: string; share?: number; status?: 'paused' }[];
  fallback: string | null;
  overrides?: Record<string, number>;
  steps: string[][];
  expected: (string | null)[];
}
const selectionCases = JSON.parse(
  readFileSync(new URL('./selection-cases.json', import.meta.url), 'utf8'),
) as SelectionCase[];

describe('selectAd: golden sequences', () => {
  it.each(selectionCases)('$name', (c) => {
    expect(c.steps).toHaveLength(c.expected.length);
    // Each ad is eligible exactly when the context carries its id.
    const ads = c.ads.map((a) =>
      makeAd(a.id, { status: a.status ?? 'active', targeting: { key: a.id, exists: true } }),
    );
    const targets = Object.fromEntries(
      c.ads.flatMap((a) => (a.share === undefined ? [] : [[a.id, a.share]])),
    );
    const pl = compile(ads, targets, c.fallback, c.overrides);
    const state = new SelectorState();
    const got = c.steps.map((eligible) =>
      pick(pl, state.bookFor(pl), req(Object.fromEntries(eligible.map((id) => [id, true])))),
    );
    expect(got).toEqual(c.expected);
  });
});

describe('selectAd: eligibility', () => {
  const de: TargetingRule = { key: 'country', in: ['DE'] };

  it('returns -1 when nothing is eligible and there is no fallback', () => {
    const pl = compile([makeAd('a', { targeting: de })], { a: 0.6 }, null);
    expect(selectAd(pl, new CreditBook(pl), req({ country: 'US' }), noCaps)).toBe(-1);
    expect(selectAd(pl, new CreditBook(pl), req({}), noCaps)).toBe(-1);
  });

  it('serves the fallback when the targeted ads are ineligible', () => {
    const pl = compile([makeAd('a', { targeting: de }), makeAd('f')], { a: 1 }, 'f');
    const book = new CreditBook(pl);
    expect([pick(pl, book, req({ country: 'US' })), pick(pl, book, req({ country: 'DE' }))]).toEqual([
      'f',
      'a',
    ]);
  });

  it('leaves paused ads out of the candidates, including a paused fallback', () => {
    const ads = [makeAd('a', { status: 'paused' }), makeAd('b'), makeAd('f', { status: 'paused' })];
    const pl = compile(ads, { a: 0.5, b: 0.25 }, 'f');
    expect(pl.candidates.map((c) => c.id)).toEqual(['b']);
    expect(pl.fallbackIndex).toBe(-1);
    const onlyPaused = compile(
      [makeAd('a', { status: 'paused' }), makeAd('f', { status: 'paused' })],
      { a: 1 },
      'f',
    );
    expect(onlyPaused.candidates).toHaveLength(0);
    expect(selectAd(onlyPaused, new CreditBook(onlyPaused), req(), noCaps)).toBe(-1);
  });

  it('never serves an ad outside its flight dates (start inclusive, end exclusive)', () => {
    const a = makeAd('a', { startAt: iso(T0 + 1000), endAt: iso(T0 + 2000) });
    const pl = compile([a, makeAd('f')], { a: 1 }, 'f');
    const book = new CreditBook(pl);
    const at = (dt: number) => pick(pl, book, req({}, null, T0 + dt));
    expect([0, 999, 1000, 1500, 1999, 2000, 99_999].map(at)).toEqual(['f', 'f', 'a', 'a', 'a', 'f', 'f']);
  });

  it('never serves a capped ad to an anonymous request, and stops at the cap', () => {
    const cap: FrequencyCap = { impressions: 2, windowSeconds: 60 };
    const pl = compile([makeAd('a', { frequencyCap: cap }), makeAd('f')], { a: 1 }, 'f');
    const freq = createMemoryFrequencyStore({ pendingMs: 600_000 });
    const book = new CreditBook(pl);
    expect(pick(pl, book, req({}, null), freq)).toBe('f');
    const served: (string | null)[] = [];
    for (let k = 0; k < 4; k++) {
      const id = pick(pl, book, req({}, 'u1', T0 + k), freq);
      if (id === 'a') freq.reserve('u1', 'a', `d${k}`, cap, T0 + k);
      served.push(id);
    }
    expect(served).toEqual(['a', 'a', 'f', 'f']);
    expect(pick(pl, book, req({}, 'u2', T0 + 5), freq)).toBe('a');
    expect(pick(pl, book, req({}, 'u1', T0 + 60_000), freq)).toBe('a');
  });
});

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
        let nowMs = T0 - 5000;
        requests.forEach((q, k) => {
          nowMs += q.dtMs;
          const r = req(q.context, q.userId, nowMs);
          const idx = selectAd(pl, state.bookFor(pl), r, freq);
          const elig = pl.candidates.map((c) => eligible(c.id, r));
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

describe('selectAd: pattern keys', () => {
  it.each([2, 26, 27, 52, 53, 60])(
    'gives every eligibility pattern its own credits with %i candidates',
    (k) => {
      const ids = Array.from({ length: k }, (_, i) => `ad${i}`);
      const ads = ids.map((id) => makeAd(id, { targeting: { key: id, exists: true } }));
      const pl = compile(
        ads,
        Object.fromEntries(ids.map((id) => [id, 1 / k])),
        null,
        Object.fromEntries(ids.map((id, i) => [id, i === 0 ? 0.5 : 0.25])),
      );
      // Singletons, neighbours {i, i+1} and pairs {0, i}: patterns that differ in one bit, across
      // the two halves of the numeric key (26 bits each) and, beyond 52 candidates, the string key.
      const patterns = [
        ...ids.map((_, i) => [i]),
        ...ids.slice(1, -1).map((_, j) => [j + 1, j + 2]),
        ...ids.slice(1).map((_, j) => [0, j + 1]),
      ];
      const book = new SelectorState().bookFor(pl);
      const got = patterns.map(() => [] as number[]);
      for (let round = 0; round < 3; round++) {
        patterns.forEach((m, p) => {
          got[p]!.push(selectAd(pl, book, req(Object.fromEntries(m.map((i) => [ids[i]!, true]))), noCaps));
        });
      }
      // Alone: always i. Equal weights .25/.25: i, i+1, i. Weights .5/.25: 0, i, 0.
      expect(got).toEqual(patterns.map((m) => [m[0], m[1] ?? m[0], m[0]]));
      expect(book.patterns).toBe(patterns.length);
    },
  );
});

describe('SelectorState', () => {
  const targeted = (ids: string[]) => ids.map((id) => makeAd(id, { targeting: { key: id, exists: true } }));
  const ctx = (...ids: string[]) => req(Object.fromEntries(ids.map((id) => [id, true])));

  it('returns the same book for the same compiled placement', () => {
    const state = new SelectorState();
    const pl = compile([makeAd('a'), makeAd('b')], { a: 0.5, b: 0.5 }, null);
    const book = state.bookFor(pl);
    expect(book.placement).toBe(pl);
    expect(state.bookFor(pl)).toBe(book);
    // The credits persist between look-ups: a, then b (a fresh book each time would give a, a).
    expect([pick(pl, state.bookFor(pl), req()), pick(pl, state.bookFor(pl), req())]).toEqual(['a', 'b']);
    expect(state.bookFor(pl)).toBe(book);
    expect(book.patterns).toBe(1);
  });

  it('keeps every pattern’s credits for a new compiled placement with the same candidates', () => {
    const state = new SelectorState();
    const plan = compileSnapshot(targeted(['a', 'b', 'c']), { a: 0.5, b: 0.25, c: 0.25 }, null);
    const first = plan.placements.get('p')!;
    // {a,b}: (.5,.25) a → (−.25,.25). {a,c}: likewise a → (−.25,.25).
    expect([
      pick(first, state.bookFor(first), ctx('a', 'b')),
      pick(first, state.bookFor(first), ctx('a', 'c')),
    ]).toEqual(['a', 'a']);

    const second = withWeights(plan, new Map([['p', new Map([['a', 0.25]])]])).placements.get('p')!;
    expect(second).not.toBe(first);
    expect(second.candidateKey).toBe(first.candidateKey);
    const book = state.bookFor(second);
    expect(book.placement).toBe(second);
    expect(book.patterns).toBe(2);
    // Kept credits, new weights .25/.25: {a,b} (0,.5) b → (0,0), then a b a. Fresh credits would give a b a b;
    // kept credits with the old weights b a a b.
    const ab = [0, 1, 2, 3].map(() => pick(second, state.bookFor(second), ctx('a', 'b')));
    expect(ab).toEqual(['b', 'a', 'b', 'a']);
    expect(pick(second, state.bookFor(second), ctx('a', 'c'))).toBe('c');

    // A recompile of the same configuration is a new object with the same candidates, too.
    const third = compileSnapshot(
      targeted(['a', 'b', 'c']),
      { a: 0.5, b: 0.25, c: 0.25 },
      null,
    ).placements.get('p')!;
    expect(third).not.toBe(second);
    // {a,b} stands at (−.25,.25) after b a b a; with weights .5/.25 again (.25,.5) → b (fresh: a).
    expect(pick(third, state.bookFor(third), ctx('a', 'b'))).toBe('b');
    expect(state.bookFor(third).patterns).toBe(2);
  });

  it('starts afresh when the candidate list changes', () => {
    const state = new SelectorState();
    const first = compile([makeAd('a'), makeAd('b')], { a: 0.5, b: 0.5 }, null);
    expect(pick(first, state.bookFor(first), req())).toBe('a'); // credits (a −.5, b .5)

    // Same ads, other order: kept credits (by index) would now serve a; fresh ones tie → b.
    const reordered = compile([makeAd('a'), makeAd('b')], { b: 0.5, a: 0.5 }, null);
    expect(reordered.candidateIds).toEqual(['b', 'a']);
    const book = state.bookFor(reordered);
    expect(book.placement).toBe(reordered);
    expect(book.patterns).toBe(0);
    expect(pick(reordered, book, req())).toBe('b'); // credits (b −.5, a .5)

    // One more candidate (weight 0, so the eligible pattern {b,a} is unchanged): fresh again.
    const grown = compile([makeAd('a'), makeAd('b'), makeAd('c')], { b: 0.5, a: 0.5, c: 0.5 }, null, {
      c: 0,
    });
    expect(grown.candidateIds).toEqual(['b', 'a', 'c']);
    expect(state.bookFor(grown).patterns).toBe(0);
    expect(pick(grown, state.bookFor(grown), req())).toBe('b');
  });

  it('retain() drops the books of placements no longer in the plan', () => {
    const state = new SelectorState();
    const p = compile([makeAd('a'), makeAd('b')], { a: 0.5, b: 0.5 }, null, undefined, 'p');
    const q = compile([makeAd('a'), makeAd('b')], { a: 0.5, b: 0.5 }, null, undefined, 'q');
    // Placements have separate books even with the same candidates.
    expect([pick(p, state.bookFor(p), req()), pick(q, state.bookFor(q), req())]).toEqual(['a', 'a']);
    const bp = state.bookFor(p);
    const bq = state.bookFor(q);

    state.retain(new Set(['p']));
    expect(state.bookFor(p)).toBe(bp);
    expect(state.bookFor(q)).not.toBe(bq);
    expect(state.bookFor(q).patterns).toBe(0);
    expect([pick(p, state.bookFor(p), req()), pick(q, state.bookFor(q), req())]).toEqual(['b', 'a']);

    state.retain(new Map([['q', 1]]));
    const q2 = compile([makeAd('a'), makeAd('b')], { a: 0.5, b: 0.5 }, null, undefined, 'q');
    expect(pick(q2, state.bookFor(q2), req())).toBe('b'); // q kept, and rebound to the recompile
    const p2 = compile([makeAd('a'), makeAd('b')], { a: 0.5, b: 0.5 }, null, undefined, 'p');
    expect(state.bookFor(p2).patterns).toBe(0);
    expect(pick(p2, state.bookFor(p2), req())).toBe('a');
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMemoryFrequencyStore } from '../../../src/adapters/memory/memory-frequency-store.js';
import type { FrequencyCap } from '../../../src/core/domain/ad.js';
import { withWeights } from '../../../src/core/plan/compile-plan.js';
import { selectAd } from '../../../src/core/selection/select-ad.js';
import { CreditBook, SelectorState } from '../../../src/core/selection/selector-state.js';
import type { TargetingRule } from '../../../src/core/targeting/targeting-rule.js';
import { makeAd } from '../../support/fixtures.js';

import { compile, compileSnapshot, iso, noCaps, pick, req, T0 } from './selection-helpers.js';

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

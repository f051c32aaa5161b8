import type { RequestContext } from '../../src/core/targeting/targeting-rule.js';
import type { Case } from './case.js';
import { MASK, REQS, snapshot, T0 } from './fixtures.js';
import { sink } from './sink.js';

/** Each request's compiled placement and credit book, a memory frequency store with prior serves. */
async function selectionFixture() {
  const [{ compilePlan }, { SelectorState }, { createMemoryFrequencyStore }] = await Promise.all([
    import('../../src/core/plan/compile-plan.js'),
    import('../../src/core/selection/selector-state.js'),
    import('../../src/adapters/memory/memory-frequency-store.js'),
  ]);
  const plan = compilePlan(snapshot());
  const selector = new SelectorState();
  const freq = createMemoryFrequencyStore({ pendingMs: 960_000 });
  const placements = REQS.map((r) => {
    const p = plan.placements.get(r.placementId);
    if (p === undefined) throw new Error(`plan has no ${r.placementId}`);
    return p;
  });
  const books = placements.map((p) => selector.bookFor(p));
  // Two serves of a capped ad per request's user: isCapped walks a real list.
  const cap = { impressions: 5, windowSeconds: 3600 };
  REQS.forEach((r, i) => {
    const adId = `${r.placementId.replace('pl', 'p')}-a5`;
    freq.reserve(r.userId, adId, `d${i}a`, cap, T0 - 60_000);
    freq.reserve(r.userId, adId, `d${i}b`, cap, T0 - 30_000);
  });
  return { placements, books, freq };
}

/** `selectAd` alone, and as a sampled request runs it (after `describeEligibility`). */
export const selectionCases: Case[] = [
  {
    name: 'selection: selectAd',
    what: '`selectAd` over a placement of 20 candidates (targeting, caps, smooth weighted round-robin)',
    batch: 32,
    setup: async () => {
      const { selectAd } = await import('../../src/core/selection/select-ad.js');
      const { placements, books, freq } = await selectionFixture();
      const req = { userId: null as string | null, context: {} as RequestContext, nowMs: T0 };
      let k = 0;
      return (n) => {
        let filled = 0;
        for (let i = 0; i < n; i++) {
          const r = REQS[k]!;
          req.userId = r.userId;
          req.context = r.context;
          if (selectAd(placements[k]!, books[k]!, req, freq) >= 0) filled++;
          k = (k + 1) & MASK;
        }
        sink.value += filled;
      };
    },
  },
  {
    name: 'selection: sampled (describeEligibility + selectAd)',
    what: 'a sampled request: eligibility described once (mix key), then `selectAd` reusing it',
    batch: 32,
    setup: async () => {
      const [{ selectAd }, { describeEligibility }] = await Promise.all([
        import('../../src/core/selection/select-ad.js'),
        import('../../src/core/selection/describe-eligibility.js'),
      ]);
      const { placements, books, freq } = await selectionFixture();
      const req = { userId: null as string | null, context: {} as RequestContext, nowMs: T0 };
      const known = new Uint8Array(64);
      let k = 0;
      return (n) => {
        let acc = 0;
        for (let i = 0; i < n; i++) {
          const r = REQS[k]!;
          req.userId = r.userId;
          req.context = r.context;
          const p = placements[k]!;
          acc += describeEligibility(p, req, freq, known).length;
          acc += selectAd(p, books[k]!, req, freq, known);
          k = (k + 1) & MASK;
        }
        sink.value += acc;
      };
    },
  },
];

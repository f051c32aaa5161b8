import { createMemoryCounterStore } from '../../src/adapters/memory/memory-counter-store.js';
import { createMemoryFrequencyStore } from '../../src/adapters/memory/memory-frequency-store.js';
import { createMemoryMixStore } from '../../src/adapters/memory/memory-mix-store.js';
import { createAllocationController } from '../../src/controller/allocation-controller.js';
import type { Ad } from '../../src/core/domain/ad.js';
import { compilePlan, withWeights } from '../../src/core/plan/compile-plan.js';
import { mulberry32 } from '../../src/core/random/mulberry32.js';
import { describeEligibility } from '../../src/core/selection/describe-eligibility.js';
import { selectAd } from '../../src/core/selection/select-ad.js';
import { SelectorState } from '../../src/core/selection/selector-state.js';
import type { RequestContext } from '../../src/core/targeting/targeting-rule.js';
import { hourBucket } from '../../src/core/window/allocation-window.js';

export interface LoopAd {
  ad: Ad;
  share: number;
  render: number;
}

/**
 * A compact closed loop for tests: one decision server, the real selection, mix sampling,
 * counters and controller runtime, impressions fired with each ad's render rate. The
 * simulator (src/sim) is the full-featured version; this one keeps unit tests small and fast.
 */
export async function runClosedLoop(opts: {
  ads: LoopAd[];
  fallback: LoopAd | null;
  traffic: (rnd: () => number) => RequestContext;
  decisions: number;
  stepEvery: number;
  seed: number;
}) {
  const all = opts.fallback ? [...opts.ads, opts.fallback] : opts.ads;
  let plan = compilePlan({
    revision: 1,
    ads: all.map((a) => a.ad),
    placements: [
      {
        id: 'p',
        name: 'p',
        fallbackAdId: opts.fallback?.ad.id ?? null,
        window: { lengthHours: 24, timeZone: 'UTC' },
        createdAt: '',
        updatedAt: '',
      },
    ],
    targets: [
      {
        placementId: 'p',
        version: 1,
        updatedAt: null,
        targets: opts.ads.map((a) => ({ adId: a.ad.id, share: a.share })),
      },
    ],
  });
  const counters = createMemoryCounterStore();
  const mix = createMemoryMixStore({ halfLifeMs: 3_600_000 });
  const freq = createMemoryFrequencyStore({ pendingMs: 60_000 });
  let now = Date.parse('2026-06-01T01:00:00Z');
  const controller = createAllocationController({
    plan: () => plan,
    counters,
    mix,
    now: () => now,
    intervalMs: 1000,
    publish: (u) => {
      plan = withWeights(plan, new Map([...u].map(([k, v]) => [k, v.weights])));
    },
  });
  const selector = new SelectorState();
  const rnd = mulberry32(opts.seed);
  const render = new Map(all.map((a) => [a.ad.id, a.render]));
  const impressions = new Map<string, number>();
  let total = 0;
  const req = { userId: null as string | null, context: {} as RequestContext, nowMs: 0 };
  for (let i = 0; i < opts.decisions; i++) {
    now += 10;
    req.context = opts.traffic(rnd);
    req.nowMs = now;
    const p = plan.placements.get('p')!;
    mix.record('p', p.candidateKey, p.candidateIds, describeEligibility(p, req, freq), req.context, now);
    const k = selectAd(p, selector.bookFor(p), req, freq);
    if (k >= 0) {
      const id = p.candidates[k]!.id;
      const fired = rnd() < render.get(id)!;
      await counters.add([
        {
          placementId: 'p',
          adId: id,
          bucketStartMs: hourBucket(now),
          decisions: 1,
          impressions: fired ? 1 : 0,
          clicks: 0,
        },
      ]);
      if (fired) {
        impressions.set(id, (impressions.get(id) ?? 0) + 1);
        total++;
      }
    }
    if (i + 1 === 100 || i + 1 === 300 || (i + 1) % opts.stepEvery === 0) await controller.step();
  }
  await controller.step();
  const report = controller.report('p')!;
  const share = (id: string) => (impressions.get(id) ?? 0) / total;
  return { report, share, total };
}

import type { Ad } from '../domain/ad.js';
import type { ConfigSnapshot } from '../domain/config-snapshot.js';
import type { Placement, Target, TargetSet } from '../domain/placement.js';
import { compileTargeting } from '../targeting/compile-targeting.js';
import type { CompiledAd, CompiledPlacement, Plan } from './plan.js';

/** Optional serving weights per placement and ad (the controller's output). */
export type WeightOverrides = ReadonlyMap<string, ReadonlyMap<string, number>>;

const toMs = (iso: string | null, open: number): number => (iso === null ? open : Date.parse(iso));

export function compileAd(ad: Ad): CompiledAd {
  return {
    id: ad.id,
    active: ad.status === 'active',
    startMs: toMs(ad.startAt, Number.NEGATIVE_INFINITY),
    endMs: toMs(ad.endAt, Number.POSITIVE_INFINITY),
    matches: compileTargeting(ad.targeting),
    cap: ad.frequencyCap,
    clickUrl: ad.clickUrl,
    json: JSON.stringify({ id: ad.id, creative: ad.creative }),
  };
}

/**
 * Compiles the configuration into the immutable plan the decision path reads.
 *
 * Candidates of a placement are its targeted ads with a positive share, then the fallback,
 * which also takes the remainder 1 − Σ shares. Paused ads are left out here, so the hot path
 * never checks status. Without overrides, serving weights equal target shares.
 */
export function compilePlan(snapshot: ConfigSnapshot, overrides?: WeightOverrides): Plan {
  const steps = compilePlanSteps(snapshot, overrides);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** Ads (or placements) compiled between two pauses of `compilePlanSteps`. */
const STEP = 1000;

/**
 * `compilePlan` in steps: the generator pauses (yields) after every STEP ads or placements and
 * returns the plan. A caller on an event loop can let other work run between steps — at
 * 500,000 ads the whole compile takes seconds. The result is the same as `compilePlan`'s.
 */
export function* compilePlanSteps(
  snapshot: ConfigSnapshot,
  overrides?: WeightOverrides,
): Generator<void, Plan> {
  const ads = new Map<string, CompiledAd>();
  let n = 0;
  for (const ad of snapshot.ads) {
    ads.set(ad.id, compileAd(ad));
    if (++n % STEP === 0) yield;
  }
  const targetsByPlacement = new Map<string, TargetSet>();
  for (const t of snapshot.targets) targetsByPlacement.set(t.placementId, t);
  const placements = new Map<string, CompiledPlacement>();
  for (const p of snapshot.placements) {
    placements.set(p.id, compilePlacement(p, targetsByPlacement.get(p.id), ads, overrides?.get(p.id)));
    if (++n % STEP === 0) yield;
  }
  return { revision: snapshot.revision, placements, ads };
}

/**
 * The share each candidate should get: targeted ads with a positive share, in order, then the
 * fallback with what they leave (added to its own share if it is also targeted).
 */
export function candidateShares(
  targets: readonly Target[],
  fallbackAdId: string | null,
): Map<string, number> {
  const shares = new Map<string, number>();
  let sum = 0;
  for (const t of targets) {
    if (t.share <= 0) continue;
    shares.set(t.adId, t.share);
    sum += t.share;
  }
  if (fallbackAdId !== null) shares.set(fallbackAdId, (shares.get(fallbackAdId) ?? 0) + Math.max(0, 1 - sum));
  return shares;
}

function compilePlacement(
  p: Placement,
  targetSet: TargetSet | undefined,
  ads: ReadonlyMap<string, CompiledAd>,
  override: ReadonlyMap<string, number> | undefined,
): CompiledPlacement {
  const fallbackId = p.fallbackAdId;
  const shares = candidateShares(targetSet?.targets ?? [], fallbackId);

  const candidates: CompiledAd[] = [];
  const targetShares: number[] = [];
  const weights: number[] = [];
  let fallbackIndex = -1;
  for (const [adId, share] of shares) {
    const ad = ads.get(adId);
    if (ad === undefined || !ad.active) continue;
    if (adId === fallbackId) fallbackIndex = candidates.length;
    candidates.push(ad);
    targetShares.push(share);
    weights.push(override?.get(adId) ?? share);
  }
  const candidateIds = candidates.map((c) => c.id);
  return {
    id: p.id,
    targetsVersion: targetSet?.version ?? 0,
    candidates,
    candidateIds,
    candidateKey: candidateIds.join(','),
    weights: Float64Array.from(weights),
    targetShares: Float64Array.from(targetShares),
    fallbackIndex,
    window: p.window,
    idJson: JSON.stringify(p.id),
  };
}

/**
 * A new plan in which the listed placements serve with new weights (ad id → weight; ads not
 * listed keep theirs). Everything else is shared with `plan`: a controller step costs one
 * placement object per changed placement, not a recompile.
 */
export function withWeights(plan: Plan, weights: ReadonlyMap<string, ReadonlyMap<string, number>>): Plan {
  const placements = new Map(plan.placements);
  for (const [placementId, byAd] of weights) {
    const p = placements.get(placementId);
    if (p === undefined) continue;
    const w = Float64Array.from(p.candidates, (ad, i) => byAd.get(ad.id) ?? p.weights[i]!);
    placements.set(placementId, { ...p, weights: w });
  }
  return { ...plan, placements };
}

import fc from 'fast-check';
import type { Ad } from '../../../src/core/domain/ad.js';
import type { ConfigSnapshot } from '../../../src/core/domain/config-snapshot.js';
import { DEFAULT_ALLOCATION_WINDOW, type Placement } from '../../../src/core/domain/placement.js';
import { compilePlan, type WeightOverrides } from '../../../src/core/plan/compile-plan.js';
import type { CompiledPlacement, Plan } from '../../../src/core/plan/plan.js';
import { type DecisionRequest, type FrequencyView, selectAd } from '../../../src/core/selection/select-ad.js';
import type { CreditBook } from '../../../src/core/selection/selector-state.js';
import type { RequestContext } from '../../../src/core/targeting/targeting-rule.js';
import { contextValueFrom, targetingArbs } from '../../support/targeting-reference.js';

/** Shared by the selection tests: compile a one-placement plan, build requests, pick. */
export const T0 = Date.UTC(2025, 0, 1);
export const ISO = new Date(T0).toISOString();
export const iso = (ms: number): string => new Date(ms).toISOString();

export function compileSnapshot(
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
export function compile(
  ads: Ad[],
  targets: Record<string, number>,
  fallback: string | null,
  overrides?: Record<string, number>,
  placementId = 'p',
): CompiledPlacement {
  return compileSnapshot(ads, targets, fallback, overrides, placementId).placements.get(placementId)!;
}

export const noCaps: FrequencyView = { isCapped: () => false };
export function req(context: RequestContext = {}, userId: string | null = null, nowMs = T0): DecisionRequest {
  return { userId, context, nowMs };
}
export function pick(
  pl: CompiledPlacement,
  book: CreditBook,
  r: DecisionRequest,
  freq = noCaps,
): string | null {
  const i = selectAd(pl, book, r, freq);
  return i < 0 ? null : pl.candidates[i]!.id;
}

export const value = contextValueFrom(['x', 'y'], [0, 1, 2]);
export const { rule: ruleArb, context: contextArb } = targetingArbs({
  context: { a: value, b: value, c: value },
  listValue: value,
  maxListLength: 3,
  bound: fc.constantFrom(0, 1, 2),
  ops: ['in', 'notIn', 'gte', 'lt', 'exists'],
  maxDepth: 2,
});

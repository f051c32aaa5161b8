import type { AllocationReport } from '../controller/allocation-controller.js';
import { assessTargets } from '../core/allocation/controller.js';
import type { RequestMix } from '../core/allocation/request-mix.js';
import { AllotError } from '../core/errors.js';
import { candidateShares } from '../core/plan/compile-plan.js';
import type { CompiledAd, Plan } from '../core/plan/plan.js';
import type { MixStore } from '../core/ports/mix-store.js';
import type { TargetsPut } from '../schemas/placement-schema.js';
import type { Clock } from './clock.js';
import type { PlacementService } from './placement-service.js';

export interface WhatIfEntry {
  adId: string;
  role: 'target' | 'fallback' | 'target+fallback';
  targetShare: number;
  achievableShare: number | null;
  reasons: string[];
}

export interface WhatIf {
  placementId: string;
  /** null: no traffic observed yet, nothing to judge by. */
  feasible: boolean | null;
  basis: { sampledRequests: number; frequencyCapsModelled: false };
  ads: WhatIfEntry[];
}

/**
 * "Would these targets be feasible?" — validates proposed targets exactly like saving them,
 * then re-evaluates each candidate's targeting and flight dates on the placement's recently
 * sampled request contexts and runs the same feasibility analysis as the controller, with the
 * render rates observed so far. Frequency caps depend on each user's history and are not
 * re-simulated here (the controller's `/status` accounts for them on live traffic).
 */
export function createFeasibilityService(deps: {
  placements: PlacementService;
  plan: () => Plan;
  mix: Pick<MixStore, 'recentContexts'>;
  report: (
    placementId: string,
  ) => AllocationReport | undefined | Promise<AllocationReport | null | undefined>;
  clock: Clock;
}) {
  return {
    async whatIf(placementId: string, input: TargetsPut): Promise<WhatIf> {
      const problems = await deps.placements.checkTargets(placementId, input);
      if (problems.length > 0) throw new AllotError('ALLOT_ERR_VALIDATION', 'invalid targets', problems);
      const placement = await deps.placements.get(placementId);
      const plan = deps.plan();

      // Candidates as compilePlan would build them from these targets.
      const fb = placement.fallbackAdId;
      const shares = candidateShares(input.targets, fb);
      const ads: CompiledAd[] = [];
      const targets: number[] = [];
      for (const [adId, share] of shares) {
        const ad = plan.ads.get(adId);
        if (ad === undefined) continue;
        ads.push(ad);
        targets.push(share);
      }
      const fallbackIndex = fb === null ? -1 : ads.findIndex((a) => a.id === fb);
      const role = (adId: string): WhatIfEntry['role'] =>
        adId !== fb
          ? 'target'
          : input.targets.some((t) => t.adId === fb && t.share > 0)
            ? 'target+fallback'
            : 'fallback';

      const contexts = await deps.mix.recentContexts(placementId);
      if (contexts.length === 0 || ads.length === 0) {
        return {
          placementId,
          feasible: null,
          basis: { sampledRequests: contexts.length, frequencyCapsModelled: false },
          ads: ads.map((a, i) => ({
            adId: a.id,
            role: role(a.id),
            targetShare: targets[i]!,
            achievableShare: null,
            reasons: [],
          })),
        };
      }
      const nowMs = deps.clock.now();
      const patterns = new Map<string, { eligible: number[]; mass: number }>();
      const matchMass: number[] = ads.map(() => 0);
      for (const ctx of contexts) {
        const eligible: number[] = [];
        ads.forEach((ad, i) => {
          if (ad.active && nowMs >= ad.startMs && nowMs < ad.endMs && ad.matches(ctx)) eligible.push(i);
        });
        for (const i of eligible) matchMass[i]!++;
        const key = eligible.join(',');
        const p = patterns.get(key);
        if (p === undefined) patterns.set(key, { eligible, mass: 1 });
        else p.mass++;
      }
      const mix: RequestMix = {
        adIds: ads.map((a) => a.id),
        patterns: [...patterns.values()],
        matchMass,
        totalMass: contexts.length,
      };
      const report = (await deps.report(placementId)) ?? undefined;
      const renderRates = ads.map((a) => {
        const k = report?.adIds.indexOf(a.id) ?? -1;
        return k >= 0 ? report!.renderRates[k]! : 1;
      });
      const assessed = assessTargets(targets, renderRates, fallbackIndex, mix);
      return {
        placementId,
        feasible: assessed.feasible && ads.every((a, i) => a.active || targets[i] === 0),
        basis: { sampledRequests: contexts.length, frequencyCapsModelled: false },
        ads: ads.map((a, i) => {
          const reasons: string[] = [];
          const limit = assessed.limits[i];
          if (!a.active) reasons.push('paused');
          else if (limit && i !== fallbackIndex) reasons.push(limit);
          return {
            adId: a.id,
            role: role(a.id),
            targetShare: Math.round(targets[i]! * 1e12) / 1e12,
            achievableShare: Math.round(assessed.achievable[i]! * 1e6) / 1e6,
            reasons,
          };
        }),
      };
    },
  };
}

export type FeasibilityService = ReturnType<typeof createFeasibilityService>;

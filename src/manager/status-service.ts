import type { AllocationReport } from '../controller/allocation-controller.js';
import type { Ad } from '../core/domain/ad.js';
import { AllotError } from '../core/errors.js';
import type { ConfigStore } from '../core/ports/config-store.js';
import type { AdCounts, CounterStore } from '../core/ports/counter-store.js';
import { estimateShare, sumTallies, type WeightedTally } from '../core/sampling/weighted-share.js';
import { windowAt } from '../core/window/allocation-window.js';
import type { Clock } from './clock.js';

export type StatusReason = 'paused' | 'notInFlight' | 'missing' | 'targeting' | 'frequencyCap' | 'overbooked';

export interface StatusEntry {
  adId: string;
  role: 'target' | 'fallback' | 'target+fallback';
  targetShare: number;
  impressions: number;
  decisions: number;
  clicks: number;
  share: number;
  ci95: [number, number];
  /** True when the counts are a weighted sample: impressions and share are estimates. */
  estimated: boolean;
  /** Sampled impressions behind the estimate, and the effective sampling rate (1 = exact). */
  samples: number;
  sampleRate: number;
  /** The impression share the ad can reach given targeting, caps, competition and render rates. */
  achievableShare: number | null;
  /** Impressions ÷ decisions in the window (the controller's estimate, with its prior). */
  renderRate: number | null;
  /** Current serving weight (the controller's output). */
  weight: number | null;
  feasible: boolean;
  reasons: StatusReason[];
}

export interface PlacementStatus {
  placementId: string;
  targetsVersion: number;
  window: { start: string; end: string };
  asOf: string;
  totalImpressions: number;
  feasible: boolean;
  controller: { lastStepAt: string | null; samples: number };
  ads: StatusEntry[];
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

const ZERO: AdCounts = { decisions: 0, impressions: 0, clicks: 0 };

function reasonsFor(ad: Ad | undefined, nowMs: number): StatusReason[] {
  if (ad === undefined) return ['missing'];
  const reasons: StatusReason[] = [];
  if (ad.status === 'paused') reasons.push('paused');
  const start = ad.startAt === null ? Number.NEGATIVE_INFINITY : Date.parse(ad.startAt);
  const end = ad.endAt === null ? Number.POSITIVE_INFINITY : Date.parse(ad.endAt);
  if (nowMs < start || nowMs >= end) reasons.push('notInFlight');
  return reasons;
}

/**
 * Live allocation status of a placement: per targeted ad and the fallback, impressions in the
 * current window, realized share of all the placement's impressions, and a Wilson 95 %
 * interval. Counts are exact in embedded mode (`estimated: false`). Feasibility here covers
 * what config alone decides (paused, out of flight); targeting and caps are weighed by the
 * allocation engine.
 */
export function createStatusService(deps: {
  store: ConfigStore;
  counters: CounterStore;
  clock: Clock;
  /** The controller's latest report (in-process, or read from the allocation state store). */
  report: (
    placementId: string,
  ) => AllocationReport | undefined | Promise<AllocationReport | null | undefined>;
}) {
  return {
    async get(placementId: string): Promise<PlacementStatus> {
      const nowMs = deps.clock.now();
      const placement = await deps.store.getPlacement(placementId);
      const targetSet = await deps.store.getTargets(placementId);
      if (placement === null || targetSet === null) {
        throw new AllotError('ALLOT_ERR_NOT_FOUND', `placement "${placementId}" not found`);
      }
      const win = windowAt(placement.window, nowMs);
      const counts = await deps.counters.read(placementId, win.startMs, win.endMs);
      // Exact counts or a weighted sample (Σw, Σw², samples): one estimator covers both, and
      // reduces to the exact share with a Wilson interval when every weight is 1.
      const tallyOf = (c: AdCounts): WeightedTally => ({
        sumW: c.impressions,
        sumW2: c.impressionsW2 ?? c.impressions,
        samples: c.impressionSamples ?? c.impressions,
      });
      const placementTally = sumTallies([...counts.values()].map(tallyOf));
      const total = placementTally.sumW;

      const roles = new Map<string, { role: StatusEntry['role']; share: number }>();
      let sum = 0;
      for (const t of targetSet.targets) {
        roles.set(t.adId, { role: 'target', share: t.share });
        sum += t.share;
      }
      const fb = placement.fallbackAdId;
      if (fb !== null) {
        const existing = roles.get(fb);
        const remainder = Math.max(0, 1 - sum);
        roles.set(fb, {
          role: existing === undefined ? 'fallback' : 'target+fallback',
          // Rounded so 1 − 0.3 − 0.5 reads 0.2, not 0.19999999999999996.
          share: Math.round(((existing?.share ?? 0) + remainder) * 1e12) / 1e12,
        });
      }
      const ads = new Map<string, Ad>();
      for (const adId of roles.keys()) {
        const ad = await deps.store.getAd(adId);
        if (ad !== null) ads.set(adId, ad);
      }

      const rep = (await deps.report(placementId)) ?? undefined;
      const report = rep !== undefined && rep.targetsVersion === targetSet.version ? rep : undefined;
      const entries: StatusEntry[] = [];
      for (const [adId, { role, share }] of roles) {
        const c = counts.get(adId) ?? ZERO;
        const est = estimateShare(tallyOf(c), placementTally);
        const reasons = share > 0 ? reasonsFor(ads.get(adId), nowMs) : [];
        const k = report?.adIds.indexOf(adId) ?? -1;
        const limit = k >= 0 ? report!.limits[k] : null;
        // A paused or out-of-flight ad also looks limited to the controller: say the cause, not the symptom.
        if (limit && role !== 'fallback' && reasons.length === 0) reasons.push(limit);
        entries.push({
          adId,
          role,
          targetShare: share,
          impressions: round(est.impressions),
          decisions: round(c.decisions),
          clicks: round(c.clicks),
          share: est.share,
          ci95: est.ci95,
          estimated: est.estimated,
          samples: est.samples,
          sampleRate: round(est.sampleRate),
          achievableShare: k >= 0 ? round(report!.achievable[k]!) : null,
          renderRate: k >= 0 ? round(report!.renderRates[k]!) : null,
          weight: k >= 0 ? round(report!.weights[k]!) : null,
          feasible: reasons.length === 0,
          reasons,
        });
      }
      return {
        placementId,
        targetsVersion: targetSet.version,
        window: { start: new Date(win.startMs).toISOString(), end: new Date(win.endMs).toISOString() },
        asOf: new Date(nowMs).toISOString(),
        totalImpressions: round(total),
        feasible: entries.every((e) => e.feasible),
        controller: {
          lastStepAt: report === undefined ? null : new Date(report.atMs).toISOString(),
          samples: report?.samples ?? 0,
        },
        ads: entries,
      };
    },
  };
}

export type StatusService = ReturnType<typeof createStatusService>;

import { samplingRateFor, smoothTraffic } from '../core/sampling/sampling-rate.js';

/** Which share of a placement's decision and impression events the live counters sample. */
export interface SamplingPolicy {
  rateFor(placementId: string): number;
  /** Tells the policy about `impressions` impression events of a placement (before sampling). */
  observe(placementId: string, impressions: number, nowMs: number): void;
}

export const EXACT_SAMPLING: SamplingPolicy = { rateFor: () => 1, observe: () => undefined };

/** One rate for every placement (simulations, tests). */
export const fixedSamplingPolicy = (rate: number): SamplingPolicy => ({
  rateFor: () => rate,
  observe: () => undefined,
});

interface Traffic {
  intervalStartMs: number;
  count: number;
  smoothed: number | undefined;
  rate: number;
}

/**
 * Confidence-driven sampling: per placement, the rate that gives ±`margin` at `confidence` on an
 * impression share within one `intervalMs`, from the impressions observed per interval
 * (`samplingRateFor`, worst-case share 0.5). Low-traffic placements are counted exactly; busy
 * ones are sampled less. The expected traffic errs low (the smaller of the smoothed and the last
 * interval), which only costs samples. Rates start at 1 until a full interval has been seen.
 */
export function createSamplingPolicy(opts: {
  margin: number;
  confidence: number;
  intervalMs: number;
}): SamplingPolicy {
  const traffic = new Map<string, Traffic>();
  return {
    rateFor: (placementId) => traffic.get(placementId)?.rate ?? 1,
    observe(placementId, impressions, nowMs) {
      let t = traffic.get(placementId);
      if (t === undefined) {
        t = { intervalStartMs: nowMs, count: 0, smoothed: undefined, rate: 1 };
        traffic.set(placementId, t);
      }
      if (nowMs - t.intervalStartMs >= opts.intervalMs) {
        const last = t.count;
        t.smoothed = smoothTraffic(t.smoothed, last);
        t.rate = samplingRateFor({
          expectedEventsPerInterval: Math.min(t.smoothed, last),
          margin: opts.margin,
          confidence: opts.confidence,
        });
        t.intervalStartMs = nowMs;
        t.count = 0;
      }
      t.count += impressions;
    },
  };
}

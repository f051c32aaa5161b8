import { wilsonInterval } from '../stats/wilson-interval.js';

/**
 * What the aggregator keeps per ad (and per placement) from a Bernoulli sample of impression
 * events, each sampled with probability q and so carrying weight w = 1/q. Sums are mergeable
 * across intervals and servers even when they sampled at different rates, which is why weights,
 * not rates, are stored.
 */
export interface WeightedTally {
  /** Σw: the Horvitz–Thompson estimate of the impressions behind the samples. */
  sumW: number;
  /** Σw²: needed for the variance; equals sumW (and samples) when every weight is 1. */
  sumW2: number;
  /** Number of sampled events. */
  samples: number;
}

/** A share estimate as `/status` reports it for one ad. */
export interface ShareEstimate {
  /** Estimated impressions (Σw); exact when the placement was counted exactly. */
  impressions: number;
  /** Estimated share of the placement's impressions, Σw(ad)/Σw(placement); 0 with no data. */
  share: number;
  /** Two-sided 95 % interval for the share; [0, 1] with no data. */
  ci95: [number, number];
  /** Sampled events of this ad. */
  samples: number;
  /**
   * Effective sampling rate: samples/Σw, the harmonic mean of the rates the ad's events were
   * sampled at (the placement's when the ad has no samples; 1 with no data at all).
   */
  sampleRate: number;
  /** False when every event of the placement was counted (all weights 1): the share is exact. */
  estimated: boolean;
}

/** A fresh, empty tally. */
export function emptyTally(): WeightedTally {
  return { sumW: 0, sumW2: 0, samples: 0 };
}

/**
 * Adds `count` events sampled at `rate` to `tally` in place and returns it: in place because the
 * aggregator does this per event (GUIDE convention 3: count in memory, flush in batches).
 */
export function addSamples(tally: WeightedTally, rate: number, count = 1): WeightedTally {
  if (!(rate > 0 && rate <= 1)) throw new RangeError(`rate must be in (0, 1], got ${rate}`);
  const w = 1 / rate;
  tally.sumW += count * w;
  tally.sumW2 += count * w * w;
  tally.samples += count;
  return tally;
}

/** The sum of some tallies (per-ad tallies into a placement's; servers' or intervals' into one). */
export function sumTallies(tallies: Iterable<WeightedTally>): WeightedTally {
  const total = emptyTally();
  for (const t of tallies) {
    total.sumW += t.sumW;
    total.sumW2 += t.sumW2;
    total.samples += t.samples;
  }
  return total;
}

/**
 * Effective sample size behind the share p̂ = Σw(ad)/Σw(placement), for the Wilson interval.
 *
 * The share is a ratio of two Horvitz–Thompson totals (Horvitz & Thompson, JASA 47, 1952), Hájek's
 * ratio estimator. Its linearised (Taylor / delta-method) variance, in the with-replacement form
 * (Woodruff, JASA 66, 1971; Särndal, Swensson & Wretman, "Model Assisted Survey Sampling", 1992) is
 *   V = Σᵢ wᵢ²(yᵢ − p̂)² / (Σw)²,  yᵢ = 1 if event i is the ad's,
 * which splits over the per-ad sums: V = [S_a(1 − p̂)² + (S − S_a)p̂²] / W², with S = Σw², W = Σw.
 * n* = p̂(1 − p̂)/V is the sample size at which a simple random sample would give that variance,
 * i.e. Kish's design-effect correction (Kish, "Survey Sampling", 1965) computed for this ad, which
 * stays right when weights and ads are correlated (the controller moves shares while the rate
 * changes). It omits the (1 − q) finite-population factor, so V estimates the variance around the
 * serving share (as in exact mode) and is conservative for the realised share.
 * When p̂ is 0 or 1, V is 0 and says nothing; Kish's placement-wide W²/S is used instead.
 * With one rate for all events n* is the number of samples, so the interval is the plain Wilson
 * interval on the sampled counts.
 */
function effectiveSampleSize(ad: WeightedTally, placement: WeightedTally, share: number): number {
  const w = placement.sumW;
  if (share > 0 && share < 1) {
    const rest = 1 - share;
    const variance = (ad.sumW2 * rest * rest + (placement.sumW2 - ad.sumW2) * share * share) / (w * w);
    if (variance > 0) return (share * rest) / variance;
  }
  return (w * w) / placement.sumW2;
}

/**
 * The estimate for one ad from its tally and the placement's (the sum over all its ads, including
 * the fallback). The interval is Wilson's score interval (Wilson, JASA 22, 1927), recommended by
 * Brown, Cai & DasGupta (Statistical Science 16, 2001) for its coverage at small counts and shares
 * near 0 or 1, evaluated at the effective sample size n* above.
 *
 * Exact mode: when every weight of the placement is 1, share = count/total exactly and the
 * interval is `wilsonInterval(count, total)`, identical to the unsampled `/status`.
 */
export function estimateShare(ad: WeightedTally, placement: WeightedTally): ShareEstimate {
  const total = placement.sumW;
  const exact = placement.sumW === placement.samples && placement.sumW2 === placement.samples;
  if (!(total > 0)) {
    return { impressions: 0, share: 0, ci95: [0, 1], samples: 0, sampleRate: 1, estimated: false };
  }
  const sampleRate = ad.samples > 0 ? ad.samples / ad.sumW : placement.samples / total;
  if (exact) {
    return {
      impressions: ad.sumW,
      share: ad.sumW / total,
      ci95: wilsonInterval(ad.sumW, total),
      samples: ad.samples,
      sampleRate: 1,
      estimated: false,
    };
  }
  const share = Math.min(1, ad.sumW / total);
  const nEff = effectiveSampleSize(ad, placement, share);
  // share·n* is the "successes" Wilson sees; at share 0 or 1 that is exactly 0 or n*, which keeps
  // wilsonInterval's pinned bounds (an interval must contain the observed share).
  return {
    impressions: ad.sumW,
    share,
    ci95: wilsonInterval(share * nEff, nEff),
    samples: ad.samples,
    sampleRate: Math.min(1, sampleRate),
    estimated: true,
  };
}

/** {@link estimateShare} for every ad of a placement; the placement tally is their sum. */
export function estimateShares<K>(byAd: ReadonlyMap<K, WeightedTally>): Map<K, ShareEstimate> {
  const placement = sumTallies(byAd.values());
  const out = new Map<K, ShareEstimate>();
  for (const [id, tally] of byAd) out.set(id, estimateShare(tally, placement));
  return out;
}

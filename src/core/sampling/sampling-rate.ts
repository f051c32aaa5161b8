/**
 * How many impression events to sample per placement so that `/status` can report each ad's share
 * within a configured margin at a configured confidence (RESEARCH.md, "Counting and sampling").
 * The rate has to follow traffic: a fixed 1 % sample reaches ±1 pp at 95 % in about 13 minutes at
 * 1,000 req/s but takes over two hours at 100 req/s.
 */

/** What the operator configures: a share known within ±`margin` (absolute) at `confidence`. */
export interface MarginSpec {
  /** Half-width of the interval, as a fraction (0.01 = ±1 percentage point). In (0, 1). */
  margin: number;
  /** Two-sided confidence level, e.g. 0.95. In (0, 1). */
  confidence: number;
}

/** Share used when none is given: p(1 − p) is largest at 0.5, so it is the worst case. */
export const WORST_CASE_SHARE = 0.5;

/**
 * Default floor for the sampling rate. It caps an event's weight 1/q at 1,000, so that one lost or
 * duplicated sample can never move an estimate by more than 1,000 impressions, and an ad with a
 * small share still collects some samples when traffic is very high.
 */
export const DEFAULT_MIN_RATE = 0.001;

// Wichura, "Algorithm AS 241: The Percentage Points of the Normal Distribution", Applied
// Statistics 37(3), 1988, pp. 477-484 (PPND16): relative error about 1e-16 over (0, 1).
// Coefficients in ascending powers (the leading denominator term 1 included), written as the
// nearest doubles to the published 20-digit values, which is what those parse to anyway.
const A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852854,
];
const C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
];
const D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
];
const E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 0.000027115555687434876, 2.0103343992922881e-7,
];
const F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  0.000018463183175100548, 1.421511758316446e-7, 2.0442631033899397e-15,
];

function horner(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) value = value * x + coefficients[i]!;
  return value;
}

/** Φ⁻¹(p): the standard normal quantile (AS 241). ±Infinity at 0 and 1, NaN outside [0, 1]. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(A, r)) / horner(B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = horner(C, r) / horner(D, r);
  } else {
    r -= 5;
    value = horner(E, r) / horner(F, r);
  }
  return q < 0 ? -value : value;
}

/** z for a two-sided interval at `confidence`: Φ⁻¹((1 + c)/2). zFor(0.95) ≈ 1.959964. */
export function zFor(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  }
  return normalQuantile(0.5 + confidence / 2);
}

function checkMargin(margin: number): void {
  if (!(margin > 0 && margin < 1)) throw new RangeError(`margin must be in (0, 1), got ${margin}`);
}

/**
 * Samples needed to know a share p within ±margin at `confidence`: n = z²·p(1 − p)/e² (the normal
 * approximation, Cochran, "Sampling Techniques", 1977, §4.4), rounded up. With the exact z this
 * gives 9,604 / 8,068 / 3,458 for 95 %, ±1 pp at p = 0.5 / 0.3 / 0.1, but 38,415 (not RESEARCH.md's
 * 38,416, which rounds z to 1.96) at ±0.5 pp. A share of 0 or 1 needs no samples.
 */
export function requiredSamples(spec: MarginSpec & { share?: number }): number {
  const p = spec.share ?? WORST_CASE_SHARE;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`share must be in [0, 1], got ${p}`);
  checkMargin(spec.margin);
  const z = zFor(spec.confidence);
  const n = (z * z * p * (1 - p)) / (spec.margin * spec.margin);
  // The tolerance stops an exact integer that floating point overshoots by an ulp (e.g.
  // 9604.000000000002) from costing one more sample; max keeps share 0 at +0, not −0.
  return Math.max(0, Math.ceil(n - 1e-9));
}

/** Input of {@link samplingRateFor}. */
export interface SamplingRateInput extends MarginSpec {
  /**
   * Impression events the placement is expected to see in one control interval. Pass an estimate
   * that errs low (e.g. the smaller of {@link smoothTraffic} and the last interval): too low only
   * costs extra samples, too high leaves the interval wider than the margin.
   */
  expectedEventsPerInterval: number;
  /** Share the margin must hold at; default 0.5, the worst case for every ad. */
  share?: number;
  /** Lowest rate ever returned; default {@link DEFAULT_MIN_RATE}. */
  minRate?: number;
  /** Highest rate ever returned; default 1 (count everything). */
  maxRate?: number;
}

/**
 * Bernoulli sampling rate q for one placement and control interval: the smallest q whose expected
 * sample count q·N reaches {@link requiredSamples}, so the share interval reported from the sample
 * (see weighted-share.ts) has half-width ≈ margin at the given share and less at any other.
 *
 * Clamping: q = n/N is limited to [minRate, maxRate]. At maxRate (1 by default: N ≤ n, or no
 * traffic observed) the margin is not reachable within one interval and the placement is counted
 * exactly; at minRate the interval is narrower than the margin. No finite-population correction is
 * applied, because the reported interval is for the serving share (as in exact mode, where
 * wilson-interval.ts gives a non-zero width with every impression counted), not for the realised
 * share of these N impressions.
 */
export function samplingRateFor(input: SamplingRateInput): number {
  const minRate = input.minRate ?? DEFAULT_MIN_RATE;
  const maxRate = input.maxRate ?? 1;
  if (!(minRate > 0 && minRate <= maxRate && maxRate <= 1)) {
    throw new RangeError(`need 0 < minRate <= maxRate <= 1, got ${minRate} and ${maxRate}`);
  }
  const needed = requiredSamples(input);
  const events = input.expectedEventsPerInterval;
  if (!(events > 0) || !Number.isFinite(events)) return maxRate;
  return Math.min(maxRate, Math.max(minRate, needed / events));
}

/**
 * Exponentially weighted moving average of events per interval, for {@link samplingRateFor}:
 * α·observed + (1 − α)·previous, or `observed` when there is no history. α = 1 − 2^(−1/h) gives a
 * half-life of h intervals; the default 0.3 forgets a spike within about 6 intervals.
 */
export function smoothTraffic(previous: number | undefined, observed: number, alpha = 0.3): number {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
  if (previous === undefined || !Number.isFinite(previous)) return observed;
  return alpha * observed + (1 - alpha) * previous;
}

import { type CompiledPatterns, compilePatterns, type RequestMix } from './request-mix.js';

/**
 * Serving weights for a target request mix under the Luce choice model.
 *
 * Selection serves the eligible set E by smooth weighted round-robin, which in the long run
 * gives each candidate its Luce share P(a | E) = w_a / Σ_{b∈E} w_b (Luce, "Individual Choice
 * Behavior", 1959). Over the observed patterns, candidate a then wins
 *   share_a(w) = Σ_{k∋a} m_k · w_a / W_k,   m_k = mass_k / totalMass,  W_k = Σ_{b∈k} w_b.
 * Finding w with share(w) = demand is maximum-likelihood estimation in a Luce (multi-way
 * Bradley–Terry) model whose "wins" are the demands, and Zermelo's iteration solves it
 * (Zermelo, "Die Berechnung der Turnier-Ergebnisse als ein Maximumproblem der
 * Wahrscheinlichkeitsrechnung", Math. Z. 29, 1929), shown to be an MM algorithm by Hunter
 * ("MM algorithms for generalized Bradley-Terry models", Annals of Statistics 32, 2004, §5):
 *   w_a ← demand_a / Σ_{k∋a} m_k / W_k,  then renormalised to Σ w = 1.
 * Each step increases the likelihood; note w_a ← w_a · demand_a / share_a(w), so a fixed point
 * is exactly share = demand (scaled, if Σ demand differs from the traffic the candidates can take).
 *
 * Convergence (Hunter 2004, Theorem 1 and its Luce extension; Zermelo 1929): to the unique
 * solution up to scale when the demands are strictly feasible — every proper subset T of the
 * positive-demand candidates has demand(T) strictly between the mass of patterns holding only
 * members of T and the mass of patterns holding any — and the candidates are connected through
 * shared patterns. Demands produced by positive weights always qualify. Disconnected groups
 * converge separately (their relative scale is free and does not change any share). When the
 * demands are exactly tight or infeasible the solution is at infinity (some ratio w_a/w_b → 0):
 * the iteration then drifts slowly and the clamp to maxRatio keeps every weight finite and
 * positive, so the result is the nearest servable mix, never NaN. The rate is linear and slows
 * as the demands approach tightness; warm-starting from the previous step's weights makes a
 * controller step cost a few iterations.
 */

export interface LuceOptions {
  /** Warm start (e.g. the previous weights); non-positive entries start at the mean of the others. */
  initial?: readonly number[];
  /** Default 500. */
  maxIterations?: number;
  /** Stop when no weight changes by this much relative to itself. Default 1e-9. */
  tolerance?: number;
  /** No positive-demand weight falls below max(weights) / maxRatio. Default 1e6. */
  maxRatio?: number;
}

export interface LuceSolution {
  /** Serving weights, sum 1 (all 0 when no candidate has positive demand). */
  weights: number[];
  /** predictShares(mix, weights). */
  predicted: number[];
  iterations: number;
  converged: boolean;
}

/** Luce shares of all requests (fractions of totalMass) that `weights` win over the mix. */
export function predictShares(mix: RequestMix, weights: readonly number[]): number[] {
  const n = mix.adIds.length;
  const w = Float64Array.from({ length: n }, (_, a) => Math.max(0, weights[a] ?? 0));
  const out = new Float64Array(n);
  const p = compilePatterns(mix);
  accumulate(p, w, out, false);
  return Array.from(out);
}

/**
 * For every pattern with W_k > 0: `asDenominator` adds m_k / W_k to out[a] (the MM step's
 * denominator), otherwise m_k · w_a / W_k (the share a wins). One pass over the memberships.
 */
function accumulate(p: CompiledPatterns, w: Float64Array, out: Float64Array, asDenominator: boolean): void {
  const { offsets, members, share } = p;
  for (let k = 0; k < p.count; k++) {
    const lo = offsets[k]!;
    const hi = offsets[k + 1]!;
    let total = 0;
    for (let j = lo; j < hi; j++) total += w[members[j]!]!;
    if (!(total > 0)) continue;
    const r = share[k]! / total;
    if (asDenominator) for (let j = lo; j < hi; j++) out[members[j]!]! += r;
    else for (let j = lo; j < hi; j++) out[members[j]!]! += r * w[members[j]!]!;
  }
}

/** Raises positive-demand weights to max / maxRatio (so nothing underflows), then scales to sum 1. */
function clampAndNormalise(w: Float64Array, d: Float64Array, maxRatio: number): void {
  let max = 0;
  for (let a = 0; a < w.length; a++) if (w[a]! > max) max = w[a]!;
  const floor = max / maxRatio;
  let sum = 0;
  for (let a = 0; a < w.length; a++) {
    if (d[a]! > 0 && !(w[a]! >= floor)) w[a] = floor;
    sum += w[a]!;
  }
  if (sum > 0) for (let a = 0; a < w.length; a++) w[a]! /= sum;
}

export function solveLuceWeights(
  mix: RequestMix,
  demand: readonly number[],
  opts: LuceOptions = {},
): LuceSolution {
  const maxIterations = opts.maxIterations ?? 500;
  const tolerance = opts.tolerance ?? 1e-9;
  const maxRatio = opts.maxRatio ?? 1e6;
  const n = mix.adIds.length;
  const d = Float64Array.from({ length: n }, (_, a) => {
    const x = demand[a] ?? 0;
    return x > 0 && Number.isFinite(x) ? x : 0;
  });
  const { p, wins } = contested(compilePatterns(mix), d);
  const w = initialWeights(d, opts.initial);
  let iterations = 0;
  let converged = !d.some((x) => x > 0);
  if (converged)
    return { weights: Array.from(w), predicted: predictShares(mix, Array.from(w)), iterations, converged };
  clampAndNormalise(w, d, maxRatio);
  const denom = new Float64Array(n);
  const w1 = new Float64Array(n);
  const w2 = new Float64Array(n);
  const x = new Float64Array(n);

  /** One MM step from → to; returns the largest relative change. */
  const step = (from: Float64Array, to: Float64Array): number => {
    iterations++;
    denom.fill(0);
    accumulate(p, from, denom, true);
    for (let a = 0; a < n; a++) {
      // A candidate never eligible has no denominator: no information, keep its weight.
      to[a] = d[a]! > 0 ? (denom[a]! > 0 ? wins[a]! / denom[a]! : from[a]!) : 0;
    }
    clampAndNormalise(to, d, maxRatio);
    let change = 0;
    for (let a = 0; a < n; a++) {
      if (d[a]! > 0) change = Math.max(change, Math.abs(to[a]! - from[a]!) / from[a]!);
    }
    return change;
  };

  while (iterations < maxIterations) {
    const c1 = step(w, w1);
    if (c1 < tolerance || iterations >= maxIterations) {
      w.set(w1);
      converged = c1 < tolerance;
      break;
    }
    const c2 = step(w1, w2);
    if (c2 < tolerance || iterations >= maxIterations) {
      w.set(w2);
      converged = c2 < tolerance;
      break;
    }
    // SQUAREM (Varadhan & Roland 2008, scheme S3) in log-weights.
    let rr = 0;
    let vv = 0;
    for (let a = 0; a < n; a++) {
      if (!(d[a]! > 0)) continue;
      const r = Math.log(w1[a]! / w[a]!);
      const v = Math.log(w2[a]! / w1[a]!) - r;
      rr += r * r;
      vv += v * v;
    }
    let alpha = -Math.sqrt(rr / vv);
    if (!(alpha < -1) || !Number.isFinite(alpha)) alpha = -1;
    let top = -Infinity;
    for (let a = 0; a < n; a++) {
      if (!(d[a]! > 0)) continue;
      const r = Math.log(w1[a]! / w[a]!);
      const v = Math.log(w2[a]! / w1[a]!) - r;
      x[a] = Math.log(w[a]!) - 2 * alpha * r + alpha * alpha * v;
      top = Math.max(top, x[a]!);
    }
    for (let a = 0; a < n; a++) x[a] = d[a]! > 0 ? Math.exp(x[a]! - top) : 0;
    clampAndNormalise(x, d, maxRatio);
    const c3 = step(x, w1);
    if (c3 < c2) {
      w.set(w1);
      if (c3 < tolerance) {
        converged = true;
        break;
      }
    } else w.set(w2);
  }
  const weights = Array.from(w);
  return { weights, predicted: predictShares(mix, weights), iterations, converged };
}

/**
 * Drops zero-demand candidates (weight 0) from the patterns and takes out the patterns left with
 * one member: such a candidate wins that traffic whatever its weight (a choice set of one adds
 * nothing to the likelihood), but left in, its term m_k / w_a in the denominator pins w_a near
 * its current value and slows the iteration by orders of magnitude. The rest of the demand,
 * `wins`, is what the weights must win in contested patterns (≤ 0: none, so the clamp's floor).
 */
function contested(all: CompiledPatterns, d: Float64Array): { p: CompiledPatterns; wins: Float64Array } {
  const wins = Float64Array.from(d);
  const offsets: number[] = [0];
  const members = new Int32Array(all.members.length);
  const share: number[] = [];
  let used = 0;
  for (let k = 0; k < all.count; k++) {
    const begin = used;
    for (let j = all.offsets[k]!; j < all.offsets[k + 1]!; j++) {
      const a = all.members[j]!;
      if (d[a]! > 0) members[used++] = a;
    }
    if (used - begin === 1) wins[members[begin]!]! -= all.share[k]!;
    if (used - begin <= 1) {
      used = begin;
      continue;
    }
    offsets.push(used);
    share.push(all.share[k]!);
  }
  for (let a = 0; a < wins.length; a++) wins[a] = Math.max(0, wins[a]!);
  const p = {
    count: share.length,
    offsets: Int32Array.from(offsets),
    members,
    share: Float64Array.from(share),
  };
  return { p, wins };
}

function initialWeights(d: Float64Array, initial: readonly number[] | undefined): Float64Array {
  const n = d.length;
  const given = (a: number): number => {
    const x = initial?.[a] ?? 0;
    return x > 0 && Number.isFinite(x) ? x : 0;
  };
  let sum = 0;
  let count = 0;
  for (let a = 0; a < n; a++) {
    if (d[a]! > 0 && given(a) > 0) {
      sum += given(a);
      count++;
    }
  }
  const fill = count > 0 ? sum / count : 1;
  return Float64Array.from({ length: n }, (_, a) => (d[a]! > 0 ? given(a) || fill : 0));
}

import { type CompiledPatterns, compilePatterns, type RequestMix } from './request-mix.js';

/**
 * Serving weights for a target request mix under the Luce choice model.
 *
 * Selection serves the eligible set E by smooth weighted round-robin, which in the long run
 * gives each candidate its Luce share P(a | E) = w_a / Σ_{b∈E} w_b (Luce, "Individual Choice
 * Behavior", 1959). Over the observed patterns, candidate a then wins
 *   share_a(w) = Σ_{k∋a} m_k · w_a / W_k,   m_k = mass_k / totalMass,  W_k = Σ_{b∈k} w_b.
 * share(w) = demand is the likelihood equation of a Luce (multi-way Bradley–Terry) model whose
 * "wins" are the demands: w maximises ℓ(w) = Σ_a demand_a log w_a − Σ_k m_k log W_k.
 * Zermelo's iteration solves it (Zermelo, "Die Berechnung der Turnier-Ergebnisse als ein
 * Maximumproblem der Wahrscheinlichkeitsrechnung", Math. Z. 29, 1929); Hunter ("MM algorithms for
 * generalized Bradley-Terry models", Annals of Statistics 32, 2004, §5) shows it is an MM
 * algorithm, so ℓ never decreases:
 *   w_a ← demand_a / Σ_{k∋a} m_k / W_k,  then renormalised to Σ w = 1.
 * Since this is w_a · demand_a / share_a(w), a fixed point is exactly share = demand.
 *
 * Convergence (Hunter 2004, Theorem 1 and Assumption 1; Zermelo 1929): to the unique solution
 * up to scale when the candidates are linked through shared patterns and the demands are
 * strictly feasible — every proper subset T of the positive-demand candidates asks for strictly
 * more than the patterns holding only members of T and strictly less than the patterns holding
 * any. Demands made by positive weights always qualify. Unlinked groups converge separately
 * (their relative scale changes no share). Exactly tight or infeasible demands put the solution
 * at infinity (some w_a / w_b → 0): the clamp to maxRatio keeps every weight finite and positive
 * and the result serves the nearest mix, never NaN.
 *
 * Speed: MM is linear, and slow when one candidate dominates its patterns or groups of candidates
 * share little traffic. Exact reductions (`contested`) and SQUAREM extrapolation (`extrapolate`)
 * bring random problems of up to 8 candidates from up to ~3000 plain MM steps to under ~100, with
 * no allocation per step. Warm-starting from the previous weights makes a controller step cheap.
 */

export interface LuceOptions {
  /** Warm start (e.g. the previous weights); non-positive entries start at the mean of the others. */
  initial?: readonly number[];
  /** MM steps, default 500 (an accelerated cycle is three). */
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
  const w = Float64Array.from({ length: n }, (_, a) => Math.max(0, weights[a] ?? 0) || 0);
  const out = new Float64Array(n);
  const p = compilePatterns(mix);
  accumulate(p, w, out, false);
  return Array.from(out);
}

/**
 * For every pattern with W_k > 0: `asDenominator` adds m_k / W_k to out[a] (the MM step's
 * denominator), otherwise m_k · w_a / W_k (the share a wins). One pass over the memberships.
 * Returns Σ_k m_k log W_k, the pattern part of the log-likelihood.
 */
function accumulate(p: CompiledPatterns, w: Float64Array, out: Float64Array, asDenominator: boolean): number {
  const { offsets, members, share } = p;
  let logPartition = 0;
  for (let k = 0; k < p.count; k++) {
    const lo = offsets[k]!;
    const hi = offsets[k + 1]!;
    let total = 0;
    for (let j = lo; j < hi; j++) total += w[members[j]!]!;
    if (!(total > 0)) continue;
    logPartition += share[k]! * Math.log(total);
    const r = share[k]! / total;
    if (asDenominator) for (let j = lo; j < hi; j++) out[members[j]!]! += r;
    else for (let j = lo; j < hi; j++) out[members[j]!]! += r * w[members[j]!]!;
  }
  return logPartition;
}

/**
 * Raises positive-demand weights to max / maxRatio (so nothing underflows), then scales to sum 1.
 * All zero (every demand met by uncontested traffic alone): equal weights.
 */
function clampAndNormalise(w: Float64Array, d: Float64Array, maxRatio: number): void {
  let max = 0;
  for (let a = 0; a < w.length; a++) if (w[a]! > max) max = w[a]!;
  const floor = max > 0 ? max / maxRatio : 1;
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
  if (!converged) clampAndNormalise(w, d, maxRatio);
  const denom = new Float64Array(n);
  const w1 = new Float64Array(n);
  const w2 = new Float64Array(n);
  const x = new Float64Array(n);

  let likelihood = 0;
  /** One MM step from → to; returns the largest relative change, sets `likelihood` to ℓ(from). */
  const step = (from: Float64Array, to: Float64Array): number => {
    iterations++;
    denom.fill(0);
    likelihood = -accumulate(p, from, denom, true);
    let change = 0;
    for (let a = 0; a < n; a++) {
      if (wins[a]! > 0) likelihood += wins[a]! * Math.log(from[a]!);
      // Never contested: no information, keep the weight.
      to[a] = d[a]! > 0 ? (denom[a]! > 0 ? wins[a]! / denom[a]! : from[a]!) : 0;
    }
    clampAndNormalise(to, d, maxRatio);
    for (let a = 0; a < n; a++) {
      if (d[a]! > 0) change = Math.max(change, Math.abs(to[a]! - from[a]!) / from[a]!);
    }
    return change;
  };

  // Cycles of two MM steps, a SQUAREM extrapolation x, and an MM step from x, kept only when
  // ℓ(x) ≥ ℓ(start of the cycle). MM never lowers ℓ, so the whole iteration ascends, which is
  // the safeguard Varadhan & Roland use for global convergence.
  while (!converged && iterations < maxIterations) {
    const c1 = step(w, w1);
    const start = likelihood;
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
    extrapolate(w, w1, w2, x, d);
    clampAndNormalise(x, d, maxRatio);
    const c3 = step(x, w1);
    const accept = likelihood >= start;
    w.set(accept ? w1 : w2);
    converged = accept && c3 < tolerance;
  }
  const weights = Array.from(w);
  return { weights, predicted: predictShares(mix, weights), iterations, converged };
}

/**
 * SQUAREM, scheme S3 (Varadhan & Roland, "Simple and globally convergent methods for
 * accelerating the convergence of any EM algorithm", Scand. J. Statistics 35, 2008), in
 * log-weights so the extrapolated point stays positive: with r = u1 − u0, v = u2 − 2u1 + u0 and
 * α = −‖r‖/‖v‖ (at most −1), x = u0 − 2αr + α²v. MM alone converges linearly, slowly when a
 * candidate dominates its patterns or clusters of candidates share little traffic; the step
 * jumps along the slow direction. Writes exp(x − max x) (rescaled: only ratios matter) into `out`.
 */
function extrapolate(
  w0: Float64Array,
  w1: Float64Array,
  w2: Float64Array,
  out: Float64Array,
  d: Float64Array,
) {
  let rr = 0;
  let vv = 0;
  for (let a = 0; a < d.length; a++) {
    if (!(d[a]! > 0)) continue;
    const r = Math.log(w1[a]! / w0[a]!);
    const v = Math.log(w2[a]! / w1[a]!) - r;
    rr += r * r;
    vv += v * v;
  }
  let alpha = -Math.sqrt(rr / vv);
  if (!(alpha < -1) || !Number.isFinite(alpha)) alpha = -1;
  let top = -Infinity;
  for (let a = 0; a < d.length; a++) {
    if (!(d[a]! > 0)) continue;
    const r = Math.log(w1[a]! / w0[a]!);
    const v = Math.log(w2[a]! / w1[a]!) - r;
    out[a] = Math.log(w0[a]!) - 2 * alpha * r + alpha * alpha * v;
    top = Math.max(top, out[a]!);
  }
  for (let a = 0; a < d.length; a++) out[a] = d[a]! > 0 ? Math.exp(out[a]! - top) : 0;
}

/**
 * The part of the problem the weights decide. Zero-demand candidates (weight 0) leave the
 * patterns, and patterns left with one member leave too: that candidate wins the traffic
 * whatever its weight (a choice set of one adds nothing to the likelihood), but left in, its
 * term m_k / w_a pins w_a near its current value and slows MM by orders of magnitude. `wins` is
 * the demand still to win in contested patterns (≤ 0: none, so the clamp's floor).
 *
 * Then, per group of candidates linked by contested patterns, wins are scaled to the traffic of
 * those patterns: Luce hands out all of it, so that is the only total a fixed point can have.
 * Without this, a group asking for more than its traffic (the caller's demands slightly
 * infeasible) would grow against the others every step until the clamp flattened their weights.
 */
function contested(all: CompiledPatterns, d: Float64Array): { p: CompiledPatterns; wins: Float64Array } {
  const n = d.length;
  const wins = Float64Array.from(d);
  const offsets: number[] = [0];
  const members = new Int32Array(all.members.length);
  const share: number[] = [];
  const parent = Int32Array.from({ length: n }, (_, a) => a);
  const find = (a: number): number => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]!]!;
    return a;
  };
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
    for (let j = begin + 1; j < used; j++) parent[find(members[j]!)] = find(members[begin]!);
    offsets.push(used);
    share.push(all.share[k]!);
  }
  const groupWins = new Float64Array(n);
  const groupMass = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    wins[a] = Math.max(0, wins[a]!);
    groupWins[find(a)]! += wins[a]!;
  }
  for (let k = 0; k < share.length; k++) groupMass[find(members[offsets[k]!]!)]! += share[k]!;
  for (let a = 0; a < n; a++) {
    const g = find(a);
    if (groupWins[g]! > 0 && groupMass[g]! > 0) wins[a] = (wins[a]! * groupMass[g]!) / groupWins[g]!;
  }
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

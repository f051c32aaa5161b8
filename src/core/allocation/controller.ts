import { analyzeFeasibility, type FeasibilityResult, type LimitReason } from './feasibility.js';
import { solveLuceWeights } from './luce-weights.js';
import type { RequestMix } from './request-mix.js';

/**
 * The allocation controller: one step per placement every control interval, pure.
 *
 * Targets are shares of *impressions*; selection hands out *requests*. Per step:
 *
 * 1. Render rates r_a = (impressions_a + P) / (decisions_a + P) over the window (prior P
 *    pulls toward 1 until there is data).
 * 2. Desired impression shares for the next interval: the target plus a bounded catch-up,
 *    d_a = t_a + clamp((t_a·T − I_a) / max(H_min, T), ±k·t_a), T = the window's impressions.
 *    Spreading a deficit over as many impressions as the window already has keeps delivery
 *    even (no bursts: at most k = 20 % above or below target), yet closes early transients.
 *    The fallback takes the slack.
 * 3. Request demands q_a ∝ d_a / r_a (an ad that renders half the time needs twice the
 *    requests), over the observed request mix (sampled eligibility patterns).
 * 4. Feasibility (`analyzeFeasibility`): demands the mix cannot supply are scaled down —
 *    alone ('targeting', 'frequencyCap') or proportionally within an overbooked group, as
 *    Google Ad Manager does — and the other ads' demands re-solved so that *their impression
 *    shares* still meet target.
 * 5. Weights: the Luce model P(a | E) = w_a / Σ_{b∈E} w_b, which smooth weighted round-robin
 *    follows in the long run, is fitted to the demands with the MM iteration
 *    (`solveLuceWeights`). This is model-predictive: a mix shift or a new overlap is
 *    compensated in one step, not by groping.
 * 6. Feedback: per ad a correction c_a ← c_a · (expected_a / measured_a)^γ on the demand fed
 *    to the fit, from the requests each ad actually won since the last step. It absorbs what
 *    the model misses (round-robin is not exactly Luce per pattern, caps react to serving).
 *    γ = 0.5 and the clamp keep it from oscillating on noisy or stale counts.
 */
export interface ControlParams {
  /** Feedback exponent γ. */
  gain: number;
  correctionMin: number;
  correctionMax: number;
  /** k: catch-up bound, relative to the target. */
  catchUpMaxRelative: number;
  /** H_min: the catch-up horizon never shorter than this many impressions. */
  catchUpMinHorizon: number;
  /** P: prior weight (in decisions) of a render rate of 1. */
  renderPriorDecisions: number;
  /** Feedback waits for this many decisions since the last step. */
  minRecentDecisions: number;
  /** Pseudo-decisions at the expected share mixed into each measurement: shrinks noisy or
   *  zero counts toward "as expected" instead of letting them jerk the correction. */
  feedbackPriorDecisions: number;
}

export const DEFAULT_CONTROL_PARAMS: ControlParams = {
  gain: 0.5,
  correctionMin: 0.2,
  correctionMax: 5,
  catchUpMaxRelative: 0.2,
  catchUpMinHorizon: 2000,
  renderPriorDecisions: 50,
  minRecentDecisions: 100,
  feedbackPriorDecisions: 200,
};

export interface ControlInput {
  /** Candidates: targeted ads, then the fallback. */
  adIds: readonly string[];
  /** Target impression shares per candidate (the fallback: what the targets leave). */
  targets: readonly number[];
  fallbackIndex: number;
  /** Observed request mix over `adIds`; null before any sample (treated as "all eligible"). */
  mix: RequestMix | null;
  /** Counted in the current window, per candidate. */
  windowImpressions: readonly number[];
  windowDecisions: readonly number[];
  /** All impressions of the placement in the window (ads no longer candidates included). */
  windowImpressionsTotal: number;
  /** Decisions per candidate since the previous step. */
  recentDecisions: readonly number[];
}

export interface ControlState {
  adIds: readonly string[];
  correction: number[];
  /** Request shares the last weights were fitted to (normalised), for the feedback. */
  expected: number[] | null;
  weights: number[];
}

export interface ControlOutput {
  state: ControlState;
  /** Serving weights per candidate (sum 1). */
  weights: number[];
  renderRates: number[];
  /** Impression share each candidate can reach at its target (feasibility at the targets). */
  achievable: number[];
  limits: Array<LimitReason | null>;
  feasible: boolean;
  /** Impression shares aimed at in the next interval (target + catch-up). */
  desired: number[];
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Every candidate eligible for every request: the model before any sample. */
function uniformMix(adIds: readonly string[]): RequestMix {
  const all = adIds.map((_, i) => i);
  return { adIds, patterns: [{ eligible: all, mass: 1 }], matchMass: adIds.map(() => 1), totalMass: 1 };
}

function filledShare(mix: RequestMix): number {
  let filled = 0;
  for (const p of mix.patterns) if (p.eligible.length > 0) filled += p.mass;
  return mix.totalMass > 0 ? filled / mix.totalMass : 0;
}

/**
 * Request demands whose impression shares are `desired`, limited to what the mix can supply.
 * Limited ads are fixed at their achievable share; the others are re-solved (a fixed point:
 * total impressions depend on everyone's render rate) so their impression shares hold.
 */
function planDemands(desired: readonly number[], r: readonly number[], fb: number, mix: RequestMix) {
  const n = desired.length;
  const filled = filledShare(mix);
  const norm = sum(desired.map((d, i) => d / r[i]!));
  let q = desired.map((d, i) => (norm > 0 ? (filled * d) / r[i]! / norm : 0));
  const limit: Array<LimitReason | null> = new Array(n).fill(null);
  const groups: FeasibilityResult['groups'] = [];
  for (let round = 0; round < 4; round++) {
    const result = analyzeFeasibility({ mix, demand: q, fallbackIndex: fb });
    if (result.feasible) break;
    for (const g of result.groups) if (g.members.some((m) => limit[m] === null)) groups.push(g);
    result.limit.forEach((l, i) => {
      if (l !== null && limit[i] === null) limit[i] = l;
    });
    const limited = limit.map((l) => l !== null);
    const fixed = q.map((_, i) => (limited[i] ? result.achievable[i]! : 0));
    q = q.map((x, i) => (limited[i] ? fixed[i]! : x));
    // Re-solve the others so their impression shares still hold (total impressions depend on
    // everyone's render rate): a fixed point, contracting fast.
    for (let it = 0; it < 20; it++) {
      const imps = sum(q.map((x, i) => x * r[i]!));
      const next = q.map((_, i) => (limited[i] ? fixed[i]! : i === fb ? 0 : (desired[i]! * imps) / r[i]!));
      if (fb >= 0) next[fb] = Math.max(0, filled - sum(next));
      else {
        // No fallback: the unlimited ads share what the limited ones leave, in proportion.
        const free = filled - sum(fixed);
        const unl = sum(next.map((x, i) => (limited[i] ? 0 : x)));
        for (let i = 0; i < n; i++) if (!limited[i] && unl > 0) next[i] = (next[i]! * free) / unl;
      }
      q = next;
    }
  }
  if (fb >= 0) q[fb] = Math.max(0, filled - sum(q.filter((_, i) => i !== fb)));
  return { q, result: { feasible: groups.length === 0, limit, groups } };
}

/** Priority step between bottleneck layers; 10 layers stay far inside float64 range. */
const LAYER = 1e3;
const MAX_LAYERS = 10;

/**
 * Weights for demands `demand` given the feasibility result: each bottleneck group (most
 * overbooked first) must take *all* the traffic it can reach, so it is fitted alone on its
 * patterns and placed a priority layer (×1000) above everything after it; those patterns are
 * then used up. The unconstrained ads and the fallback are fitted on what remains. Fitting
 * everything at once would push the saturated ads' weights to infinity and the others'
 * against the floor, distorting their ratios.
 */
function layeredWeights(
  mix: RequestMix,
  demand: readonly number[],
  groups: FeasibilityResult['groups'],
  initial: readonly number[] | undefined,
) {
  const n = demand.length;
  const weights: number[] = new Array(n).fill(0);
  let remaining = mix.patterns;
  const layers = groups.slice(0, MAX_LAYERS);
  const inGroup = new Set<number>();
  const solvePart = (members: ReadonlySet<number>, level: number) => {
    const mine = remaining.filter((p) => p.eligible.some((i) => members.has(i)));
    remaining = remaining.filter((p) => !p.eligible.some((i) => members.has(i)));
    const sub: RequestMix = {
      ...mix,
      patterns: mine.map((p) => ({ eligible: p.eligible.filter((i) => members.has(i)), mass: p.mass })),
    };
    const d = demand.map((x, i) => (members.has(i) ? x : 0));
    const w = solveLuceWeights(sub, d, { initial }).weights;
    const max = Math.max(...w);
    for (const i of members) weights[i] = max > 0 ? (w[i]! / max) * LAYER ** level : 0;
  };
  layers.forEach((g, k) => {
    for (const m of g.members) inGroup.add(m);
    solvePart(new Set(g.members), layers.length - k);
  });
  const rest = new Set<number>();
  for (let i = 0; i < n; i++) if (!inGroup.has(i)) rest.add(i);
  solvePart(rest, 0);
  const total = sum(weights);
  return weights.map((w) => (total > 0 ? w / total : 0));
}

/** Impression shares implied by request shares q. */
function impressionShares(q: readonly number[], r: readonly number[]): number[] {
  const imps = q.map((x, i) => x * r[i]!);
  const total = sum(imps);
  return imps.map((x) => (total > 0 ? x / total : 0));
}

/**
 * What targets allow on a request mix: per candidate the impression share it can reach and,
 * when short, why. Used for `/status` and the what-if check before saving targets.
 */
export function assessTargets(
  targets: readonly number[],
  renderRates: readonly number[],
  fallbackIndex: number,
  mix: RequestMix,
) {
  const { q, result } = planDemands(targets, renderRates, fallbackIndex, mix);
  return { achievable: impressionShares(q, renderRates), limits: result.limit, feasible: result.feasible };
}

function desiredShares(input: ControlInput, p: ControlParams): number[] {
  const { targets, fallbackIndex: fb, windowImpressions, windowImpressionsTotal: T } = input;
  const d = targets.slice();
  if (T > 0) {
    const horizon = Math.max(p.catchUpMinHorizon, T);
    for (let i = 0; i < d.length; i++) {
      if (i === fb || targets[i]! <= 0) continue;
      const bound = p.catchUpMaxRelative * targets[i]!;
      const boost = (targets[i]! * T - windowImpressions[i]!) / horizon;
      d[i] = targets[i]! + Math.min(bound, Math.max(-bound, boost));
    }
  }
  if (fb >= 0) {
    d[fb] = Math.max(0, 1 - sum(d.filter((_, i) => i !== fb)));
  } else {
    const s = sum(d);
    for (let i = 0; i < d.length; i++) d[i] = s > 0 ? d[i]! / s : 0;
  }
  return d;
}

function updateCorrection(
  prev: ControlState,
  input: ControlInput,
  limits: Array<LimitReason | null>,
  p: ControlParams,
) {
  const c = prev.correction.slice();
  const recentTotal = sum(input.recentDecisions);
  if (prev.expected === null || recentTotal < p.minRecentDecisions) return c;
  for (let i = 0; i < c.length; i++) {
    const expected = prev.expected[i]!;
    if (limits[i] !== null || expected <= 0) {
      c[i] = 1;
      continue;
    }
    const k = p.feedbackPriorDecisions;
    const measured = (input.recentDecisions[i]! + k * expected) / (recentTotal + k);
    const ratio = expected / measured;
    c[i] = Math.min(p.correctionMax, Math.max(p.correctionMin, c[i]! * ratio ** p.gain));
  }
  // Only ratios matter (demands are renormalised): keep the geometric mean at 1 so a common
  // drift cannot walk every correction into its clamp.
  const free = c.filter((_, i) => limits[i] === null);
  const gm = free.length > 0 ? Math.exp(sum(free.map(Math.log)) / free.length) : 1;
  return c.map((x, i) => (limits[i] === null ? x / gm : 1));
}

export function controlStep(
  prev: ControlState | null,
  input: ControlInput,
  params = DEFAULT_CONTROL_PARAMS,
): ControlOutput {
  const n = input.adIds.length;
  const fresh = prev === null || prev.adIds.join(',') !== input.adIds.join(',');
  const state: ControlState = fresh
    ? { adIds: input.adIds, correction: new Array(n).fill(1), expected: null, weights: input.targets.slice() }
    : prev;
  const mix = input.mix ?? uniformMix(input.adIds);
  const fb = input.fallbackIndex;
  const P = params.renderPriorDecisions;
  const r = input.windowDecisions.map((dec, i) =>
    Math.min(1, Math.max(0.02, (input.windowImpressions[i]! + P) / (dec + P))),
  );

  // What the targets themselves allow (reported), then what this interval aims at (served).
  const atTargets = assessTargets(input.targets, r, fb, mix);
  const desired = desiredShares(input, params);
  const plan = planDemands(desired, r, fb, mix);

  const correction = updateCorrection(state, input, plan.result.limit, params);
  const qTotal = sum(plan.q);
  const corrected = plan.q.map((x, i) => x * correction[i]!);
  const cTotal = sum(corrected);
  const demand = corrected.map((x) => (cTotal > 0 ? (x * qTotal) / cTotal : 0));
  const weights = layeredWeights(
    mix,
    demand,
    plan.result.groups,
    state.weights.length === n ? state.weights : undefined,
  );

  return {
    state: {
      adIds: input.adIds,
      correction,
      expected: qTotal > 0 ? plan.q.map((x) => x / qTotal) : null,
      weights,
    },
    weights,
    renderRates: r,
    achievable: atTargets.achievable,
    limits: atTargets.limits,
    feasible: atTargets.feasible,
    desired,
  };
}

/**
 * Which decisions describe their eligibility for the request mix. The mix is used as fractions
 * (how often each eligibility pattern occurs per placement), so a uniform thinning of the
 * requests leaves it unbiased; what thinning changes is how many samples back it, hence how
 * noisy the controller's achievable-share estimates are (why `perSecond` is opt-in: at 1,000 a
 * second the allocation acceptance test once missed its 99 % bar).
 *
 * One decision in `every` at least; and when `perSecond` > 0 and this process decides faster
 * than `perSecond` times `every`, one in more: the gap is re-derived once a second from the last
 * second's decisions, so a busy server spends a bounded amount of work on the mix (describing
 * and recording eligibility took 9–11 % of a saturated server's busy profile samples) while a
 * quiet one still samples every request. Gaps are drawn uniformly in
 * [1, 2N − 1] (mean N) rather than fixed at N, so traffic that repeats with a period dividing N
 * (a load generator cycling through its requests, a publisher's page layout) cannot alias
 * with the sampling and leave a placement out.
 */
export interface MixSampleGate {
  /** True when this decision (at `nowMs`) should be sampled. */
  take(nowMs: number): boolean;
  /** The current mean gap N (1 = every decision). */
  every(): number;
}

export function createMixSampleGate(opts: {
  /** Sample at most one decision in this many (≥ 1). */
  every: number;
  /** At most about this many samples a second (0: no limit). */
  perSecond: number;
  random?: () => number;
}): MixSampleGate {
  const random = opts.random ?? Math.random;
  const minEvery = Math.max(1, Math.floor(opts.every));
  let gap = minEvery;
  let countdown = 1;
  let windowEndMs = Number.NEGATIVE_INFINITY;
  let seen = 0;

  const draw = (): number => (gap === 1 ? 1 : 1 + Math.floor(random() * (2 * gap - 1)));

  return {
    take(nowMs: number): boolean {
      seen++;
      if (nowMs >= windowEndMs) {
        if (opts.perSecond > 0) {
          // The first window (at start) has no rate yet: sample at the minimum gap.
          const perSec =
            windowEndMs === Number.NEGATIVE_INFINITY ? 0 : seen / (1 + (nowMs - windowEndMs) / 1000);
          gap = Math.max(minEvery, Math.ceil(perSec / opts.perSecond));
          if (countdown > 2 * gap) countdown = draw();
        }
        windowEndMs = nowMs + 1000;
        seen = 0;
      }
      if (--countdown > 0) return false;
      countdown = draw();
      return true;
    },
    every: () => gap,
  };
}

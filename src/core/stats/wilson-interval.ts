/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval for a proportion of `successes` in `n` trials (Wilson, 1927; Brown,
 * Cai & DasGupta, "Interval Estimation for a Binomial Proportion", 2001: good coverage even
 * for small n and shares near 0 or 1, unlike the normal approximation). [0, 1] when n = 0.
 */
export function wilsonInterval(successes: number, n: number, z = Z95): [number, number] {
  if (n <= 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // The exact bounds at k = 0 and k = n are 0 and 1; floating point would miss them by ~1e-16,
  // and an interval that excludes the observed share is wrong, not just untidy.
  const lo = successes <= 0 ? 0 : Math.max(0, centre - half);
  const hi = successes >= n ? 1 : Math.min(1, centre + half);
  return [lo, hi];
}

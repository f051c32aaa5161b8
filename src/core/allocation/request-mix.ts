/** Observed distribution of eligibility over a placement's candidates. Masses are relative (any scale). */
export interface RequestMix {
  /** Candidate ad ids, in the order pattern indices refer to. */
  adIds: readonly string[];
  /** Eligibility patterns: which candidates were eligible together, and how much traffic had that pattern. */
  patterns: ReadonlyArray<{ eligible: readonly number[]; mass: number }>;
  /** Per candidate: mass of requests its targeting and flight dates matched, frequency caps ignored. */
  matchMass: readonly number[];
  /** Total mass of all requests observed, including those where nothing was eligible. */
  totalMass: number;
}

/**
 * A mix flattened for the solvers (compressed sparse rows): the members of pattern k are
 * `members[offsets[k]]` to `members[offsets[k + 1] - 1]`, its traffic `share[k]` = mass / totalMass.
 * The solvers walk every membership once per iteration, so one typed array beats nested arrays.
 */
export interface CompiledPatterns {
  count: number;
  offsets: Int32Array;
  members: Int32Array;
  share: Float64Array;
}

/**
 * Flattens `mix.patterns`, dropping what carries no traffic or no candidate: patterns with a
 * non-positive or non-finite mass, member indices out of range or repeated (a repeat would count
 * a candidate twice in Σ w), the `exclude` candidate (the fallback, for feasibility), and
 * patterns left empty. Nothing survives when totalMass is not positive.
 */
export function compilePatterns(mix: RequestMix, exclude = -1): CompiledPatterns {
  const n = mix.adIds.length;
  const total = mix.totalMass;
  let memberCount = 0;
  for (const p of mix.patterns) memberCount += p.eligible.length;
  const offsets: number[] = [0];
  const members = new Int32Array(memberCount);
  const share: number[] = [];
  // stamp[a] = 1 + the pattern index that last took a, to drop repeats without a Set per pattern.
  const stamp = new Int32Array(n);
  let used = 0;
  if (total > 0 && Number.isFinite(total)) {
    mix.patterns.forEach((p, k) => {
      if (!(p.mass > 0) || !Number.isFinite(p.mass)) return;
      const start = used;
      for (const a of p.eligible) {
        if (!Number.isInteger(a) || a < 0 || a >= n || a === exclude || stamp[a] === k + 1) continue;
        stamp[a] = k + 1;
        members[used++] = a;
      }
      if (used === start) return;
      offsets.push(used);
      share.push(p.mass / total);
    });
  }
  return {
    count: share.length,
    offsets: Int32Array.from(offsets),
    members: members.subarray(0, used),
    share: Float64Array.from(share),
  };
}

import type { FrequencyCap } from '../domain/ad.js';
import type { Predicate } from '../targeting/compile-targeting.js';
import type { WindowSpec } from '../window/allocation-window.js';

/** An ad as the hot path sees it: every check precomputed. Immutable once compiled. */
export interface CompiledAd {
  readonly id: string;
  readonly active: boolean;
  /** Flight dates as epoch ms; -Infinity / Infinity when open. */
  readonly startMs: number;
  readonly endMs: number;
  readonly matches: Predicate;
  readonly cap: FrequencyCap | null;
  readonly clickUrl: string;
  /** `{"id":…,"creative":…}`, serialised once per plan. */
  readonly json: string;
}

/** A placement compiled for selection. `candidates[i]` is served with weight `weights[i]`. */
export interface CompiledPlacement {
  readonly id: string;
  readonly targetsVersion: number;
  readonly candidates: readonly CompiledAd[];
  /** Candidate ids in order, and joined: identifies the candidate list (request-mix keys refer to it). */
  readonly candidateIds: readonly string[];
  readonly candidateKey: string;
  /** Serving weights (sum ≤ 1, the controller's output; the target shares until it runs). */
  readonly weights: Float64Array;
  /** Target shares as saved by the manager, per candidate (fallback: its remainder). */
  readonly targetShares: Float64Array;
  /** Index of the fallback ad in `candidates`, or -1. */
  readonly fallbackIndex: number;
  readonly window: WindowSpec;
  /** JSON-encoded placement id, for the response. */
  readonly idJson: string;
}

/** Everything a decision server needs, swapped in by reference when config changes. */
export interface Plan {
  readonly revision: number;
  readonly placements: ReadonlyMap<string, CompiledPlacement>;
  /** All ads, including paused and untargeted ones (click redirects need their URL). */
  readonly ads: ReadonlyMap<string, CompiledAd>;
}

export const EMPTY_PLAN: Plan = { revision: -1, placements: new Map(), ads: new Map() };

import type { ControlOutput } from './controller.js';

/** The controller's latest view of one placement, for `/status` and the what-if. */
export interface AllocationReport extends ControlOutput {
  adIds: readonly string[];
  targetsVersion: number;
  atMs: number;
  /** Sampled requests behind the request mix (0: no traffic seen yet, model assumes all eligible). */
  samples: number;
}

/** Serving weights of one placement (ad id → weight), fitted to one version of its targets. */
export interface PlacementWeights {
  targetsVersion: number;
  weights: ReadonlyMap<string, number>;
}

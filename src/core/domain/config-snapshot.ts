import type { Ad } from './ad.js';
import type { Placement, TargetSet } from './placement.js';

/** A consistent view of the whole configuration, read in one transaction. */
export interface ConfigSnapshot {
  /** Store-wide revision: bumped by every write, used to notice changes cheaply. */
  revision: number;
  ads: Ad[];
  placements: Placement[];
  targets: TargetSet[];
}

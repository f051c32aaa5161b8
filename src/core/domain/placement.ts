/** A slot on publisher pages; its targets say which share of its impressions each ad gets. */
export interface Placement {
  id: string;
  name: string;
  /** The house ad that takes whatever share the targets leave; null = none. */
  fallbackAdId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Target {
  adId: string;
  /** Target share of the placement's impressions, in [0, 1]. */
  share: number;
}

/** The targets of one placement; `version` is bumped by every save. */
export interface TargetSet {
  placementId: string;
  version: number;
  targets: Target[];
  updatedAt: string | null;
}

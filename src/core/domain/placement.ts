/** A slot on publisher pages; its targets say which share of its impressions each ad gets. */
export interface Placement {
  id: string;
  name: string;
  /** The house ad that takes whatever share the targets leave; null = none. */
  fallbackAdId: string | null;
  /** The allocation window shares are measured over (default: the UTC day). */
  window: AllocationWindow;
  createdAt: string;
  updatedAt: string;
}

/**
 * Window length in hours — a divisor or a multiple of 24 (1, 2, 3, 4, 6, 8, 12, 24, 48 … 168) —
 * and the IANA time zone whose midnight windows are aligned to.
 */
export interface AllocationWindow {
  lengthHours: number;
  timeZone: string;
}

export const DEFAULT_ALLOCATION_WINDOW: AllocationWindow = { lengthHours: 24, timeZone: 'UTC' };

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

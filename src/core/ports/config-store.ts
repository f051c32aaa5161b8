import type { Ad } from '../domain/ad.js';
import type { ConfigSnapshot } from '../domain/config-snapshot.js';
import type { Placement, Target, TargetSet } from '../domain/placement.js';

/**
 * Durable configuration: ads, placements and their targets.
 *
 * Adapters: SQLite (embedded default) and PostgreSQL; both pass `test/conformance/config-store`.
 * Contract:
 * - Every successful write bumps `revision()` (store-wide, monotonic), so readers in any
 *   process notice changes with one cheap query.
 * - Referential integrity is the store's: a target or fallback naming a missing ad, or
 *   deleting an ad still referenced, throws `AllotError` `ALLOT_ERR_IN_USE` / `ALLOT_ERR_VALIDATION`
 *   and writes nothing. Creating an existing id throws `ALLOT_ERR_CONFLICT`.
 * - Getters return `null` for unknown ids; deletes return whether a row was removed.
 * - Returned objects are fresh copies owned by the caller.
 */
export interface ConfigStore {
  listAds(): Promise<Ad[]>;
  getAd(id: string): Promise<Ad | null>;
  createAd(ad: Ad): Promise<Ad>;
  /** Replaces the stored ad with the same id; null when it does not exist. */
  updateAd(ad: Ad): Promise<Ad | null>;
  deleteAd(id: string): Promise<boolean>;

  listPlacements(): Promise<Placement[]>;
  getPlacement(id: string): Promise<Placement | null>;
  createPlacement(placement: Placement): Promise<Placement>;
  updatePlacement(placement: Placement): Promise<Placement | null>;
  /** Deletes the placement and its targets. */
  deletePlacement(id: string): Promise<boolean>;

  /** Null when the placement does not exist; version 0 and no targets when never set. */
  getTargets(placementId: string): Promise<TargetSet | null>;
  /** Replaces the targets and bumps their version; null when the placement does not exist. */
  putTargets(placementId: string, targets: Target[], updatedAt: string): Promise<TargetSet | null>;

  revision(): Promise<number>;
  /** Everything, consistently (one transaction). */
  snapshot(): Promise<ConfigSnapshot>;
  close(): Promise<void>;
}

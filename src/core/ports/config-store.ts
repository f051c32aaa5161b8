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
 * - `importConfig` is the bulk path (see `ConfigImportBatch`): one transaction, one revision bump.
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

  /**
   * Upserts ads, then placements, then replaces the given target sets, in one transaction with
   * one revision bump (a batch with nothing in it is a no-op). An existing ad or placement is
   * replaced but keeps its stored `createdAt`; a new one gets the batch object's. Each target
   * set is replaced like `putTargets` (version bumped, `targetsUpdatedAt` = `batch.updatedAt`);
   * placements without one keep theirs.
   *
   * References are checked inside the transaction against the store plus the batch itself: a
   * fallback or target naming an ad that is in neither, a target set for a placement in neither,
   * an id repeated within `ads`, `placements` or `targets`, or an ad repeated within one target
   * set throws `ALLOT_ERR_VALIDATION` listing every such problem (paths into the batch, e.g.
   * `/targets/2/targets/1/adId`, `/placements/0/fallbackAdId`) and writes nothing. Share ranges and
   * sums are the caller's to check. The batch is read, not kept.
   */
  importConfig(batch: ConfigImportBatch): Promise<ConfigImportResult>;
  /** Which of these ids the store holds (a bulk existence check, without reading the rows). */
  existingIds(ids: { ads: readonly string[]; placements: readonly string[] }): Promise<{
    ads: Set<string>;
    placements: Set<string>;
  }>;

  revision(): Promise<number>;
  /** Everything, consistently (one transaction). */
  snapshot(): Promise<ConfigSnapshot>;
  close(): Promise<void>;
}

/** What `ConfigStore.importConfig` writes. */
export interface ConfigImportBatch {
  ads: Ad[];
  placements: Placement[];
  targets: Array<{ placementId: string; targets: Target[] }>;
  /** The `updatedAt` of every replaced target set. */
  updatedAt: string;
}

/** The revision after the import and how many rows were new or replaced. */
export interface ConfigImportResult {
  revision: number;
  adsCreated: number;
  adsUpdated: number;
  placementsCreated: number;
  placementsUpdated: number;
}

import type { AllocationReport, PlacementWeights } from '../allocation/allocation-report.js';

/**
 * Where the controller publishes its output for the other roles: serving weights for every
 * decision server, reports for the manager's `/status`.
 *
 * Adapters: memory (one process), Redis (a fleet). Contract (`test/conformance/allocation-state-store`):
 * - `publish` stores the weights and reports of the given placements (others are kept) and
 *   bumps a store-wide version, in one round trip for remote stores.
 * - `readWeights(since)` returns null when the version is still `since` (a cheap poll: decision
 *   servers call it a few times a second), else every placement's weights and the new version.
 * - `readReport` returns the last report published for a placement, or null. Returned objects
 *   belong to the caller.
 * - `forget(placementIds)` drops placements that no longer exist.
 * - `watch(listener)` hears every later `publish` of any process (version and weights).
 */
export interface AllocationStateStore {
  publish(
    weights: ReadonlyMap<string, PlacementWeights>,
    reports: ReadonlyMap<string, AllocationReport>,
  ): Promise<void>;
  readWeights(
    sinceVersion: number,
  ): Promise<{ version: number; weights: Map<string, PlacementWeights> } | null>;
  readReport(placementId: string): Promise<AllocationReport | null>;
  forget(placementIds: readonly string[]): Promise<void>;
  /**
   * Pushes each `publish` to `listener` as it happens: the new version and the weights of the
   * placements it published (not the others). Best effort — a listener may miss one (a
   * reconnect), so callers notice a version gap and `readWeights`. Resolves once listening;
   * the returned function stops it.
   */
  watch(
    listener: (version: number, weights: Map<string, PlacementWeights>) => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

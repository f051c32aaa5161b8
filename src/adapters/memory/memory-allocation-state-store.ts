import type { AllocationReport, PlacementWeights } from '../../core/allocation/allocation-report.js';
import type { AllocationStateStore } from '../../core/ports/allocation-state-store.js';

const copyWeights = (w: PlacementWeights): PlacementWeights => ({
  targetsVersion: w.targetsVersion,
  weights: new Map(w.weights),
});

/**
 * Allocation state in process memory, for a single process running controller and decision
 * server together. Everything is copied on the way in and out, so neither the controller's
 * next step nor a caller mutating a returned report can change what another reader sees —
 * the same isolation the Redis store gets from serialising.
 */
export function createMemoryAllocationStateStore(): AllocationStateStore {
  const weights = new Map<string, PlacementWeights>();
  const reports = new Map<string, AllocationReport>();
  let version = 0;
  const listeners = new Set<(version: number, weights: Map<string, PlacementWeights>) => void>();

  return {
    async publish(nextWeights, nextReports) {
      for (const [id, w] of nextWeights) weights.set(id, copyWeights(w));
      for (const [id, r] of nextReports) reports.set(id, structuredClone(r));
      version++;
      for (const listener of listeners) {
        listener(version, new Map([...nextWeights].map(([id, w]) => [id, copyWeights(w)])));
      }
    },

    async watch(listener) {
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },

    async readWeights(sinceVersion) {
      if (sinceVersion === version) return null;
      const out = new Map<string, PlacementWeights>();
      for (const [id, w] of weights) out.set(id, copyWeights(w));
      return { version, weights: out };
    },

    async readReport(placementId) {
      const r = reports.get(placementId);
      return r === undefined ? null : structuredClone(r);
    },

    async forget(placementIds) {
      // An empty list changes nothing; bumping would make every decision server re-read for nothing.
      if (placementIds.length === 0) return;
      for (const id of placementIds) {
        weights.delete(id);
        reports.delete(id);
      }
      version++;
    },

    async close() {},
  };
}

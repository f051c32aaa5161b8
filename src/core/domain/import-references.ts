import type { ConfigImportBatch } from '../ports/config-store.js';

/**
 * Every ad and placement id an import batch writes or refers to (its own ids, fallbacks, target
 * ads, target sets' placements), each once: what to look up in the store before an import.
 */
export function importReferences(batch: ConfigImportBatch): { adIds: string[]; placementIds: string[] } {
  const adIds = new Set(batch.ads.map((a) => a.id));
  for (const p of batch.placements) if (p.fallbackAdId !== null) adIds.add(p.fallbackAdId);
  for (const set of batch.targets) for (const x of set.targets) adIds.add(x.adId);
  const placementIds = new Set(batch.placements.map((p) => p.id));
  for (const set of batch.targets) placementIds.add(set.placementId);
  return { adIds: [...adIds], placementIds: [...placementIds] };
}

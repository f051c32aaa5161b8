import type { Ad } from '../../src/core/domain/ad.js';
import type { ConfigSnapshot } from '../../src/core/domain/config-snapshot.js';

/** The creation / update time of fixtures unless overridden. */
export const FIXTURE_TIME = '2024-05-01T10:00:00.000Z';

/** A valid domain ad named `Ad <id>`: active, an image, no targeting, cap or flight dates. */
export function makeAd(id: string, overrides: Partial<Ad> = {}): Ad {
  return {
    id,
    name: `Ad ${id}`,
    creative: {
      type: 'image',
      url: `https://cdn.example.com/${id}.png`,
      width: 300,
      height: 250,
      alt: 'alt',
    },
    clickUrl: `https://example.com/${id}`,
    targeting: null,
    frequencyCap: null,
    startAt: null,
    endAt: null,
    status: 'active',
    createdAt: FIXTURE_TIME,
    updatedAt: FIXTURE_TIME,
    ...overrides,
  };
}

/**
 * Adds to `snapshot` a placement `id` over `adIds` (each a fixture ad): the last is the
 * fallback, the others have the target `shares` in order; UTC days, targets version 1.
 */
export function addPlacement(
  snapshot: ConfigSnapshot,
  id: string,
  adIds: readonly string[],
  shares: readonly number[],
) {
  snapshot.ads.push(...adIds.map((a) => makeAd(a)));
  snapshot.placements.push({
    id,
    name: id,
    fallbackAdId: adIds[adIds.length - 1]!,
    window: { lengthHours: 24, timeZone: 'UTC' },
    createdAt: FIXTURE_TIME,
    updatedAt: FIXTURE_TIME,
  });
  snapshot.targets.push({
    placementId: id,
    version: 1,
    updatedAt: FIXTURE_TIME,
    targets: shares.map((share, a) => ({ adId: adIds[a]!, share })),
  });
}

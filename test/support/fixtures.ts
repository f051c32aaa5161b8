import type { Ad } from '../../src/core/domain/ad.js';

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

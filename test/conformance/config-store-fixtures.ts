import type { Placement, Target, TargetSet } from '../../src/core/domain/placement.js';
import { FIXTURE_TIME } from '../support/fixtures.js';

/** Shared by the ConfigStore conformance files. */
export const T0 = FIXTURE_TIME;
export const T1 = '2024-05-02T11:30:00.000Z';

export const targets = (...pairs: Array<[string, number]>): Target[] =>
  pairs.map(([adId, share]) => ({ adId, share }));

export const unsetTargets = (placementId: string): TargetSet => ({
  placementId,
  version: 0,
  targets: [],
  updatedAt: null,
});

export function makePlacement(id: string, overrides: Partial<Placement> = {}): Placement {
  return {
    id,
    name: `Placement ${id}`,
    fallbackAdId: null,
    window: { lengthHours: 24, timeZone: 'UTC' },
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

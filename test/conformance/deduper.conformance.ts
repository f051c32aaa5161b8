import { describe, expect, it } from 'vitest';
import type { Deduper } from '../../src/core/ports/deduper.js';

/** The `Deduper` contract (src/core/ports/deduper.ts), run against every adapter. */
export function describeDeduperConformance(name: string, create: () => Promise<Deduper>) {
  describe(`Deduper conformance: ${name}`, () => {
    it('says first-seen once per id within the TTL, including repeats inside one call', async () => {
      const d = await create();
      expect(await d.firstSeen(['x', 'y', 'x'], 1000, 0)).toEqual([true, true, false]);
      expect(await d.firstSeen(['x', 'z'], 1000, 500)).toEqual([false, true]);
      expect(await d.firstSeen(['y'], 1000, 999)).toEqual([false]);
    });

    it('forgets ids after their TTL', async () => {
      const d = await create();
      expect(await d.firstSeen(['k'], 1000, 0)).toEqual([true]);
      expect(await d.firstSeen(['k'], 1000, 1001)).toEqual([true]);
      expect(await d.firstSeen(['k'], 1000, 1500)).toEqual([false]);
    });
  });
}

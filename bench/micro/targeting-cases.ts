import type { Case } from './case.js';
import { MASK, REQS, RULE } from './fixtures.js';
import { sink } from './sink.js';

/** A compiled targeting predicate, called on the requests' contexts. */
export const targetingCases: Case[] = [
  {
    name: 'targeting: compiled predicate',
    what: 'one `compileTargeting` predicate call: country in 4 of 8, and (18 ≤ age < 35 or member)',
    batch: 256,
    setup: async () => {
      const { compileTargeting } = await import('../../src/core/targeting/compile-targeting.js');
      const match = compileTargeting(RULE);
      const contexts = REQS.map((r) => r.context);
      let k = 0;
      return (n) => {
        let hits = 0;
        for (let i = 0; i < n; i++) {
          if (match(contexts[k]!)) hits++;
          k = (k + 1) & MASK;
        }
        sink.value += hits;
      };
    },
  },
];

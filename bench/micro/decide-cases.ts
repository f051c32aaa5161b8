import { randomUUID } from 'node:crypto';
import type { Case } from './case.js';
import { BEACON_KEYS, MASK, REQS, snapshot } from './fixtures.js';
import { sink } from './sink.js';

/** A whole decision, in process, as `createAllot` wires it. */
export const decideCases: Case[] = [
  {
    name: 'decide: 100×20 plan, in process',
    what: '`createDecide` as `createAllot` wires it (memory frequency, mix sampling 1 in 1, publisher on the memory bus)',
    batch: 8,
    yields: true,
    setup: async () => {
      const [
        { compilePlan },
        { SelectorState },
        { createMemoryFrequencyStore },
        { createMemoryMixStore },
        { createMemoryEventBus },
        { createEventPublisher },
        { createBeaconSigner },
        { createDecide },
      ] = await Promise.all([
        import('../../src/core/plan/compile-plan.js'),
        import('../../src/core/selection/selector-state.js'),
        import('../../src/adapters/memory/memory-frequency-store.js'),
        import('../../src/adapters/memory/memory-mix-store.js'),
        import('../../src/adapters/memory/memory-event-bus.js'),
        import('../../src/pipeline/event-publisher.js'),
        import('../../src/tracking/beacon-token.js'),
        import('../../src/decision/decide.js'),
      ]);
      const plan = compilePlan(snapshot());
      // Every decision sampled into the mix (the worst case). Trees before the sample gate took
      // `mixSampleEvery`; both are passed so that `--against` an older ref runs the same case.
      const mixSample = await import('../../src/core/sampling/mix-sample-gate.js').then(
        (m) => m.createMixSampleGate({ every: 1, perSecond: 0 }),
        () => undefined,
      );
      // Decision ids as `createAllot` makes them (`newDecisionId`; `randomUUID` in older trees).
      const newId = await import('../../src/decision/new-decision-id.js').then(
        (m) => m.newDecisionId,
        () => randomUUID,
      );
      const deps = {
        plan: () => plan,
        selector: new SelectorState(),
        frequency: createMemoryFrequencyStore({ pendingMs: 960_000 }),
        signer: createBeaconSigner(BEACON_KEYS(), 'k1'),
        publisher: createEventPublisher(createMemoryEventBus()),
        now: Date.now,
        newId,
        publicUrl: '',
        mix: createMemoryMixStore({ halfLifeMs: 600_000 }),
        mixSampleEvery: 1,
        mixSample,
      };
      const decide = createDecide(deps as unknown as Parameters<typeof createDecide>[0]);
      let k = 0;
      return (n) => {
        let filled = 0;
        for (let i = 0; i < n; i++) {
          const r = REQS[k]!;
          if (decide(r.placementId, r.userId, r.context).kind === 'filled') filled++;
          k = (k + 1) & MASK;
        }
        sink.value += filled;
      };
    },
  },
];

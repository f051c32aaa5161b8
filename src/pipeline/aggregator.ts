import type { AllotEvent, EventType } from '../core/events/allot-event.js';
import type { Plan } from '../core/plan/plan.js';
import type { CounterStore } from '../core/ports/counter-store.js';
import type { EventBus, Subscription } from '../core/ports/event-bus.js';
import type { FrequencyStore } from '../core/ports/frequency-store.js';

export interface AggregatorDeps {
  bus: EventBus;
  counters: CounterStore;
  frequency: FrequencyStore;
  /** The current plan: which ads carry a frequency cap. */
  plan: () => Plan;
  /** How long each event type's ids are remembered (≥ its beacon token lifetime). */
  dedupTtlMs: Record<EventType, number>;
  clock: () => number;
  onCounted?: (type: EventType, counted: number, duplicates: number) => void;
}

export const AGGREGATOR_GROUP = 'aggregator';

/**
 * Where an event is counted. Consumes every event from the bus and hands the batch to
 * `CounterStore.countOnce`, which drops ids already counted and adds the rest to the live
 * counters (placement × ad × hour) in one atomic step: a redelivered batch, or one retried
 * after a failure, is counted exactly once. Counted impressions of capped ads then turn their
 * frequency reservation into a count.
 */
export function startAggregator(deps: AggregatorDeps): Subscription {
  return deps.bus.subscribe(AGGREGATOR_GROUP, async (batch: readonly AllotEvent[]) => {
    const counted = await deps.counters.countOnce(batch, deps.dedupTtlMs, deps.clock());
    const plan = deps.plan();
    const tally = { decision: [0, 0], impression: [0, 0], click: [0, 0] };
    batch.forEach((e, i) => {
      tally[e.type][counted[i] ? 0 : 1]!++;
      if (counted[i] && e.type === 'impression' && e.userId !== null && plan.ads.get(e.adId)?.cap) {
        deps.frequency.recordImpression(e.userId, e.adId, e.decisionId, e.ts);
      }
    });
    if (deps.onCounted) {
      for (const type of ['decision', 'impression', 'click'] as const) {
        const [n, dup] = tally[type];
        if (n! + dup! > 0) deps.onCounted(type, n!, dup!);
      }
    }
  });
}

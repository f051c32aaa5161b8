import type { AllotEvent, EventType } from '../core/events/allot-event.js';
import type { Plan } from '../core/plan/plan.js';
import type { CounterStore } from '../core/ports/counter-store.js';
import type { EventBus, SubscribeOptions, Subscription } from '../core/ports/event-bus.js';
import type { FrequencyStore } from '../core/ports/frequency-store.js';
import { isSampled } from '../core/sampling/event-sampler.js';
import { EXACT_SAMPLING, type SamplingPolicy } from './sampling-policy.js';

export interface AggregatorDeps {
  bus: EventBus;
  counters: CounterStore;
  frequency: FrequencyStore;
  /** The current plan: which ads carry a frequency cap. */
  plan: () => Plan;
  /** How long each event type's ids are remembered (≥ its beacon token lifetime). */
  dedupTtlMs: Record<EventType, number>;
  clock: () => number;
  /** Sampling of decision and impression events (clicks are always counted); default exact. */
  sampling?: SamplingPolicy;
  onCounted?: (type: EventType, counted: number, duplicates: number) => void;
  /** Batches to ask the bus for: a shared counter store costs per batch, so a fleet's
   *  aggregator lingers (`ALLOT_COUNT_INTERVAL_MS`) and counts half a second of events at once. */
  batching?: SubscribeOptions;
}

export const AGGREGATOR_GROUP = 'aggregator';

/**
 * Where an event is counted. Consumes every event from the bus, keeps the sample the policy
 * asks for (each kept event weighted 1/rate; exact counting keeps all), and hands it to
 * `CounterStore.countOnce`, which drops ids already counted and adds the rest to the live
 * counters (placement × ad × hour) in one atomic step: a redelivered batch, or one retried
 * after a failure, is counted exactly once. Impressions of capped ads turn their frequency
 * reservation into a count. With `batching.lingerMs` the bus hands over up to that long's events
 * at once: one `countOnce` (one Redis script) per interval instead of per bus read.
 */
export function startAggregator(deps: AggregatorDeps): Subscription {
  return deps.bus.subscribe(
    AGGREGATOR_GROUP,
    async (batch: readonly AllotEvent[]) => {
      const now = deps.clock();
      const sampling = deps.sampling ?? EXACT_SAMPLING;
      // Sampling is decided by event id, so a redelivered event is kept or skipped as before.
      const kept: AllotEvent[] = [];
      const weights: number[] = [];
      for (const e of batch) {
        if (e.type === 'impression') sampling.observe(e.placementId, 1, now);
        const rate = e.type === 'click' ? 1 : sampling.rateFor(e.placementId);
        if (!isSampled(e.id, rate)) continue;
        kept.push(e);
        weights.push(1 / rate);
      }
      const counted = await deps.counters.countOnce(kept, deps.dedupTtlMs, now, weights);
      const plan = deps.plan();
      const tally = { decision: [0, 0], impression: [0, 0], click: [0, 0] };
      kept.forEach((e, i) => {
        tally[e.type][counted[i] ? 0 : 1]!++;
      });
      // Caps need every impression, sampled or not; confirming a reservation twice is harmless.
      for (const e of batch) {
        if (e.type === 'impression' && e.userId !== null && plan.ads.get(e.adId)?.cap) {
          deps.frequency.recordImpression(e.userId, e.adId, e.decisionId, e.ts);
        }
      }
      if (deps.onCounted) {
        for (const type of ['decision', 'impression', 'click'] as const) {
          const [n, dup] = tally[type];
          if (n! + dup! > 0) deps.onCounted(type, n!, dup!);
        }
      }
    },
    deps.batching,
  );
}

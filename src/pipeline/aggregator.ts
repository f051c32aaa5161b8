import type { AllotEvent, EventType } from '../core/events/allot-event.js';
import type { Plan } from '../core/plan/plan.js';
import type { CounterIncrement, CounterStore } from '../core/ports/counter-store.js';
import type { Deduper } from '../core/ports/deduper.js';
import type { EventBus, Subscription } from '../core/ports/event-bus.js';
import type { FrequencyStore } from '../core/ports/frequency-store.js';
import { hourBucket } from '../core/window/allocation-window.js';

export interface AggregatorDeps {
  bus: EventBus;
  counters: CounterStore;
  deduper: Deduper;
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
 * Where an event is counted. Consumes every event from the bus, drops redeliveries by event
 * id, and adds the batch to the live counters in one `add` (per placement × ad × hour
 * bucket). Impressions of capped ads also turn their frequency reservation into a count.
 */
export function startAggregator(deps: AggregatorDeps): Subscription {
  const types: EventType[] = ['decision', 'impression', 'click'];
  return deps.bus.subscribe(AGGREGATOR_GROUP, async (batch: readonly AllotEvent[]) => {
    const now = deps.clock();
    const fresh: AllotEvent[] = [];
    for (const type of types) {
      const ofType = batch.filter((e) => e.type === type);
      if (ofType.length === 0) continue;
      const firsts = await deps.deduper.firstSeen(
        ofType.map((e) => e.id),
        deps.dedupTtlMs[type],
        now,
      );
      let counted = 0;
      ofType.forEach((e, i) => {
        if (firsts[i]) {
          fresh.push(e);
          counted++;
        }
      });
      deps.onCounted?.(type, counted, ofType.length - counted);
    }

    const increments = new Map<string, CounterIncrement>();
    const plan = deps.plan();
    for (const e of fresh) {
      const bucketStartMs = hourBucket(e.ts);
      const key = `${e.placementId}\u0000${e.adId}\u0000${bucketStartMs}`;
      let inc = increments.get(key);
      if (inc === undefined) {
        inc = {
          placementId: e.placementId,
          adId: e.adId,
          bucketStartMs,
          decisions: 0,
          impressions: 0,
          clicks: 0,
        };
        increments.set(key, inc);
      }
      if (e.type === 'decision') inc.decisions++;
      else if (e.type === 'impression') {
        inc.impressions++;
        if (e.userId !== null && plan.ads.get(e.adId)?.cap) {
          deps.frequency.recordImpression(e.userId, e.adId, e.decisionId, e.ts);
        }
      } else inc.clicks++;
    }
    if (increments.size > 0) await deps.counters.add([...increments.values()]);
  });
}

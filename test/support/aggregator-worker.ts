// A pipeline consumer as its own process, for crash tests: Redis Streams bus + Redis counters +
// the real aggregator. Env: REDIS_URL, PREFIX, CONSUMER (fixed name: a restart resumes its own
// pending entries), SLOW_MS (pause per batch, so a kill lands mid-stream).
import { createMemoryFrequencyStore } from '../../src/adapters/memory/memory-frequency-store.js';
import { createRedisConnection } from '../../src/adapters/redis/redis-client.js';
import { createRedisCounterStore } from '../../src/adapters/redis/redis-counter-store.js';
import { createRedisStreamsEventBus } from '../../src/adapters/redis/redis-streams-event-bus.js';
import type { AllotEvent } from '../../src/core/events/allot-event.js';
import { EMPTY_PLAN } from '../../src/core/plan/plan.js';
import type { EventBus } from '../../src/core/ports/event-bus.js';
import { startAggregator } from '../../src/pipeline/aggregator.js';

const env = (k: string): string => {
  const v = process.env[k];
  if (v === undefined) throw new Error(`${k} is required`);
  return v;
};
const client = await createRedisConnection(env('REDIS_URL'));
const prefix = env('PREFIX');
const slowMs = Number(process.env.SLOW_MS ?? '0');
const bus = await createRedisStreamsEventBus({
  client,
  prefix,
  consumerName: env('CONSUMER'),
  maxBatch: 200,
});
// Slow the handler down so that a SIGKILL lands between counting and acknowledging.
const slowBus: EventBus = {
  ...bus,
  subscribe: (group, handler, options) =>
    bus.subscribe(
      group,
      async (batch: readonly AllotEvent[]) => {
        await handler(batch);
        if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs));
      },
      options,
    ),
};
const hour = 3_600_000;
startAggregator({
  bus: slowBus,
  // Lingering like a fleet's pipeline (ALLOT_COUNT_INTERVAL_MS), so a kill can also land while
  // a gathered batch is held unacknowledged.
  batching: { lingerMs: 100, maxBatch: 2000 },
  counters: createRedisCounterStore({ client, prefix }),
  frequency: createMemoryFrequencyStore({ pendingMs: 60_000 }),
  plan: () => EMPTY_PLAN,
  dedupTtlMs: { decision: hour, impression: hour, click: hour },
  clock: () => Date.now(),
});
process.stdout.write('ready\n');

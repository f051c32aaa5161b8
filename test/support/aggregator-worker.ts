// A pipeline consumer as its own process, for crash tests: the real aggregator on a durable bus,
// counting into Redis. Env:
//   BUS         redis (default) or nats
//   REDIS_URL   Redis holding the live counters (and the stream, for BUS=redis)
//   PREFIX      Redis key prefix
//   CONSUMER    BUS=redis: fixed consumer name, so a restart resumes its own pending entries
//   NATS_URL, STREAM   BUS=nats: the server and stream; the group's durable consumer (`aggregator`)
//               keeps the position, so a restart resumes where the killed process acknowledged
//   SLOW_MS     pause after counting each batch, before the bus acknowledges it
//   MAX_BATCH   most events per handler call (default 2000)
// After counting each batch (and before that pause) it prints one JSON line with its running
// totals, `{"batch":n,"counted":c,"duplicates":d}`, so a test can SIGKILL it while the batch
// is counted but not yet acknowledged.
import { createMemoryFrequencyStore } from '../../src/adapters/memory/memory-frequency-store.js';
import { createRedisConnection } from '../../src/adapters/redis/redis-client.js';
import { createRedisCounterStore } from '../../src/adapters/redis/redis-counter-store.js';
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
const maxBatch = Number(process.env.MAX_BATCH ?? '2000');
const busKind = process.env.BUS ?? 'redis';

async function openBus(): Promise<EventBus> {
  if (busKind === 'redis') {
    const { createRedisStreamsEventBus } = await import(
      '../../src/adapters/redis/redis-streams-event-bus.js'
    );
    return createRedisStreamsEventBus({ client, prefix, consumerName: env('CONSUMER'), maxBatch: 200 });
  }
  if (busKind === 'nats') {
    const { createNatsJetStreamEventBus } = await import(
      '../../src/adapters/nats/nats-jetstream-event-bus.js'
    );
    return createNatsJetStreamEventBus({ servers: env('NATS_URL'), stream: env('STREAM') });
  }
  throw new Error(`BUS must be redis or nats, got "${busKind}"`);
}
const bus = await openBus();

const totals = { batch: 0, counted: 0, duplicates: 0 };
// Slow the handler down so that a SIGKILL lands between counting and acknowledging.
const slowBus: EventBus = {
  ...bus,
  subscribe: (group, handler, options) =>
    bus.subscribe(
      group,
      async (batch: readonly AllotEvent[]) => {
        await handler(batch);
        totals.batch++;
        process.stdout.write(`${JSON.stringify(totals)}\n`);
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
  batching: { lingerMs: 100, maxBatch },
  counters: createRedisCounterStore({ client, prefix }),
  frequency: createMemoryFrequencyStore({ pendingMs: 60_000 }),
  plan: () => EMPTY_PLAN,
  dedupTtlMs: { decision: hour, impression: hour, click: hour },
  clock: () => Date.now(),
  onCounted: (_type, counted, duplicates) => {
    totals.counted += counted;
    totals.duplicates += duplicates;
  },
});
process.stdout.write('ready\n');

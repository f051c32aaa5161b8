// Events/s through each EventBus adapter, publish → handler, in one run (docs/benchmarks.md).
//   npx tsx bench/bus-throughput.ts [--events 200000] [--batch 1000]
// Needs Redis on ALLOT_REDIS_URL (redis://127.0.0.1:6379) and NATS on ALLOT_NATS_URL (127.0.0.1:4222).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createMemoryEventBus } from '../src/adapters/memory/memory-event-bus.js';
import { createNatsJetStreamEventBus } from '../src/adapters/nats/nats-jetstream-event-bus.js';
import { createRedisConnection } from '../src/adapters/redis/redis-client.js';
import { createRedisStreamsEventBus } from '../src/adapters/redis/redis-streams-event-bus.js';
import type { AllotEvent } from '../src/core/events/allot-event.js';
import type { EventBus } from '../src/core/ports/event-bus.js';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '200000' }, batch: { type: 'string', default: '1000' } },
});
const N = Number(values.events);
const B = Number(values.batch);
const redisUrl = process.env.ALLOT_REDIS_URL ?? 'redis://127.0.0.1:6379';
const natsUrl = process.env.ALLOT_NATS_URL ?? '127.0.0.1:4222';
const tag = randomBytes(3).toString('hex');
const events: AllotEvent[] = Array.from({ length: N }, (_, i) => ({
  id: `b${tag}${i}:i`,
  type: 'impression',
  ts: Date.now(),
  decisionId: `b${tag}${i}`,
  placementId: `pl${i % 100}`,
  adId: `ad${i % 20}`,
  userId: `u${i % 50_000}`,
}));

async function measure(name: string, bus: EventBus): Promise<void> {
  let seen = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => {
    done = r;
  });
  bus.subscribe('bench', async (batch) => {
    seen += batch.length;
    if (seen >= N) done();
  });
  const t0 = performance.now();
  for (let i = 0; i < N; i += B) await bus.publish(events.slice(i, i + B));
  await all;
  const s = (performance.now() - t0) / 1000;
  console.log(`| ${name} | ${N.toLocaleString('en')} | ${B} | ${Math.round(N / s).toLocaleString('en')} |`);
  await bus.close();
}

console.log(`\n${new Date().toISOString()}, ${N} events, publish → handler, one consumer group`);
console.log('| bus | events | events per publish | events/s |\n|---|---|---|---|');
await measure('memory', createMemoryEventBus({ capacity: 1_000_000 }));
const client = await createRedisConnection(redisUrl);
const prefix = `allot-bench-${tag}`;
await measure('Redis Streams', await createRedisStreamsEventBus({ client, prefix }));
for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 }))
  if (keys.length > 0) await client.unlink(keys);
await client.quit();
const stream = `ALLOT_BENCH_${tag}`;
await measure('NATS JetStream', await createNatsJetStreamEventBus({ servers: natsUrl, stream }));
const nc = await connect({ servers: natsUrl });
await (await jetstreamManager(nc)).streams.delete(stream);
await nc.close();

// The bus of one pipeline bench phase, as a pipeline process (or the decision servers' side)
// opens it: Redis Streams under a key prefix, or a JetStream stream. Used by the bench's main
// thread and by its archiver thread (pipeline/archiver-thread.ts).
import { createNatsJetStreamEventBus } from '../../src/adapters/nats/nats-jetstream-event-bus.js';
import { createRedisConnection } from '../../src/adapters/redis/redis-client.js';
import { createRedisStreamsEventBus } from '../../src/adapters/redis/redis-streams-event-bus.js';
import type { EventBus } from '../../src/core/ports/event-bus.js';

export type BusName = 'Redis Streams' | 'NATS JetStream';

export interface BusPlace {
  busName: BusName;
  redisUrl: string;
  natsUrl: string;
  prefix: string;
  stream: string;
}

/**
 * Opens the bus; `capacity` raises the NATS publisher's back-pressure limit (the publishing side
 * fills the stream before anything consumes). `onClose` receives what to run at cleanup.
 */
export async function openBus(
  at: BusPlace,
  opts: { capacity?: number; onClose: (fn: () => Promise<unknown>) => void },
): Promise<EventBus> {
  const onHandlerError = (group: string, err: unknown) =>
    process.stderr.write(`${at.busName} ${group}: ${String(err)}\n`);
  if (at.busName === 'Redis Streams') {
    const c = await createRedisConnection(at.redisUrl);
    opts.onClose(() => c.quit().catch(() => undefined));
    return createRedisStreamsEventBus({ client: c, prefix: at.prefix, onHandlerError });
  }
  return createNatsJetStreamEventBus({
    servers: at.natsUrl,
    stream: at.stream,
    onHandlerError,
    ...(opts.capacity === undefined ? {} : { capacity: opts.capacity }),
  });
}

import type { Logger } from 'pino';
import { createMemoryCounterStore } from '../adapters/memory/memory-counter-store.js';
import { createMemoryEventBus } from '../adapters/memory/memory-event-bus.js';
import type { AllotConfig } from '../config/config.js';
import type { CounterStore } from '../core/ports/counter-store.js';
import type { EventBus } from '../core/ports/event-bus.js';

export interface Pipeline {
  bus: EventBus;
  counters: CounterStore;
  /** Closes what `openPipeline` opened (after the bus has drained). */
  close(): Promise<void>;
}

/**
 * Chooses the event bus and the live counters (which also dedup what they count) from the configuration. Redis and NATS
 * clients are loaded only when configured, so the embedded default loads neither.
 */
export async function openPipeline(config: AllotConfig, logger: Logger): Promise<Pipeline> {
  const onHandlerError = (group: string, err: unknown) =>
    logger.error({ err, group }, 'event consumer failed; will redeliver');
  const closers: Array<() => Promise<void>> = [];
  let counters: CounterStore = createMemoryCounterStore();
  let bus: EventBus | null = null;

  if (config.redisUrl !== null) {
    const { createRedisConnection } = await import('../adapters/redis/redis-client.js');
    const { createRedisCounterStore } = await import('../adapters/redis/redis-counter-store.js');
    const client = await createRedisConnection(config.redisUrl, {
      onError: (err) => logger.warn({ err }, 'redis connection error'),
    });
    closers.push(async () => {
      await client.quit().catch(() => undefined);
    });
    counters = createRedisCounterStore({ client, prefix: config.redisPrefix });
    if (config.bus === 'redis') {
      const { createRedisStreamsEventBus } = await import('../adapters/redis/redis-streams-event-bus.js');
      bus = await createRedisStreamsEventBus({ client, prefix: config.redisPrefix, onHandlerError });
    }
  }
  if (config.bus === 'nats') {
    const { createNatsJetStreamEventBus } = await import('../adapters/nats/nats-jetstream-event-bus.js');
    bus = await createNatsJetStreamEventBus({
      servers: config.natsUrl ?? '',
      stream: config.natsStream,
      onHandlerError,
    });
  }
  return {
    bus: bus ?? createMemoryEventBus({ onHandlerError }),
    counters,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}

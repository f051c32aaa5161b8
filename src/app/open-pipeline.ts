import type { Logger } from 'pino';
import { createMemoryAllocationStateStore } from '../adapters/memory/memory-allocation-state-store.js';
import { createMemoryCounterStore, type DedupStats } from '../adapters/memory/memory-counter-store.js';
import { createMemoryEventBus } from '../adapters/memory/memory-event-bus.js';
import { createMemoryMixStore } from '../adapters/memory/memory-mix-store.js';
import type { ChangeNotifier } from '../adapters/redis/redis-change-notifier.js';
import type { AllotConfig } from '../config/config.js';
import type { AllocationStateStore } from '../core/ports/allocation-state-store.js';
import type { CounterStore } from '../core/ports/counter-store.js';
import type { EventBus } from '../core/ports/event-bus.js';
import type { FrequencyStore } from '../core/ports/frequency-store.js';
import type { MixStore } from '../core/ports/mix-store.js';

/** The shared state of a deployment: in process (embedded) or in Redis and a broker (a fleet). */
export interface Pipeline {
  bus: EventBus;
  counters: CounterStore;
  mix: MixStore;
  allocationState: AllocationStateStore;
  /** Frequency caps shared by every decision server (Redis); null = keep them in process. */
  sharedFrequency: FrequencyStore | null;
  /** Configuration change announcements between the processes of a fleet; null = one process. */
  changes: ChangeNotifier | null;
  /** The in-process dedup window's size and early evictions; null when Redis dedups. */
  dedupStats: (() => DedupStats) | null;
  /** Whether the state is shared with other processes (Redis), i.e. this may be one of a fleet. */
  shared: boolean;
  /** Closes what `openPipeline` opened (after the bus has drained). */
  close(): Promise<void>;
}

/**
 * Chooses the event bus, live counters (which also dedup what they count), request mix and
 * allocation state from the configuration. Redis and NATS clients are loaded only when
 * configured, so the embedded default loads neither.
 */
export async function openPipeline(config: AllotConfig, logger: Logger): Promise<Pipeline> {
  const onHandlerError = (group: string, err: unknown) =>
    logger.error({ err, group }, 'event consumer failed; will redeliver');
  const onError = (err: unknown) => logger.warn({ err }, 'redis error');
  const closers: Array<() => Promise<void>> = [];
  const halfLifeMs = config.mixHalfLifeSeconds * 1000;
  const memoryCounters = createMemoryCounterStore();
  let counters: CounterStore = memoryCounters;
  let mix: MixStore = createMemoryMixStore({ halfLifeMs });
  let allocationState: AllocationStateStore = createMemoryAllocationStateStore();
  let bus: EventBus | null = null;
  let sharedFrequency: FrequencyStore | null = null;
  let changes: ChangeNotifier | null = null;

  if (config.redisUrl !== null) {
    const { createRedisConnection } = await import('../adapters/redis/redis-client.js');
    const { createRedisCounterStore } = await import('../adapters/redis/redis-counter-store.js');
    const { createRedisMixStore } = await import('../adapters/redis/redis-mix-store.js');
    const { createRedisAllocationStateStore } = await import(
      '../adapters/redis/redis-allocation-state-store.js'
    );
    const client = await createRedisConnection(config.redisUrl, { onError });
    const prefix = config.redisPrefix;
    counters = createRedisCounterStore({ client, prefix });
    const redisMix = createRedisMixStore({ client, prefix, halfLifeMs, onError });
    mix = redisMix;
    allocationState = createRedisAllocationStateStore({ client, prefix });
    const { createRedisFrequencyStore } = await import('../adapters/redis/redis-frequency-store.js');
    const frequency = createRedisFrequencyStore({ client, prefix, onError });
    sharedFrequency = frequency;
    const { createRedisChangeNotifier } = await import('../adapters/redis/redis-change-notifier.js');
    changes = createRedisChangeNotifier({ client, prefix, onError });
    closers.push(async () => {
      await frequency.close().catch(onError);
      await redisMix.close();
      await client.quit().catch(() => undefined);
    });
    if (config.bus === 'redis') {
      const { createRedisStreamsEventBus } = await import('../adapters/redis/redis-streams-event-bus.js');
      bus = await createRedisStreamsEventBus({ client, prefix, onHandlerError });
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
    mix,
    allocationState,
    sharedFrequency,
    changes,
    dedupStats: counters === memoryCounters ? memoryCounters.dedupStats : null,
    shared: config.redisUrl !== null,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}

import type { AllotEvent } from '../../core/events/allot-event.js';
import type { BatchHandler, EventBus, SubscribeOptions, Subscription } from '../../core/ports/event-bus.js';

export interface MemoryEventBusOptions {
  /** Most events a group may hold undelivered; `publish` waits beyond it (back-pressure). */
  capacity?: number;
  maxBatch?: number;
  /** First redelivery delay after a handler failure; doubles up to 5 s. */
  retryDelayMs?: number;
  onHandlerError?: (group: string, err: unknown) => void;
}

interface Group {
  readonly name: string;
  readonly handler: BatchHandler;
  queue: AllotEvent[];
  head: number;
  running: boolean;
  stopped: boolean;
  failures: number;
  idle: Promise<void>;
  timer: NodeJS.Timeout | null;
  maxBatch: number;
  lingerMs: number;
  /** When the oldest undelivered event arrived (linger runs from it). */
  firstAt: number;
  /** `timer` is a linger wait (cut short when a full batch is ready), not a retry backoff. */
  lingering: boolean;
}

/**
 * In-process bus of the embedded mode: one bounded queue per consumer group, delivered in
 * batches on later ticks. Not durable: a crash loses what is queued (the embedded event log of
 * the archive issue covers that); everything else follows the `EventBus` contract.
 */
export function createMemoryEventBus(opts: MemoryEventBusOptions = {}): EventBus & { pending(): number } {
  const capacity = opts.capacity ?? 100_000;
  const maxBatch = opts.maxBatch ?? 1000;
  const retryDelayMs = opts.retryDelayMs ?? 50;
  const groups = new Map<string, Group>();
  let closed = false;
  let spaceWaiters: Array<() => void> = [];

  const backlog = (g: Group): number => g.queue.length - g.head;
  const hasSpace = (n: number): boolean => {
    for (const g of groups.values()) if (backlog(g) > 0 && backlog(g) + n > capacity) return false;
    return true;
  };
  const wakePublishers = (): void => {
    const waiters = spaceWaiters;
    spaceWaiters = [];
    for (const w of waiters) w();
  };

  function pump(g: Group): void {
    if (g.running || g.stopped || g.timer !== null || backlog(g) === 0) return;
    const wait = g.lingerMs - (Date.now() - g.firstAt);
    if (!closed && wait > 0 && backlog(g) < g.maxBatch) {
      g.lingering = true;
      g.timer = setTimeout(() => {
        g.timer = null;
        g.lingering = false;
        pump(g);
      }, wait);
      return;
    }
    g.running = true;
    let done!: () => void;
    g.idle = new Promise((r) => {
      done = r;
    });
    setImmediate(async () => {
      while (!g.stopped && backlog(g) > 0) {
        const batch = g.queue.slice(g.head, g.head + g.maxBatch);
        try {
          await g.handler(batch);
          g.failures = 0;
          g.head += batch.length;
          if (g.head > 4096 && g.head * 2 > g.queue.length) {
            g.queue = g.queue.slice(g.head);
            g.head = 0;
          }
          wakePublishers();
        } catch (err) {
          opts.onHandlerError?.(g.name, err);
          g.failures++;
          const delay = Math.min(5000, retryDelayMs * 2 ** (g.failures - 1));
          g.timer = setTimeout(() => {
            g.timer = null;
            pump(g);
          }, delay);
          break;
        }
      }
      g.running = false;
      done();
    });
  }

  return {
    async publish(events) {
      if (closed) throw new Error('event bus is closed');
      if (events.length === 0) return;
      while (!hasSpace(events.length)) {
        await new Promise<void>((r) => spaceWaiters.push(r));
        if (closed) throw new Error('event bus is closed');
      }
      for (const g of groups.values()) {
        if (g.stopped) continue;
        if (backlog(g) === 0) g.firstAt = Date.now();
        for (const e of events) g.queue.push(e);
        if (g.lingering && backlog(g) >= g.maxBatch) {
          clearTimeout(g.timer!);
          g.timer = null;
          g.lingering = false;
        }
        pump(g);
      }
    },

    subscribe(group, handler, options: SubscribeOptions = {}): Subscription {
      if (groups.has(group)) throw new Error(`consumer group "${group}" already subscribed`);
      const g: Group = {
        maxBatch: options.maxBatch ?? maxBatch,
        lingerMs: options.lingerMs ?? 0,
        firstAt: 0,
        lingering: false,
        name: group,
        handler,
        queue: [],
        head: 0,
        running: false,
        stopped: false,
        failures: 0,
        idle: Promise.resolve(),
        timer: null,
      };
      groups.set(group, g);
      return {
        async stop() {
          g.stopped = true;
          if (g.timer !== null) clearTimeout(g.timer);
          await g.idle;
          groups.delete(group);
          wakePublishers();
        },
      };
    },

    async close() {
      closed = true;
      wakePublishers();
      for (const g of groups.values()) {
        if (!g.lingering) continue;
        clearTimeout(g.timer!);
        g.timer = null;
        g.lingering = false;
        pump(g);
      }
      // Drain: wait until every live group has delivered its backlog (or is stuck retrying).
      for (;;) {
        const busy = [...groups.values()].filter((g) => !g.stopped && backlog(g) > 0);
        if (busy.length === 0) return;
        if (busy.every((g) => g.timer !== null && g.failures > 5)) return;
        await Promise.all(busy.map((g) => g.idle));
        await new Promise((r) => setTimeout(r, 5));
      }
    },

    pending() {
      let n = 0;
      for (const g of groups.values()) n += backlog(g);
      return n;
    },
  };
}

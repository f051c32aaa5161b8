import type { AllotEvent } from '../core/events/allot-event.js';
import type { EventBus } from '../core/ports/event-bus.js';

/**
 * Batches events from request handlers into `EventBus.publish` calls: everything published
 * during one turn of the event loop goes out as one batch (group commit), or with `lingerMs`
 * everything published within that time (fewer, larger messages on a broker: at 10K
 * decisions/s a 50 ms linger makes ~20 publishes a second instead of thousands; a batch of
 * `maxBatch` events goes at once). `publish` is
 * fire-and-forget (decisions); `publishAndWait` resolves when the batch holding the event has
 * been accepted by the bus (beacons are acknowledged only then).
 *
 * A failed batch is kept and retried with the next one (merge back, as unleash's metrics do),
 * up to `maxBuffered` events; beyond that the oldest fire-and-forget events are shed and
 * counted in `dropped`. Without a next one (traffic stopped during a broker outage) the
 * buffer is retried every `retryMs`, so it does not wait for the next request to move.
 */
export function createEventPublisher(
  bus: EventBus,
  opts: {
    maxBuffered?: number;
    lingerMs?: number;
    maxBatch?: number;
    /** Retry a failed batch after this long when nothing else is published (default 1000). */
    retryMs?: number;
    onError?: (e: unknown) => void;
    /** Fire-and-forget events dropped because the bus stayed unavailable and the buffer was full. */
    onShed?: (events: number) => void;
  } = {},
) {
  const maxBuffered = opts.maxBuffered ?? 200_000;
  const lingerMs = opts.lingerMs ?? 0;
  const maxBatch = opts.maxBatch ?? 5000;
  const retryMs = opts.retryMs ?? 1000;
  let timer: NodeJS.Timeout | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let buffer: AllotEvent[] = [];
  let waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  let scheduled = false;
  let inFlight: Promise<void> = Promise.resolve();
  let dropped = 0;

  // `drain` flushes with `autoRetry` false: after a shutdown's last attempt nothing is left running.
  const flush = async (autoRetry = true): Promise<void> => {
    scheduled = false;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (retryTimer !== null) clearTimeout(retryTimer);
    retryTimer = null;
    if (buffer.length === 0) return;
    const batch = buffer;
    const batchWaiters = waiters;
    buffer = [];
    waiters = [];
    try {
      await bus.publish(batch);
      for (const w of batchWaiters) w.resolve();
    } catch (err) {
      opts.onError?.(err);
      for (const w of batchWaiters) w.reject(err);
      // Fire-and-forget events go back to the front for the next attempt.
      buffer = batch.concat(buffer);
      if (buffer.length > maxBuffered) {
        const shed = buffer.length - maxBuffered;
        dropped += shed;
        buffer = buffer.slice(shed);
        opts.onShed?.(shed);
      }
      if (autoRetry && !scheduled && buffer.length > 0) {
        retryTimer = setTimeout(run, retryMs);
        retryTimer.unref();
      }
    }
  };

  const run = (): void => {
    inFlight = inFlight.then(() => flush());
  };
  const schedule = (): void => {
    if (scheduled) {
      // A full batch does not wait out the linger.
      if (timer !== null && buffer.length >= maxBatch) {
        clearTimeout(timer);
        timer = null;
        setImmediate(run);
      }
      return;
    }
    scheduled = true;
    if (lingerMs > 0 && buffer.length < maxBatch) timer = setTimeout(run, lingerMs);
    else setImmediate(run);
  };

  return {
    publish(event: AllotEvent): void {
      buffer.push(event);
      schedule();
    },
    publishAndWait(event: AllotEvent): Promise<void> {
      buffer.push(event);
      schedule();
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    /** Publishes whatever is buffered now; resolves when done. */
    async drain(): Promise<void> {
      if (retryTimer !== null) clearTimeout(retryTimer);
      retryTimer = null;
      await inFlight;
      await flush(false);
    },
    dropped: () => dropped,
    buffered: () => buffer.length,
  };
}

export type EventPublisher = ReturnType<typeof createEventPublisher>;

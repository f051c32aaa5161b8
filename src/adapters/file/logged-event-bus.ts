import type { AllotEvent } from '../../core/events/allot-event.js';
import type { EventBus } from '../../core/ports/event-bus.js';
import type { EventLog } from './file-event-log.js';

export type LoggedEventBus = EventBus & {
  /** Publishes every event the log held at open into the bus; resolves to how many. */
  replay(): Promise<number>;
};

/**
 * An in-process bus made durable by the event log: `publish` resolves once the events are in
 * the log (so an acknowledged beacon survives a SIGKILL), then hands them to the bus, in log
 * order even when publishes overlap. `replay` (after the consumers subscribed, before serving)
 * sends what an earlier process logged; consumers drop what they already had, by event id.
 */
export function createLoggedEventBus(inner: EventBus, log: EventLog): LoggedEventBus {
  let order: Promise<unknown> = Promise.resolve();
  return {
    publish(events: readonly AllotEvent[]): Promise<void> {
      const logged = log.append(events);
      const run = order.then(() => logged).then(() => inner.publish(events));
      order = run.catch(() => undefined);
      return run;
    },
    subscribe: (group, handler, options) => inner.subscribe(group, handler, options),
    replay(): Promise<number> {
      // On the same chain as publishes: anything published meanwhile follows the replayed events.
      const run = order.then(async () => {
        let n = 0;
        for await (const chunk of log.replay()) {
          await inner.publish(chunk);
          n += chunk.length;
        }
        return n;
      });
      order = run.catch(() => undefined);
      return run;
    },
    async close(): Promise<void> {
      await order;
      await inner.close();
      await log.close();
    },
  };
}

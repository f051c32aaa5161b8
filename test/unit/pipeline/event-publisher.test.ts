import { describe, expect, it } from 'vitest';
import type { AllotEvent } from '../../../src/core/events/allot-event.js';
import type { EventBus } from '../../../src/core/ports/event-bus.js';
import { createEventPublisher } from '../../../src/pipeline/event-publisher.js';

const ev = (i: number): AllotEvent => ({
  id: `d${i}:d`,
  type: 'decision',
  ts: i,
  decisionId: `d${i}`,
  placementId: 'p',
  adId: 'a',
  userId: null,
});

/** A bus that refuses publishes while `down`, and records what it accepted. */
function flakyBus() {
  const accepted: string[] = [];
  const bus = {
    down: true,
    accepted,
    async publish(events: readonly AllotEvent[]) {
      if (bus.down) throw new Error('bus unavailable');
      accepted.push(...events.map((e) => e.id));
    },
    subscribe: () => ({ stop: async () => undefined }),
    close: async () => undefined,
  };
  return bus as typeof bus & EventBus;
}

describe('event publisher while the bus is down', () => {
  it('keeps fire-and-forget events (bounded, oldest shed and reported), refuses waiters, publishes the rest in order once back', async () => {
    const bus = flakyBus();
    const shed: number[] = [];
    const publisher = createEventPublisher(bus, {
      maxBuffered: 10,
      onError: () => undefined,
      onShed: (n) => shed.push(n),
    });
    const beacon = publisher.publishAndWait(ev(0));
    for (let i = 1; i <= 14; i++) publisher.publish(ev(i));
    await expect(beacon).rejects.toThrow('bus unavailable');
    // Flushes keep failing while down; each failure merges the batch back, bounded at 10.
    for (let k = 0; k < 3; k++) await publisher.drain().catch(() => undefined);
    expect(publisher.buffered()).toBe(10);
    expect(shed.reduce((a, b) => a + b, 0)).toBe(publisher.dropped());
    expect(publisher.dropped()).toBe(5); // 15 events (the beacon's included) into 10 places
    bus.down = false;
    await publisher.drain();
    expect(bus.accepted).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((i) => `d${i}:d`));
    expect(publisher.buffered()).toBe(0);
  });
});

describe('event publisher retry without traffic', () => {
  it('publishes what it buffered once the bus is back, with no further publish to trigger it', async () => {
    const bus = flakyBus();
    let errors = 0;
    const publisher = createEventPublisher(bus, { retryMs: 20, onError: () => errors++ });
    for (let i = 0; i < 5; i++) publisher.publish(ev(i));
    // Failing while down: retried on its own, the events kept.
    while (errors < 3) await new Promise((r) => setTimeout(r, 5));
    expect(publisher.buffered()).toBe(5);
    expect(bus.accepted).toEqual([]);
    bus.down = false;
    for (let i = 0; i < 100 && publisher.buffered() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(bus.accepted).toEqual(['d0:d', 'd1:d', 'd2:d', 'd3:d', 'd4:d']);
    expect(publisher.buffered()).toBe(0);
  });

  it('stops retrying after drain (a shutdown leaves nothing running)', async () => {
    const bus = flakyBus();
    let errors = 0;
    const publisher = createEventPublisher(bus, { retryMs: 10, onError: () => errors++ });
    publisher.publish(ev(0));
    while (errors < 1) await new Promise((r) => setTimeout(r, 5));
    await publisher.drain().catch(() => undefined);
    const after = errors;
    await new Promise((r) => setTimeout(r, 100));
    expect(errors).toBe(after);
  });
});

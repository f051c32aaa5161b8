import type { AllotEvent } from '../events/allot-event.js';

/** Receives a batch; resolve = processed (acknowledged), reject = redeliver later. */
export type BatchHandler = (batch: readonly AllotEvent[]) => Promise<void>;

/** How a subscription wants its batches. */
export interface SubscribeOptions {
  /** Most events per handler call (default: the bus's `maxBatch`). */
  maxBatch?: number;
  /**
   * Wait up to this long after the first undelivered event for more, unless `maxBatch` are
   * ready sooner (default 0: deliver what is there). Fewer, larger batches: a consumer whose
   * cost is per batch (the aggregator's one Redis script) trades this much latency for it.
   */
  lingerMs?: number;
}

export interface Subscription {
  /** Stops taking new batches and waits for the one in progress. */
  stop(): Promise<void>;
}

/**
 * The event pipeline between beacons/decisions and their consumers (aggregator, archiver).
 *
 * Adapters: memory (embedded default). Contract (`test/conformance/event-bus`):
 * - At-least-once: a batch whose handler rejects is delivered again; consumers must be
 *   idempotent by `AllotEvent.id`.
 * - Each consumer group receives every event published after it subscribed.
 * - `publish` resolves once the bus has accepted the events (for durable buses: stored);
 *   it waits while the bus is full (back-pressure) rather than dropping.
 * - A subscription's batches hold at most `maxBatch` events and, with `lingerMs`, are held back
 *   until `maxBatch` events are ready or `lingerMs` passed since the first of them arrived.
 * - `close` stops accepting, lets subscribers drain what was accepted, then resolves.
 */
export interface EventBus {
  publish(events: readonly AllotEvent[]): Promise<void>;
  subscribe(group: string, handler: BatchHandler, options?: SubscribeOptions): Subscription;
  close(): Promise<void>;
}

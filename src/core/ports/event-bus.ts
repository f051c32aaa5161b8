import type { AllotEvent } from '../events/allot-event.js';

/** Receives a batch; resolve = processed (acknowledged), reject = redeliver later. */
export type BatchHandler = (batch: readonly AllotEvent[]) => Promise<void>;

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
 * - `close` stops accepting, lets subscribers drain what was accepted, then resolves.
 */
export interface EventBus {
  publish(events: readonly AllotEvent[]): Promise<void>;
  subscribe(group: string, handler: BatchHandler): Subscription;
  close(): Promise<void>;
}

/**
 * Remembers event ids so that redelivered or replayed events are handled once, for consumers
 * whose effect is not a counter increment (live counting uses `CounterStore.countOnce`, which
 * dedups and counts atomically).
 *
 * Contract: `firstSeen(ids, ttlMs)` returns, per id, true the first time an id is offered
 * within `ttlMs`, false afterwards (ids repeated inside one call: only the first is true).
 * The TTL must be at least the beacon token lifetime: an expired token is refused upstream.
 */
export interface Deduper {
  firstSeen(ids: readonly string[], ttlMs: number, nowMs: number): Promise<boolean[]>;
}

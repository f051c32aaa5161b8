/**
 * Remembers event ids so that redelivered or replayed events are handled once. Adapters: memory
 * (the memory counter store's `countOnce` is built on it; Redis does dedup and counting in one
 * script instead).
 *
 * Contract: `firstSeen(ids, ttlMs)` returns, per id, true the first time an id is offered
 * within `ttlMs`, false afterwards (ids repeated inside one call: only the first is true). An
 * adapter may remember an id up to a second longer (the memory one keeps whole seconds).
 * The TTL must be at least the beacon token lifetime: an expired token is refused upstream.
 */
export interface Deduper {
  firstSeen(ids: readonly string[], ttlMs: number, nowMs: number): Promise<boolean[]>;
}

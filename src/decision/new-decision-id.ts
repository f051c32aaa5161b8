import { randomUUID } from 'node:crypto';

/**
 * A decision id: a random UUID, as one flat string. Node 20's `randomUUID()` builds its result
 * from 20 concatenated pieces, a tree of V8 cons strings (~530 bytes) that lives as long as
 * anything holds the id — every event id in the dedup window (the token lifetime, 15 min by
 * default), frequency reservations. `toLowerCase()` (a no-op on the value: the UUID is already
 * lower-case hex) flattens it into one sequential string: 533 → 109 bytes per retained event id
 * and a full GC over a million of them 870–928 → 127–132 ms, for ~0.1–0.2 µs more per id
 * (`npx tsx --expose-gc bench/retained-ids.ts`, docs/benchmarks.md).
 */
export const newDecisionId = (): string => randomUUID().toLowerCase();

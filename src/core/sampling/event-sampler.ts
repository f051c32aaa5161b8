/**
 * A uniform number in [0, 1) derived from an event id: FNV-1a (32 bit) followed by MurmurHash3's
 * fmix32 finaliser, so ids that differ in one character still spread over the whole range.
 * The same id always gets the same number: a redelivered or replayed event is sampled or
 * skipped exactly as it was the first time, which keeps exactly-once counting intact.
 */
export function sampleUnit(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Whether the event with this id is in a Bernoulli sample at `rate` (rate ≥ 1: always). */
export const isSampled = (id: string, rate: number): boolean => rate >= 1 || sampleUnit(id) < rate;

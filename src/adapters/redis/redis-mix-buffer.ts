import type { RequestContext } from '../../core/targeting/targeting-rule.js';

/**
 * The Redis mix store's in-memory buffer (`redis-mix-store.ts`): the samples a decision server
 * recorded since its last flush, per placement, and what happens to them when a flush fails.
 */

/** One slice's counts: candidate key → eligibility key → count. */
export type Slice = Map<string, Map<string, number>>;

export interface PlacementBuffer {
  /** The latest candidates recorded: what `mixcand` is set to. */
  candidateKey: string;
  adIds: readonly string[];
  /** Slice start → candidate key → eligibility key → count (the hash field is
   *  `<candidateKey>|<eligibilityKey>`, joined at flush: the candidate key is long, and
   *  joining it per request cost a string copy and hash each). */
  slices: Map<number, Slice>;
  /** Oldest first; trimmed to maxContexts in amortised O(1). */
  contexts: RequestContext[];
}

/** Buffered (slice, field) counts kept across failed flushes, all placements together. */
const MAX_BUFFERED_FIELDS = 100_000;

/** Counts one sample of a placement into the slice starting at `sliceStart` (the hot path). */
export function addSample(
  buffer: Map<string, PlacementBuffer>,
  placementId: string,
  candidateKey: string,
  adIds: readonly string[],
  key: string,
  context: RequestContext,
  sliceStart: number,
  maxContexts: number,
): void {
  let b = buffer.get(placementId);
  if (b === undefined) {
    b = { candidateKey, adIds, slices: new Map(), contexts: [] };
    buffer.set(placementId, b);
  } else {
    b.candidateKey = candidateKey;
    b.adIds = adIds;
  }
  let fields = b.slices.get(sliceStart);
  if (fields === undefined) {
    fields = new Map();
    b.slices.set(sliceStart, fields);
  }
  let counts = fields.get(candidateKey);
  if (counts === undefined) {
    counts = new Map();
    fields.set(candidateKey, counts);
  }
  counts.set(key, (counts.get(key) ?? 0) + 1);
  b.contexts.push(context);
  if (b.contexts.length >= 2 * maxContexts) b.contexts.splice(0, b.contexts.length - maxContexts);
}

/**
 * Puts a failed batch back under what was recorded since (newer candidates and contexts win),
 * then bounds the buffer.
 */
export function mergeBack(
  buffer: Map<string, PlacementBuffer>,
  failed: Map<string, PlacementBuffer>,
  maxContexts: number,
  horizonMs: number,
): void {
  for (const [placementId, old] of failed) {
    const cur = buffer.get(placementId);
    if (cur === undefined) {
      buffer.set(placementId, old);
      continue;
    }
    for (const [start, fields] of cur.slices) {
      const into = old.slices.get(start);
      if (into === undefined) {
        old.slices.set(start, fields);
        continue;
      }
      for (const [cand, counts] of fields) {
        const intoCounts = into.get(cand);
        if (intoCounts === undefined) into.set(cand, counts);
        else for (const [k, n] of counts) intoCounts.set(k, (intoCounts.get(k) ?? 0) + n);
      }
    }
    cur.slices = old.slices;
    cur.contexts = old.contexts.concat(cur.contexts).slice(-maxContexts);
  }
  boundBuffer(buffer, horizonMs);
}

/** Keeps a long outage from growing the buffer: drops slices past the horizon, then oldest first. */
export function boundBuffer(buffer: Map<string, PlacementBuffer>, horizonMs: number): void {
  const all: Array<{ start: number; slices: Map<number, Slice>; size: number }> = [];
  let newest = Number.NEGATIVE_INFINITY;
  for (const b of buffer.values()) {
    for (const [start, fields] of b.slices) {
      let size = 0;
      for (const counts of fields.values()) size += counts.size;
      all.push({ start, slices: b.slices, size });
      newest = Math.max(newest, start);
    }
  }
  all.sort((x, y) => y.start - x.start);
  let kept = 0;
  for (const s of all) {
    kept += s.size;
    if (s.start < newest - horizonMs || kept > MAX_BUFFERED_FIELDS) s.slices.delete(s.start);
  }
}

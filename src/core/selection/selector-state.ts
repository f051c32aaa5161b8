import type { CompiledPlacement } from '../plan/plan.js';

/** Most eligibility patterns a placement keeps credits for; the oldest are dropped beyond. */
const MAX_PATTERNS = 4096;
/** Up to this many candidates, a pattern's key is an exact number (two 26-bit halves). */
export const NUMERIC_KEY_CANDIDATES = 52;

/**
 * Running credits of one placement, one credit array per eligibility pattern (the set of
 * candidates eligible for a request). Round-robin within a pattern hands each candidate
 * exactly w_a / Σ_{b∈pattern} w_b of that pattern's requests, so the placement as a whole
 * follows the Luce choice model the controller fits weights with — smoothly, without a
 * lottery's noise.
 */
export class CreditBook {
  /** Scratch for the selection pass: 1 where the candidate is eligible for this request. */
  readonly eligible: Uint8Array;
  private readonly byPattern = new Map<number | string, Float64Array>();

  constructor(readonly placement: CompiledPlacement) {
    this.eligible = new Uint8Array(placement.candidates.length);
  }

  credits(key: number | string): Float64Array {
    let c = this.byPattern.get(key);
    if (c === undefined) {
      if (this.byPattern.size >= MAX_PATTERNS) {
        const oldest = this.byPattern.keys().next().value;
        if (oldest !== undefined) this.byPattern.delete(oldest);
      }
      c = new Float64Array(this.placement.candidates.length);
      this.byPattern.set(key, c);
    }
    return c;
  }

  /** The same credits for a new compiled placement with the same candidate list (new weights). */
  rebind(placement: CompiledPlacement): CreditBook {
    const next = new CreditBook(placement);
    for (const [k, v] of this.byPattern) next.byPattern.set(k, v);
    return next;
  }

  get patterns(): number {
    return this.byPattern.size;
  }
}

/**
 * The mutable half of selection, kept apart from the immutable plan: each placement's
 * credit book. A new plan with the same candidates (e.g. new controller weights) keeps the
 * credits; a changed candidate list starts afresh.
 */
export class SelectorState {
  private readonly books = new Map<string, CreditBook>();

  bookFor(placement: CompiledPlacement): CreditBook {
    const b = this.books.get(placement.id);
    if (b !== undefined && b.placement === placement) return b;
    const next =
      b !== undefined && b.placement.candidateKey === placement.candidateKey
        ? b.rebind(placement)
        : new CreditBook(placement);
    this.books.set(placement.id, next);
    return next;
  }

  /** Drops state of placements no longer in the plan. */
  retain(placementIds: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const id of this.books.keys()) if (!placementIds.has(id)) this.books.delete(id);
  }
}

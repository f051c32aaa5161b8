import type { CompiledPlacement } from '../plan/plan.js';

interface Entry {
  placement: CompiledPlacement;
  credit: Float64Array;
}

/**
 * The mutable half of selection: each placement's running credits. Kept apart from the
 * immutable plan; when a new plan arrives, credits carry over by ad id so a config change
 * elsewhere does not reset the interleaving.
 */
export class SelectorState {
  private readonly entries = new Map<string, Entry>();

  /** Credits for `placement`, (re)built when the compiled placement object changed. */
  creditFor(placement: CompiledPlacement): Float64Array {
    const e = this.entries.get(placement.id);
    if (e !== undefined && e.placement === placement) return e.credit;
    const credit = new Float64Array(placement.candidates.length);
    if (e !== undefined) {
      const old = new Map<string, number>();
      e.placement.candidates.forEach((ad, i) => {
        old.set(ad.id, e.credit[i]!);
      });
      placement.candidates.forEach((ad, i) => {
        credit[i] = old.get(ad.id) ?? 0;
      });
    }
    this.entries.set(placement.id, { placement, credit });
    return credit;
  }

  /** Drops state of placements no longer in the plan. */
  retain(placementIds: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const id of this.entries.keys()) if (!placementIds.has(id)) this.entries.delete(id);
  }
}

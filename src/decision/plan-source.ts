import type { ConfigSnapshot } from '../core/domain/config-snapshot.js';
import { compilePlanSteps, withWeights } from '../core/plan/compile-plan.js';
import { EMPTY_PLAN, type Plan } from '../core/plan/plan.js';
import type { ConfigStore } from '../core/ports/config-store.js';

/** Longest stretch of compiling between two turns of the event loop (latency added to requests). */
const SLICE_MS = 5;

/**
 * Holds the current compiled plan for the hot path and replaces it by reference when the
 * config store's revision moves: immediately after a write through this process
 * (`refresh()`), and within `pollMs` for writes by other processes sharing the store.
 */
export function createPlanSource(deps: {
  store: ConfigStore;
  pollMs: number;
  onSwap?: (plan: Plan, compileMs: number) => void;
  onError?: (err: unknown) => void;
}) {
  let plan: Plan = EMPTY_PLAN;
  /** The controller's latest weights, reapplied on recompiles while their targets version holds. */
  const weights = new Map<string, { targetsVersion: number; weights: ReadonlyMap<string, number> }>();

  const currentOverrides = (p: Plan) => {
    const out = new Map<string, ReadonlyMap<string, number>>();
    for (const [id, w] of weights) {
      const placement = p.placements.get(id);
      // Fitted to a placement or targets this process has not loaded yet (the controller was
      // quicker): kept for when it has (a few bytes, even for a placement since deleted).
      // Fitted to older targets: dropped.
      if (placement === undefined) continue;
      if (placement.targetsVersion === w.targetsVersion) out.set(id, w.weights);
      else if (w.targetsVersion < placement.targetsVersion) weights.delete(id);
    }
    return out;
  };
  /**
   * Compiles in steps, giving the event loop a turn after each SLICE_MS of work: a large plan
   * (seconds at 500,000 ads) no longer stalls the decisions served meanwhile, which keep
   * reading the previous plan until the swap.
   */
  const compileYielding = async (snapshot: ConfigSnapshot): Promise<Plan> => {
    const steps = compilePlanSteps(snapshot);
    let sliceStart = performance.now();
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
      if (performance.now() - sliceStart >= SLICE_MS) {
        await new Promise((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    }
  };
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;

  const load = async (): Promise<void> => {
    const revision = await deps.store.revision();
    if (revision === plan.revision) return;
    const snapshot = await deps.store.snapshot();
    const t0 = performance.now();
    const compiled = await compileYielding(snapshot);
    const next = withWeights(compiled, currentOverrides(compiled));
    if (next.revision > plan.revision || plan === EMPTY_PLAN) {
      plan = next;
      deps.onSwap?.(plan, performance.now() - t0);
    }
  };

  /**
   * Resolves after a load that started after the call: a write is visible once its refresh
   * resolves. Calls made while a load runs share the one load queued behind it, so a burst of
   * N concurrent writes costs two loads, not N.
   */
  const refresh = (): Promise<void> => {
    if (running === null) {
      running = load().finally(() => {
        running = null;
      });
      return running;
    }
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return refresh();
      });
    return queued;
  };

  return {
    current: (): Plan => plan,
    refresh,
    /** Swaps in controller weights (only for placements whose targets are still the fitted ones). */
    applyWeights(
      update: ReadonlyMap<string, { targetsVersion: number; weights: ReadonlyMap<string, number> }>,
    ): void {
      for (const [id, w] of update) weights.set(id, w);
      plan = withWeights(plan, currentOverrides(plan));
    },
    start(): void {
      if (timer !== null) return;
      timer = setInterval(() => {
        refresh().catch((err) => deps.onError?.(err));
      }, deps.pollMs);
      timer.unref();
    },
    stop(): void {
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}

export type PlanSource = ReturnType<typeof createPlanSource>;

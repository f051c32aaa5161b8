import { compilePlan } from '../core/plan/compile-plan.js';
import { EMPTY_PLAN, type Plan } from '../core/plan/plan.js';
import type { ConfigStore } from '../core/ports/config-store.js';

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
  let timer: NodeJS.Timeout | null = null;
  let refreshing: Promise<void> | null = null;

  const load = async (): Promise<void> => {
    const revision = await deps.store.revision();
    if (revision === plan.revision) return;
    const snapshot = await deps.store.snapshot();
    const t0 = performance.now();
    const next = compilePlan(snapshot);
    if (next.revision > plan.revision || plan === EMPTY_PLAN) {
      plan = next;
      deps.onSwap?.(plan, performance.now() - t0);
    }
  };

  /** Runs one load; a refresh requested during a load runs once more after it. */
  const refresh = async (): Promise<void> => {
    while (refreshing !== null) await refreshing;
    refreshing = load().finally(() => {
      refreshing = null;
    });
    await refreshing;
  };

  return {
    current: (): Plan => plan,
    refresh,
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

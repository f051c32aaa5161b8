import type { Logger } from 'pino';
import type { AllocationStateStore } from '../core/ports/allocation-state-store.js';
import type { PlanSource } from '../decision/plan-source.js';

/** How often a process without a controller polls for new weights: well inside the 1 s goal. */
const POLL_MS = 250;

/**
 * Keeps a decision or manager process on the controller's latest weights: polls the shared
 * allocation state (one cheap version read per poll) and swaps new weights into the plan.
 * Returns a stop function.
 */
export function startWeightsFollower(state: AllocationStateStore, planSource: PlanSource, logger: Logger) {
  let version = -1;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    state
      .readWeights(version)
      .then((next) => {
        if (next === null) return;
        version = next.version;
        planSource.applyWeights(next.weights);
      })
      .catch((err: unknown) => logger.warn({ err }, 'reading weights failed; serving the previous ones'))
      .finally(() => {
        busy = false;
      });
  }, POLL_MS);
  timer.unref();
  return async (): Promise<void> => {
    clearInterval(timer);
  };
}

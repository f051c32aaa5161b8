import type { Logger } from 'pino';
import type { AllocationStateStore } from '../core/ports/allocation-state-store.js';
import type { PlanSource } from '../decision/plan-source.js';

/** Safety net under the push: a missed message is caught up within this (a full read). */
const POLL_MS = 5000;

/**
 * Keeps a decision or manager process on the controller's latest weights. Each controller
 * publish is pushed to it (`AllocationStateStore.watch`, Redis pub/sub: no command per decision
 * server) and swapped into the plan at once; a version gap (a message missed while
 * reconnecting, a `forget`) and a slow poll fall back to reading every placement's weights.
 * Returns a stop function.
 */
export async function startWeightsFollower(
  state: AllocationStateStore,
  planSource: PlanSource,
  logger: Logger,
): Promise<() => Promise<void>> {
  let version = -1;
  let busy = false;
  const catchUp = (): void => {
    if (busy) return;
    busy = true;
    state
      .readWeights(version)
      .then((next) => {
        if (next === null || next.version <= version) return;
        version = next.version;
        planSource.applyWeights(next.weights);
      })
      .catch((err: unknown) => logger.warn({ err }, 'reading weights failed; serving the previous ones'))
      .finally(() => {
        busy = false;
      });
  };
  const stopWatch = await state.watch((v, weights) => {
    if (v <= version) return;
    if (v === version + 1) {
      version = v;
      planSource.applyWeights(weights);
    } else catchUp();
  });
  catchUp();
  const timer = setInterval(catchUp, POLL_MS);
  timer.unref();
  return async (): Promise<void> => {
    clearInterval(timer);
    await stopWatch();
  };
}

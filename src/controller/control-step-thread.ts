import { startWorkerRpc, workerEntry } from '../adapters/shared/worker-rpc.js';
import type { ControlInput, ControlOutput, ControlState } from '../core/allocation/controller.js';
import type { ControlSolver } from './allocation-controller.js';

/**
 * The allocation controller's solver on a worker thread of its own (`control-step-worker.ts`):
 * `controlStep` — feasibility by max-flow, Luce weights — is pure, so a batch of placements'
 * inputs is copied over and their outputs come back, and the fitting leaves the event loop
 * that serves decisions. A thread that dies fails its batch (the controller then steps it on
 * its own thread) and the next batch starts a new one.
 */
export async function startControlStepThread(): Promise<{ solve: ControlSolver; close(): Promise<void> }> {
  const rpc = await startWorkerRpc<
    ReadonlyArray<{ prev: ControlState | null; input: ControlInput }>,
    ControlOutput[]
  >({
    entry: workerEntry(import.meta.url, 'control-step-worker'),
    name: "the controller's solver thread",
  });
  return { solve: (jobs) => rpc.call(jobs), close: () => rpc.close() };
}

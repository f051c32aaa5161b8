import { serveWorkerRpc } from '../adapters/shared/worker-rpc.js';
import {
  type ControlInput,
  type ControlOutput,
  type ControlState,
  controlStep,
} from '../core/allocation/controller.js';

/** Worker-thread entry of `control-step-thread.ts`: `controlStep` on each job, in order. */
serveWorkerRpc<Array<{ prev: ControlState | null; input: ControlInput }>, ControlOutput[]>((jobs) =>
  jobs.map(({ prev, input }) => controlStep(prev, input)),
);

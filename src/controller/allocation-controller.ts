import type { AllocationReport } from '../core/allocation/allocation-report.js';
import {
  type ControlInput,
  type ControlOutput,
  type ControlState,
  controlStep,
} from '../core/allocation/controller.js';
import { mixFromSnapshot } from '../core/allocation/mix-from-snapshot.js';
import type { Plan } from '../core/plan/plan.js';
import type { CounterStore } from '../core/ports/counter-store.js';
import type { MixStore } from '../core/ports/mix-store.js';
import { windowAt } from '../core/window/allocation-window.js';

export type { AllocationReport } from '../core/allocation/allocation-report.js';

interface Tracked {
  targetsVersion: number;
  windowStartMs: number;
  state: ControlState | null;
  lastDecisions: number[];
  /** Ramp: a new placement or target set is stepped after 100 ms, then at doubling intervals
   *  up to `intervalMs`, so the first decisions are not served on unfitted weights for long. */
  everyMs: number;
  nextAtMs: number;
}

const FIRST_STEP_MS = 100;
/**
 * A step gives the event loop a turn after this much work, so decisions keep being served: a
 * request arriving during a slice waits for its end, so the slice bounds the latency the
 * controller adds to a request (up to 10 ms with the earlier 10 ms slices).
 */
const SLICE_MS = 2;
/**
 * At most this share of wall time goes to stepping: after a step that took d, the next one
 * waits d × (1 / share − 1). A plan too large to step every interval (10,000 placements ≈ 3 s
 * of work) is then stepped less often instead of starving the decision path.
 */
const MAX_DUTY = 0.25;

/** Placements handed to `solve` at a time (each answer is applied before the next batch). */
const SOLVE_BATCH = 100;

/** One placement's step: its inputs, and where its result goes. */
interface Job {
  placementId: string;
  tracked: Tracked;
  targetsVersion: number;
  decisions: number[];
  samples: number;
  prev: ControlState | null;
  input: ControlInput;
}

/** Runs `controlStep` on each job elsewhere (a worker thread: `control-step-thread.ts`). */
export type ControlSolver = (
  jobs: ReadonlyArray<{ prev: ControlState | null; input: ControlInput }>,
) => Promise<ControlOutput[]>;

/** Serving weights per placement: ad id → weight, with the targets version they were fitted to. */
export type WeightUpdate = Map<string, { targetsVersion: number; weights: Map<string, number> }>;

/**
 * Runs `controlStep` for every placement each interval: reads the window's counters and the
 * sampled request mix, and publishes new serving weights (the plan source swaps them in).
 * State is per placement and restarts when its targets change or a new window begins.
 * A step yields to the event loop every `SLICE_MS` and takes at most `MAX_DUTY` of the time.
 */
export function createAllocationController(deps: {
  plan: () => Plan;
  counters: CounterStore;
  mix: MixStore;
  now: () => number;
  intervalMs: number;
  /** New weights (and the reports behind them) of the placements stepped. */
  publish: (update: WeightUpdate, reports: ReadonlyMap<string, AllocationReport>) => void;
  onError?: (err: unknown) => void;
  /** Called after each step with the placements stepped and the time it took. */
  onStep?: (placements: number, seconds: number) => void;
  /**
   * Where `controlStep` runs: by default on this thread, yielding every `SLICE_MS`; a solver
   * takes batches of placements elsewhere (if it fails, the batch is stepped here, and the
   * failure reported to `onSolveError`).
   */
  solve?: ControlSolver;
  onSolveError?: (err: unknown) => void;
}) {
  const tracked = new Map<string, Tracked>();
  const reports = new Map<string, AllocationReport>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  /** Reads what a due placement's step needs; null when it is not due (or gone). */
  async function prepare(placementId: string, nowMs: number, force: boolean): Promise<Job | null> {
    // The plan may have changed while the step yielded: a placement since deleted is skipped.
    const p = deps.plan().placements.get(placementId);
    if (p === undefined || p.candidates.length === 0) return null;
    const win = windowAt(p.window, nowMs);
    let t = tracked.get(placementId);
    if (t === undefined || t.targetsVersion !== p.targetsVersion || t.windowStartMs !== win.startMs) {
      const everyMs = Math.min(FIRST_STEP_MS, deps.intervalMs);
      t = {
        targetsVersion: p.targetsVersion,
        windowStartMs: win.startMs,
        state: null,
        lastDecisions: [],
        everyMs,
        nextAtMs: nowMs + everyMs,
      };
      tracked.set(placementId, t);
      if (!force) return null;
    }
    if (!force && nowMs < t.nextAtMs) return null;
    t.everyMs = Math.min(deps.intervalMs, t.everyMs * 2);
    // Once ramped up, steps fall on multiples of the interval, so every placement is stepped
    // in the same tick and published together (one write for all, not one per placement).
    t.nextAtMs =
      t.everyMs === deps.intervalMs
        ? Math.ceil((nowMs + t.everyMs / 2) / deps.intervalMs) * deps.intervalMs
        : nowMs + t.everyMs;
    const counts = await deps.counters.read(placementId, win.startMs, win.endMs);
    const ids = p.candidateIds;
    const impressions = ids.map((id) => counts.get(id)?.impressions ?? 0);
    const decisions = ids.map((id) => counts.get(id)?.decisions ?? 0);
    let total = 0;
    for (const c of counts.values()) total += c.impressions;
    const recent = decisions.map((d, i) => Math.max(0, d - (t.lastDecisions[i] ?? 0)));
    const snapshot = await deps.mix.read(placementId, nowMs);
    return {
      placementId,
      tracked: t,
      targetsVersion: p.targetsVersion,
      decisions,
      samples: snapshot?.adIds.join(',') === p.candidateKey ? snapshot.samples : 0,
      prev: t.state,
      input: {
        adIds: ids,
        targets: Array.from(p.targetShares),
        fallbackIndex: p.fallbackIndex,
        mix: mixFromSnapshot(snapshot, ids),
        windowImpressions: impressions,
        windowDecisions: decisions,
        windowImpressionsTotal: total,
        recentDecisions: t.state === null ? decisions.map(() => 0) : recent,
      },
    };
  }

  /** Keeps a step's result, unless its placement was reset meanwhile (new targets or window). */
  function apply(job: Job, out: ControlOutput, update: WeightUpdate, nowMs: number): void {
    const t = job.tracked;
    if (tracked.get(job.placementId) !== t) return;
    t.state = out.state;
    t.lastDecisions = job.decisions;
    const ids = job.input.adIds;
    reports.set(job.placementId, {
      ...out,
      adIds: ids,
      targetsVersion: job.targetsVersion,
      atMs: nowMs,
      samples: job.samples,
    });
    update.set(job.placementId, {
      targetsVersion: job.targetsVersion,
      weights: new Map(ids.map((id, i) => [id, out.weights[i]!])),
    });
  }

  async function step(force: boolean): Promise<void> {
    const t0 = performance.now();
    const nowMs = deps.now();
    const plan = deps.plan();
    const update: WeightUpdate = new Map();
    let sliceAt = t0;
    const yieldNowAndThen = async () => {
      if (performance.now() - sliceAt > SLICE_MS) {
        await new Promise((r) => setImmediate(r));
        sliceAt = performance.now();
      }
    };
    const jobs: Job[] = [];
    for (const placementId of plan.placements.keys()) {
      const job = await prepare(placementId, nowMs, force);
      if (job !== null) jobs.push(job);
      await yieldNowAndThen();
    }
    for (let i = 0; i < jobs.length; i += SOLVE_BATCH) {
      const batch = jobs.slice(i, i + SOLVE_BATCH);
      let outs: ControlOutput[] | null = null;
      if (deps.solve !== undefined) {
        outs = await deps.solve(batch.map(({ prev, input }) => ({ prev, input }))).catch((err: unknown) => {
          deps.onSolveError?.(err);
          return null; // stepped here instead
        });
      }
      for (let k = 0; k < batch.length; k++) {
        const job = batch[k]!;
        apply(job, outs?.[k] ?? controlStep(job.prev, job.input), update, nowMs);
        if (outs === null) await yieldNowAndThen();
      }
    }
    const current = deps.plan();
    for (const id of tracked.keys()) {
      if (!current.placements.has(id)) {
        tracked.delete(id);
        reports.delete(id);
      }
    }
    if (update.size > 0) {
      const stepped = new Map<string, AllocationReport>();
      for (const id of update.keys()) {
        const r = reports.get(id);
        if (r !== undefined) stepped.set(id, r);
      }
      deps.publish(update, stepped);
    }
    if (update.size > 0) deps.onStep?.(update.size, (performance.now() - t0) / 1000);
  }

  /** Ticks before this time are skipped (the duty-cycle bound, `MAX_DUTY`). */
  let restUntil = 0;
  /** One step at a time: a slow step delays the next rather than overlapping it. */
  const runOnce = async (force: boolean): Promise<void> => {
    if (running !== null) return running;
    const t0 = performance.now();
    if (!force && t0 < restUntil) return;
    running = step(force).finally(() => {
      const took = performance.now() - t0;
      restUntil = performance.now() + took * (1 / MAX_DUTY - 1);
      running = null;
    });
    return running;
  };

  return {
    /** Steps every placement now (the simulator and tests drive time themselves). */
    step: () => runOnce(true),
    report: (placementId: string): AllocationReport | undefined => reports.get(placementId),
    start(): void {
      if (timer !== null) return;
      // Ticks at the ramp's first interval; each placement is stepped when it is due.
      timer = setInterval(
        () => {
          runOnce(false).catch((err) => deps.onError?.(err));
        },
        Math.min(FIRST_STEP_MS, deps.intervalMs),
      );
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}

export type AllocationController = ReturnType<typeof createAllocationController>;

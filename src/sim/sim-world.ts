import { createMemoryCounterStore } from '../adapters/memory/memory-counter-store.js';
import { createMemoryMixStore } from '../adapters/memory/memory-mix-store.js';
import { createAllocationController, type WeightUpdate } from '../controller/allocation-controller.js';
import type { LimitReason } from '../core/allocation/feasibility.js';
import type { Ad } from '../core/domain/ad.js';
import type { ConfigSnapshot } from '../core/domain/config-snapshot.js';
import { DEFAULT_ALLOCATION_WINDOW } from '../core/domain/placement.js';
import { withWeights } from '../core/plan/compile-plan.js';
import type { CompiledPlacement, Plan } from '../core/plan/plan.js';
import { mulberry32 } from '../core/random/mulberry32.js';
import { type CreditBook, SelectorState } from '../core/selection/selector-state.js';
import { createDelayedCounterFeed } from './delayed-counter-feed.js';
import type { Scenario } from './scenario-schema.js';

/** Simulated time starts at a UTC midnight, so the span is one allocation window (the UTC day). */
export const SIM_START_MS = Date.UTC(2026, 0, 1);
export const SIM_PLACEMENT_ID = 'sim';
/** The deployment default (ALLOT_MIX_HALF_LIFE_SECONDS, src/config/config.ts). */
const MIX_HALF_LIFE_MS = 600_000;

/** The scenario as the config store would hold it: its ads and one placement with its targets. */
export function toSnapshot(s: Scenario): ConfigSnapshot {
  const at = new Date(SIM_START_MS).toISOString();
  const ads: Ad[] = s.ads.map((a) => ({
    id: a.id,
    name: a.id,
    creative: { type: 'image', url: `https://sim.invalid/${a.id}.png`, width: 300, height: 250 },
    clickUrl: 'https://sim.invalid/',
    targeting: a.targeting,
    frequencyCap: a.frequencyCap,
    startAt: null,
    endAt: null,
    status: 'active',
    createdAt: at,
    updatedAt: at,
  }));
  const placement = {
    id: SIM_PLACEMENT_ID,
    name: s.name,
    fallbackAdId: s.placement.fallbackAdId,
    // The UTC day: the simulated span starts at a UTC midnight and is one window.
    window: DEFAULT_ALLOCATION_WINDOW,
    createdAt: at,
    updatedAt: at,
  };
  return {
    revision: 1,
    ads,
    placements: [placement],
    targets: [{ placementId: SIM_PLACEMENT_ID, version: 1, targets: s.placement.targets, updatedAt: at }],
  };
}

/**
 * Independent random streams from one seed. mulberry32's state is a counter stepped by an odd
 * constant, so streams seeded 2^30 apart cannot overlap within 2^30 draws each: the traffic is
 * the same for every strategy, whatever the strategy draws.
 */
export function streams(seed: number) {
  const at = (j: number) => mulberry32((seed + j * 2 ** 30) >>> 0);
  return { traffic: at(0), strategy: at(1), render: at(2), sampling: at(3) };
}

/**
 * The decision servers: each has its own plan copy and selector state. Plans are immutable, so
 * they may start as one object; `apply` swaps new weights into every copy, as the plan source
 * of each server would, and the credit books carry over (same candidates).
 */
export function createFleet(plan: Plan, servers: number) {
  let master = plan;
  const plans: Plan[] = new Array(servers).fill(plan);
  const selectors = plans.map(() => new SelectorState());
  const placements: CompiledPlacement[] = plans.map((p) => p.placements.get(SIM_PLACEMENT_ID)!);
  const books: CreditBook[] = placements.map((p, s) => selectors[s]!.bookFor(p));
  return {
    /** Indexed by server; replaced in place by `apply`, so hold the arrays, not their entries. */
    placements,
    books,
    master: (): Plan => master,
    apply(weights: ReadonlyMap<string, ReadonlyMap<string, number>>): void {
      master = withWeights(master, weights);
      for (let s = 0; s < servers; s++) {
        plans[s] = withWeights(plans[s]!, weights);
        placements[s] = plans[s]!.placements.get(SIM_PLACEMENT_ID)!;
        books[s] = selectors[s]!.bookFor(placements[s]!);
      }
    },
  };
}

export type Fleet = ReturnType<typeof createFleet>;

export interface ControlTracePoint {
  atMs: number;
  achievable: number[];
  limits: Array<LimitReason | null>;
}

/**
 * What the controller sees and does: the sampled request mix, the sampled and delayed counters,
 * and the controller itself on simulated time. Its weights reach the fleet only while
 * `applying()` (Allot); the other strategies are observed alike, for the report.
 */
export function createObserver(opts: { scenario: Scenario; fleet: Fleet; applying: () => boolean }) {
  const { scenario, fleet } = opts;
  const mix = createMemoryMixStore({ halfLifeMs: MIX_HALF_LIFE_MS });
  const counters = createMemoryCounterStore();
  const feed = createDelayedCounterFeed({
    counters,
    placementId: SIM_PLACEMENT_ID,
    adIds: fleet.placements[0]!.candidateIds,
    delayMs: scenario.statusDelaySeconds * 1000,
    weight: 1 / scenario.samplingRate,
  });
  let nowMs = SIM_START_MS;
  const publish = (update: WeightUpdate): void => {
    if (opts.applying()) fleet.apply(new Map([...update].map(([id, u]) => [id, u.weights] as const)));
  };
  const controller = createAllocationController({
    plan: fleet.master,
    counters,
    mix,
    now: () => nowMs,
    intervalMs: scenario.controlIntervalSeconds * 1000,
    publish,
  });
  const trace: ControlTracePoint[] = [];
  return {
    mix,
    feed,
    trace,
    /** One control step at `atMs`: counts visible by then are flushed, then the controller runs. */
    async step(atMs: number): Promise<void> {
      nowMs = atMs;
      await feed.flush(atMs);
      await controller.step();
      const r = controller.report(SIM_PLACEMENT_ID);
      if (r !== undefined) trace.push({ atMs, achievable: r.achievable, limits: r.limits });
    },
    report: () => controller.report(SIM_PLACEMENT_ID) ?? null,
  };
}

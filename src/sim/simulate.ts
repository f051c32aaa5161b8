import { createMemoryFrequencyStore } from '../adapters/memory/memory-frequency-store.js';
import type { AllocationReport } from '../controller/allocation-controller.js';
import { compilePlan } from '../core/plan/compile-plan.js';
import type { CompiledAd } from '../core/plan/plan.js';
import { describeEligibility } from '../core/selection/describe-eligibility.js';
import { type DecisionRequest, type FrequencyView, selectAd } from '../core/selection/select-ad.js';
import { HOUR_MS } from '../core/window/allocation-window.js';
import { lotterySelect } from './lottery-select.js';
import type { Scenario } from './scenario-schema.js';
import {
  type ControlTracePoint,
  createFleet,
  createObserver,
  SIM_PLACEMENT_ID,
  SIM_START_MS,
  streams,
  toSnapshot,
} from './sim-world.js';
import type { Strategy } from './strategies.js';
import { createTraffic } from './traffic.js';

export { type ControlTracePoint, SIM_PLACEMENT_ID, SIM_START_MS } from './sim-world.js';

/** Reservations outlive the impression token (ALLOT_IMPRESSION_TTL_SECONDS, 900) by the 60 s skew. */
const RESERVATION_PENDING_MS = (900 + 60) * 1000;
const PROGRESS_EVERY = 1 << 14;
const MINUTE_MS = 60_000;

export interface SimResult {
  scenario: string;
  strategy: Strategy;
  /** The placement's candidates in plan order (targeted ads, then the fallback). */
  adIds: string[];
  fallbackIndex: number;
  /** Target impression shares per candidate, normalised to sum 1 (the fallback: the remainder). */
  targets: number[];
  startMs: number;
  durationHours: number;
  requests: number;
  /** Requests that got an ad. */
  filled: number;
  decisionsByAd: number[];
  impressionsByAd: number[];
  /** Impressions per simulated hour and candidate: `hourly[h][i]`. */
  hourly: number[][];
  /** Cumulative impressions per candidate at the end of each simulated minute. */
  cumulative: number[][];
  /** The controller's final view (every strategy is observed; only Allot applies its weights). */
  report: AllocationReport | null;
  /** Achievable impression shares and limits at every control step (Allot; others: the final one). */
  controlTrace: ControlTracePoint[];
  elapsedMs: number;
}

/** Called for every filled decision before its frequency reservation (tests audit eligibility here). */
export type ServeHook = (ad: CompiledAd, req: DecisionRequest, freq: FrequencyView) => void;

/**
 * Runs one scenario with one selection strategy, in process and in simulated time, through the
 * real plan compiler, selection, frequency store, mix store, counter store and controller.
 *
 * Per request: context and user from the traffic stream; server round-robin; a Bernoulli
 * sample decides whether the request is observed (mix store, and its decision and impression
 * in the controller's counters, `statusDelaySeconds` late), as a sampler hashing the decision
 * id would; selection; cap reservation; the impression fires with the ad's render rate.
 * Every control interval, Allot's controller steps and its weights go to every server's plan.
 */
export async function simulate(
  scenario: Scenario,
  strategy: Strategy,
  onProgress?: (done: number, total: number) => void,
  onServe?: ServeHook,
): Promise<SimResult> {
  const t0 = performance.now();
  const rnd = streams(scenario.seed);
  const startMs = SIM_START_MS;
  const endMs = startMs + scenario.durationHours * HOUR_MS;
  const intervalMs = scenario.controlIntervalSeconds * 1000;

  const fleet = createFleet(compilePlan(toSnapshot(scenario)), scenario.servers);
  const { placements, books } = fleet;
  const first = placements[0]!;
  const n = first.candidates.length;
  const renderRate = Float64Array.from(
    first.candidateIds,
    (id) => scenario.ads.find((a) => a.id === id)!.renderRate,
  );
  const frequency = createMemoryFrequencyStore({
    pendingMs: RESERVATION_PENDING_MS,
    maxUsers: scenario.users,
  });
  let applying = strategy === 'allot';
  const observer = createObserver({ scenario, fleet, applying: () => applying });
  const { mix, feed } = observer;

  const N = scenario.decisions;
  const stepMs = (endMs - startMs) / N;
  const hours = Math.ceil(scenario.durationHours);
  const minutes = Math.ceil(scenario.durationHours * 60);
  const decisionsByAd = new Float64Array(n);
  const impressionsByAd = new Float64Array(n);
  const hourly = new Float64Array(hours * n);
  const cumulative: number[][] = [];
  const userIds: string[] = new Array(scenario.users);
  const traffic = createTraffic(scenario, startMs);
  const scratch = new Uint8Array(n);
  const req: DecisionRequest = { userId: null, context: {}, nowMs: startMs };
  const q = scenario.samplingRate;
  const lottery = strategy === 'lottery';
  let filled = 0;
  let nextControlMs = startMs + intervalMs;
  let nextMinuteMs = startMs + MINUTE_MS;
  const servers = scenario.servers;
  let server = 0;

  for (let i = 0; i < N; i++) {
    const t = startMs + (i + 0.5) * stepMs;
    while (t >= nextMinuteMs) {
      cumulative.push(Array.from(impressionsByAd));
      nextMinuteMs += MINUTE_MS;
    }
    // Only Allot steps during the run; the others are observed once at the end (for the report).
    while (applying && t >= nextControlMs) {
      await observer.step(nextControlMs);
      nextControlMs += intervalMs;
    }
    if ((i & (PROGRESS_EVERY - 1)) === 0) onProgress?.(i, N);

    // Fixed number of draws per request from each stream, whatever happens below.
    const context = traffic.draw(rnd.traffic, t);
    const u = Math.floor(rnd.traffic() * scenario.users);
    let userId = userIds[u];
    if (userId === undefined) {
      userId = `u${u}`;
      userIds[u] = userId;
    }
    const renderDraw = rnd.render();
    const sampled = rnd.sampling() < q;
    const strategyDraw = lottery ? rnd.strategy() : 0;

    const s = server;
    server = server + 1 === servers ? 0 : server + 1;
    const placement = placements[s]!;
    req.userId = userId;
    req.context = context;
    req.nowMs = t;
    if (sampled) {
      const key = describeEligibility(placement, req, frequency);
      mix.record(SIM_PLACEMENT_ID, placement.candidateKey, placement.candidateIds, key, context, t);
    }
    const idx = lottery
      ? lotterySelect(placement, req, frequency, strategyDraw, scratch)
      : selectAd(placement, books[s]!, req, frequency);
    if (idx < 0) continue;
    filled++;
    const ad = placement.candidates[idx]!;
    onServe?.(ad, req, frequency);
    decisionsByAd[idx]!++;
    const decisionId = ad.cap === null ? '' : `d${i}`;
    if (ad.cap !== null) frequency.reserve(userId, ad.id, decisionId, ad.cap, t);
    const fired = renderDraw < renderRate[idx]!;
    if (fired) {
      impressionsByAd[idx]!++;
      hourly[Math.floor((t - startMs) / HOUR_MS) * n + idx]!++;
      if (ad.cap !== null) frequency.recordImpression(userId, ad.id, decisionId, t);
    }
    if (sampled) feed.push(t, idx, fired);
  }
  while (cumulative.length < minutes) cumulative.push(Array.from(impressionsByAd));
  onProgress?.(N, N);

  // One last look just inside the window (its end belongs to the next one), for every strategy.
  applying = false;
  await observer.step(endMs - 1);

  const targetSum = first.targetShares.reduce((a, b) => a + b, 0);
  return {
    scenario: scenario.name,
    strategy,
    adIds: [...first.candidateIds],
    fallbackIndex: first.fallbackIndex,
    targets: Array.from(first.targetShares, (x) => (targetSum > 0 ? x / targetSum : 0)),
    startMs,
    durationHours: scenario.durationHours,
    requests: N,
    filled,
    decisionsByAd: Array.from(decisionsByAd),
    impressionsByAd: Array.from(impressionsByAd),
    hourly: Array.from({ length: hours }, (_, h) => Array.from(hourly.subarray(h * n, h * n + n))),
    cumulative,
    report: observer.report(),
    controlTrace: observer.trace,
    elapsedMs: performance.now() - t0,
  };
}

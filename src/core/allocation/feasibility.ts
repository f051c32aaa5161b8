import { type FlowEdge, type MaxFlowResult, maxFlow } from './max-flow.js';
import { type CompiledPatterns, compilePatterns, type RequestMix } from './request-mix.js';

/**
 * Can the observed request mix supply every candidate's demand, and if not, what is the fair
 * reduction?
 *
 * Model: a bipartite transport network, source → candidate a (capacity demand[a]), a → pattern k
 * when a is eligible in k (uncapacitated), pattern k → sink (capacity mass_k / totalMass). The
 * demands are jointly servable iff the maximum flow equals Σ demand (Gale 1957; Hall's marriage
 * theorem in its capacitated form: iff demand(T) ≤ capacity(N(T)) for every set T of candidates,
 * N(T) the patterns where some member of T is eligible). The fallback is left out: it takes
 * whatever the others leave.
 *
 * When infeasible, demands are cut by bottleneck decomposition, which generalises Google Ad
 * Manager's proportional scale-down of overbooked sponsorships (goals 70 % / 50 % / 40 % on the
 * same traffic serve 43.75 / 31.25 / 25, each × 1/1.6; Ad Manager Help, "Sponsorship line items
 * that are overbooked"). Only the ads that actually compete for the short traffic give way:
 *
 * 1. λ* = min over T of capacity(N(T)) / demand(T), the largest common scale of the unresolved
 *    demands that is servable. The most overbooked set S (the largest T attaining λ*) saturates
 *    N(S), so it is fixed at λ*·demand and N(S) is removed.
 * 2. Repeat on the rest until it is servable at scale 1. The ratios found never decrease: a later
 *    set with a smaller ratio joined to S would have beaten S (a mediant argument), so groups come
 *    out most overbooked first. The same decomposition appears as the "bottleneck decomposition"
 *    of resource-sharing markets (Wu & Zhang, "Proportional response dynamics leads to market
 *    equilibrium", STOC 2007) and as max-min fair allocation on bipartite graphs.
 *
 * λ* is found exactly by Dinkelbach's parametric method (Dinkelbach, "On nonlinear fractional
 * programming", Management Science 1967) rather than bisection: at a λ the min cut's candidate
 * side T is violated (capacity(N(T)) < λ·demand(T)), so λ' = capacity(N(T)) / demand(T) < λ;
 * a few max-flows reach the λ where no set is violated. S is then the candidates that cannot
 * reach the sink in the residual graph (the maximal min cut, which at λ* is the largest tight
 * set). S is split into groups by shared patterns: disjoint bottlenecks with equal ratios are
 * independent and get their own reasons.
 */

export type LimitReason = 'targeting' | 'frequencyCap' | 'overbooked';

export interface FeasibilityResult {
  feasible: boolean;
  /** Achievable request share per candidate (= demand when feasible; fallback: its demand entry unchanged). */
  achievable: number[];
  /** Per candidate: null when its demand is met, else why not. */
  limit: Array<LimitReason | null>;
  /** Bottleneck groups scaled together, most overbooked first. */
  groups: Array<{ members: number[]; scale: number }>;
}

export interface FeasibilityInput {
  mix: RequestMix;
  /** Share of all requests (fraction of mix.totalMass) each candidate needs; the fallback's entry is ignored. */
  demand: readonly number[];
  /** -1 (or any index out of range) when the placement has no fallback. */
  fallbackIndex: number;
}

/** "Max flow = Σ demand" up to this relative error: rounding, not real shortfalls. */
const FEASIBLE_REL_TOL = 1e-9;
/** Dinkelbach has converged once a step improves λ by less than rounding. */
const DINKELBACH_REL_TOL = 1e-12;
const DINKELBACH_MAX_STEPS = 64;

/** The flow network over the unresolved candidates and live patterns; source edges come first. */
interface Network {
  edges: Array<{ from: number; to: number; capacity: number }>;
  nodeCount: number;
  /** Residual at or below this is none (fixed across λ so cuts compare). */
  epsilon: number;
  /**
   * How much flow rounding may hide: an epsilon per arc of a cut (source and sink arcs; the middle
   * ones are uncapacitated). Without it a demand of 1e-300 would count as unservable.
   */
  slack: number;
}

const SOURCE = 0;
const SINK = 1;

function buildNetwork(
  p: CompiledPatterns,
  alive: Uint8Array,
  active: readonly number[],
  pos: Int32Array,
  epsilon: number,
): Network {
  const edges: Network['edges'] = [];
  const patternBase = 2 + active.length;
  for (let i = 0; i < active.length; i++) edges.push({ from: SOURCE, to: 2 + i, capacity: 0 });
  for (let k = 0; k < p.count; k++) {
    if (alive[k] === 0) continue;
    for (let j = p.offsets[k]!; j < p.offsets[k + 1]!; j++) {
      const i = pos[p.members[j]!]!;
      if (i >= 0) edges.push({ from: 2 + i, to: patternBase + k, capacity: Infinity });
    }
    edges.push({ from: patternBase + k, to: SINK, capacity: p.share[k]! });
  }
  return { edges, nodeCount: patternBase + p.count, epsilon, slack: (active.length + p.count) * epsilon };
}

function flowAt(net: Network, active: readonly number[], demand: readonly number[], lambda: number) {
  for (let i = 0; i < active.length; i++) net.edges[i]!.capacity = lambda * demand[active[i]!]!;
  const edges: readonly FlowEdge[] = net.edges;
  return maxFlow({ nodeCount: net.nodeCount, edges, source: SOURCE, sink: SINK, epsilon: net.epsilon });
}

/** Live patterns where some candidate with `inSet[i]` (i = position in active) is eligible. */
function forEachNeighbour(
  p: CompiledPatterns,
  alive: Uint8Array,
  pos: Int32Array,
  inSet: (i: number) => boolean,
  f: (k: number) => void,
) {
  for (let k = 0; k < p.count; k++) {
    if (alive[k] === 0) continue;
    for (let j = p.offsets[k]!; j < p.offsets[k + 1]!; j++) {
      const i = pos[p.members[j]!]!;
      if (i >= 0 && inSet(i)) {
        f(k);
        break;
      }
    }
  }
}

/** λ* and the largest tight set (positions in `active`) of an infeasible round. */
function findBottleneck(
  p: CompiledPatterns,
  alive: Uint8Array,
  active: readonly number[],
  pos: Int32Array,
  demand: readonly number[],
  first: MaxFlowResult,
  net: Network,
) {
  let total = 0;
  for (const a of active) total += demand[a]!;
  let lambda = 1;
  let flow = first;
  let cut: number[] = [];
  for (let step = 0; step < DINKELBACH_MAX_STEPS; step++) {
    const side = flow.reachableFromSource;
    const inCut = (i: number) => side[2 + i] === 1;
    let cap = 0;
    let dem = 0;
    forEachNeighbour(p, alive, pos, inCut, (k) => {
      cap += p.share[k]!;
    });
    const nextCut: number[] = [];
    for (let i = 0; i < active.length; i++) {
      if (inCut(i)) {
        dem += demand[active[i]!]!;
        nextCut.push(i);
      }
    }
    if (nextCut.length === 0) break;
    cut = nextCut;
    const next = cap / dem;
    if (next >= lambda * (1 - DINKELBACH_REL_TOL)) break;
    lambda = next;
    flow = flowAt(net, active, demand, lambda);
    if (flow.value >= lambda * total * (1 - DINKELBACH_REL_TOL) - net.slack) break;
  }
  const tight: number[] = [];
  for (let i = 0; i < active.length; i++) if (flow.reachesSink[2 + i] === 0) tight.push(i);
  // Rounding could in principle leave the maximal cut empty; fall back so every round makes progress.
  const set = tight.length > 0 ? tight : cut.length > 0 ? cut : active.map((_, i) => i);
  return { lambda: Math.min(1, Math.max(0, lambda)), set };
}

/** Splits positions `set` into groups of candidates linked through shared live patterns. */
function components(
  p: CompiledPatterns,
  alive: Uint8Array,
  pos: Int32Array,
  set: readonly number[],
): number[][] {
  const parent = new Map<number, number>(set.map((i) => [i, i]));
  const find = (i: number): number => {
    let r = i;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(i, r);
    return r;
  };
  for (let k = 0; k < p.count; k++) {
    if (alive[k] === 0) continue;
    let root = -1;
    for (let j = p.offsets[k]!; j < p.offsets[k + 1]!; j++) {
      const i = pos[p.members[j]!]!;
      if (i < 0 || !parent.has(i)) continue;
      if (root < 0) root = find(i);
      else parent.set(find(i), root);
    }
  }
  const byRoot = new Map<number, number[]>();
  for (const i of set) {
    const r = find(i);
    const g = byRoot.get(r);
    if (g === undefined) byRoot.set(r, [i]);
    else g.push(i);
  }
  return [...byRoot.values()];
}

export function analyzeFeasibility(input: FeasibilityInput): FeasibilityResult {
  const { mix, demand, fallbackIndex } = input;
  const n = mix.adIds.length;
  const achievable = Array.from({ length: n }, (_, a) => demand[a] ?? 0);
  const limit: Array<LimitReason | null> = new Array(n).fill(null);
  const groups: FeasibilityResult['groups'] = [];
  const p = compilePatterns(mix, fallbackIndex);
  const alive = new Uint8Array(p.count).fill(1);
  let active: number[] = [];
  for (let a = 0; a < n; a++) {
    const d = demand[a] ?? 0;
    if (a !== fallbackIndex && d > 0 && Number.isFinite(d)) active.push(a);
  }
  const dem = achievable.slice();
  let scale = 0;
  for (const a of active) scale = Math.max(scale, dem[a]!);
  for (let k = 0; k < p.count; k++) scale = Math.max(scale, p.share[k]!);
  const epsilon = 1e-12 * scale;

  while (active.length > 0) {
    const pos = new Int32Array(n).fill(-1);
    active.forEach((a, i) => {
      pos[a] = i;
    });
    const net = buildNetwork(p, alive, active, pos, epsilon);
    const first = flowAt(net, active, dem, 1);
    let total = 0;
    for (const a of active) total += dem[a]!;
    if (first.value >= total * (1 - FEASIBLE_REL_TOL) - net.slack) break;

    const { lambda, set } = findBottleneck(p, alive, active, pos, dem, first, net);
    for (const members of components(p, alive, pos, set)) {
      const ads = members.map((i) => active[i]!).sort((x, y) => x - y);
      for (const a of ads) {
        achievable[a] = lambda * dem[a]!;
        limit[a] = ads.length > 1 ? 'overbooked' : reasonAlone(mix, a, dem[a]!);
      }
      groups.push({ members: ads, scale: lambda });
    }
    const inSet = new Uint8Array(active.length);
    for (const i of set) inSet[i] = 1;
    const dead: number[] = [];
    forEachNeighbour(
      p,
      alive,
      pos,
      (i) => inSet[i] === 1,
      (k) => dead.push(k),
    );
    for (const k of dead) alive[k] = 0;
    active = active.filter((_, i) => inSet[i] === 0);
  }
  // Stable: equal scales keep discovery order (the decomposition already yields ascending scales).
  groups.sort((x, y) => x.scale - y.scale);
  return { feasible: groups.length === 0, achievable, limit, groups };
}

/**
 * A lone bottleneck: its targeting cannot supply it, or caps removed traffic it matched — or,
 * when all the requests it is eligible for would suffice, an earlier (more overbooked) group
 * took the traffic it shares: competition, so 'overbooked'.
 */
function reasonAlone(mix: RequestMix, a: number, demand: number): LimitReason {
  if (mix.totalMass <= 0) return 'targeting';
  let eligible = 0;
  for (const pat of mix.patterns) if (pat.eligible.includes(a)) eligible += pat.mass;
  if (eligible / mix.totalMass >= demand * (1 - 1e-9)) return 'overbooked';
  const matched = (mix.matchMass[a] ?? 0) / mix.totalMass;
  return matched < demand ? 'targeting' : 'frequencyCap';
}

/**
 * Maximum flow by Dinic's blocking-flow method (Dinic, "Algorithm for solution of a problem of
 * maximum flow in networks with power estimation", 1970; Even & Tarjan 1975 for the analysis),
 * on float capacities.
 *
 * Floats: an arc counts as residual only while its remaining capacity exceeds `epsilon`, so a
 * rounding leftover of 1e-17 neither carries flow nor joins a cut. Every push is the exact
 * bottleneck of its path, so the bottleneck arc drops to exactly 0 and each phase still saturates
 * every shortest path: at most nodeCount phases, as in exact arithmetic.
 *
 * Capacities may be Infinity (the uncapacitated middle arcs of a bipartite transport network).
 * A source-to-sink path of infinite arcs only has an infinite maximum flow; the value is then
 * Infinity and the per-edge flows are meaningless.
 */

export interface FlowEdge {
  readonly from: number;
  readonly to: number;
  readonly capacity: number;
}

export interface MaxFlowInput {
  nodeCount: number;
  edges: readonly FlowEdge[];
  source: number;
  sink: number;
  /** Residual capacity at or below this is treated as none. Default 1e-12 × the largest finite capacity. */
  epsilon?: number;
}

export interface MaxFlowResult {
  value: number;
  /** Flow on each input edge, in input order. */
  flow: Float64Array;
  /**
   * 1 for nodes reachable from the source in the final residual graph: the source side of the
   * minimum cut with the smallest source side.
   */
  reachableFromSource: Uint8Array;
  /**
   * 1 for nodes that can reach the sink in the final residual graph. The nodes with 0 form the
   * source side of the minimum cut with the largest source side (Ford & Fulkerson 1962, ch. I.5:
   * the minimal and maximal minimum cuts are the same for every maximum flow).
   */
  reachesSink: Uint8Array;
}

export function maxFlow(input: MaxFlowInput): MaxFlowResult {
  const { nodeCount: n, edges, source, sink } = input;
  const m = edges.length;
  // Arc 2i is edge i forward, arc 2i+1 its reverse (so arc ^ 1 is the partner). The reverse
  // starts at 0 and holds exactly the flow pushed, which stays right for infinite capacities.
  const arcTo = new Int32Array(2 * m);
  const residual = new Float64Array(2 * m);
  const start = new Int32Array(n + 1);
  let maxCapacity = 0;
  for (let i = 0; i < m; i++) {
    const e = edges[i]!;
    arcTo[2 * i] = e.to;
    arcTo[2 * i + 1] = e.from;
    residual[2 * i] = Math.max(e.capacity, 0) || 0; // negative or NaN: no capacity
    if (Number.isFinite(e.capacity) && e.capacity > maxCapacity) maxCapacity = e.capacity;
    start[e.from + 1]!++;
    start[e.to + 1]!++;
  }
  for (let v = 0; v < n; v++) start[v + 1]! += start[v]!;
  const adj = new Int32Array(2 * m);
  const fill = start.slice(0, n);
  for (let i = 0; i < m; i++) {
    const e = edges[i]!;
    adj[fill[e.from]!++] = 2 * i;
    adj[fill[e.to]!++] = 2 * i + 1;
  }
  const eps = input.epsilon ?? 1e-12 * maxCapacity;

  const level = new Int32Array(n);
  const next = new Int32Array(n);
  const queue = new Int32Array(n);

  const buildLevels = (): boolean => {
    level.fill(-1);
    level[source] = 0;
    let head = 0;
    let tail = 0;
    queue[tail++] = source;
    while (head < tail) {
      const v = queue[head++]!;
      for (let j = start[v]!; j < start[v + 1]!; j++) {
        const arc = adj[j]!;
        const u = arcTo[arc]!;
        if (level[u] === -1 && residual[arc]! > eps) {
          level[u] = level[v]! + 1;
          queue[tail++] = u;
        }
      }
    }
    return level[sink] !== -1;
  };

  // Depth is bounded by the number of levels, i.e. the length of a shortest augmenting path.
  const augment = (v: number, limit: number): number => {
    if (v === sink) return limit;
    for (; next[v]! < start[v + 1]!; next[v]!++) {
      const arc = adj[next[v]!]!;
      const u = arcTo[arc]!;
      if (level[u] !== level[v]! + 1 || !(residual[arc]! > eps)) continue;
      const pushed = augment(u, Math.min(limit, residual[arc]!));
      if (pushed > 0) {
        residual[arc]! -= pushed;
        residual[arc ^ 1]! += pushed;
        return pushed;
      }
    }
    return 0;
  };

  let value = 0;
  // The last, failed level search leaves `level` marking what the source still reaches.
  while (buildLevels() && source !== sink) {
    next.set(start.subarray(0, n));
    for (let pushed = augment(source, Infinity); pushed > 0; pushed = augment(source, Infinity)) {
      value += pushed;
    }
  }

  const flow = new Float64Array(m);
  for (let i = 0; i < m; i++) flow[i] = residual[2 * i + 1]!;
  const reachableFromSource = new Uint8Array(n);
  for (let v = 0; v < n; v++) reachableFromSource[v] = level[v]! >= 0 ? 1 : 0;

  // Backward search from the sink: v reaches it when some arc v → u with residual does.
  const reachesSink = new Uint8Array(n);
  let head = 0;
  let tail = 0;
  reachesSink[sink] = 1;
  queue[tail++] = sink;
  while (head < tail) {
    const u = queue[head++]!;
    for (let j = start[u]!; j < start[u + 1]!; j++) {
      const arc = adj[j]!;
      const v = arcTo[arc]!;
      if (reachesSink[v] === 0 && residual[arc ^ 1]! > eps) {
        reachesSink[v] = 1;
        queue[tail++] = v;
      }
    }
  }
  return { value, flow, reachableFromSource, reachesSink };
}

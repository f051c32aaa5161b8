import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FlowEdge, maxFlow } from '../../../src/core/allocation/max-flow.js';

const nodesWith = (marks: Uint8Array, value: 0 | 1): number[] =>
  [...marks].flatMap((m, v) => (m === value ? [v] : []));

/** Capacity of the edges leaving `side` (a set of nodes given as marks). */
function cutCapacity(edges: readonly FlowEdge[], side: (v: number) => boolean): number {
  let cap = 0;
  for (const e of edges) if (side(e.from) && !side(e.to)) cap += e.capacity;
  return cap;
}

// Cormen, Leiserson, Rivest & Stein, "Introduction to Algorithms", 3rd ed., Figure 26.1:
// s = 0, v1..v4 = 1..4, t = 5; maximum flow 23, minimum cut ({s, v1, v2, v4}, {v3, t}).
const clrs: FlowEdge[] = [
  { from: 0, to: 1, capacity: 16 },
  { from: 0, to: 2, capacity: 13 },
  { from: 2, to: 1, capacity: 4 },
  { from: 1, to: 3, capacity: 12 },
  { from: 3, to: 2, capacity: 9 },
  { from: 2, to: 4, capacity: 14 },
  { from: 4, to: 3, capacity: 7 },
  { from: 3, to: 5, capacity: 20 },
  { from: 4, to: 5, capacity: 4 },
];

describe('maxFlow: known networks', () => {
  it('one edge: value = capacity, only the source on the source side', () => {
    const r = maxFlow({ nodeCount: 2, edges: [{ from: 0, to: 1, capacity: 3 }], source: 0, sink: 1 });
    expect(r.value).toBe(3);
    expect([...r.flow]).toEqual([3]);
    expect(nodesWith(r.reachableFromSource, 1)).toEqual([0]);
    expect(nodesWith(r.reachesSink, 1)).toEqual([1]);
  });

  it('CLRS Figure 26.1: value 23, minimal cut {s, v1, v2, v4}, maximal cut leaves {v3, t}', () => {
    const r = maxFlow({ nodeCount: 6, edges: clrs, source: 0, sink: 5 });
    expect(r.value).toBe(23);
    expect(nodesWith(r.reachableFromSource, 1)).toEqual([0, 1, 2, 4]);
    expect(nodesWith(r.reachesSink, 1)).toEqual([3, 5]);
    expect(r.flow[7]! + r.flow[8]!).toBe(23);
  });

  it('minimal and maximal min cuts differ when there are several', () => {
    // s → a (1) → t (1): both edges are minimum cuts; {s} is the smallest side, {s, a} the largest.
    const r = maxFlow({
      nodeCount: 3,
      edges: [
        { from: 0, to: 1, capacity: 1 },
        { from: 1, to: 2, capacity: 1 },
      ],
      source: 0,
      sink: 2,
    });
    expect(r.value).toBe(1);
    expect(nodesWith(r.reachableFromSource, 1)).toEqual([0]);
    expect(nodesWith(r.reachesSink, 0)).toEqual([0, 1]);
  });

  it('bipartite transport with infinite middle edges reports the flow on each edge', () => {
    // s=0, candidates 1,2, patterns 3,4, t=5. Candidate 1 only fits pattern 3, so 2 must use 4.
    const edges: FlowEdge[] = [
      { from: 0, to: 1, capacity: 0.5 },
      { from: 0, to: 2, capacity: 0.5 },
      { from: 1, to: 3, capacity: Infinity },
      { from: 2, to: 3, capacity: Infinity },
      { from: 2, to: 4, capacity: Infinity },
      { from: 3, to: 5, capacity: 0.5 },
      { from: 4, to: 5, capacity: 0.25 },
    ];
    const r = maxFlow({ nodeCount: 6, edges, source: 0, sink: 5 });
    expect(r.value).toBeCloseTo(0.75, 12);
    expect(r.flow[2]).toBeCloseTo(0.5, 12);
    expect(r.flow[3]).toBeCloseTo(0, 12);
    expect(r.flow[4]).toBeCloseTo(0.25, 12);
    // Candidate 2 keeps unmet demand, reaches both patterns and, back along its flow, candidate 1.
    expect(nodesWith(r.reachableFromSource, 1)).toEqual([0, 1, 2, 3, 4]);
  });

  it('float capacities: 0.1 + 0.2 through two paths', () => {
    const edges: FlowEdge[] = [
      { from: 0, to: 1, capacity: 0.1 },
      { from: 0, to: 2, capacity: 0.2 },
      { from: 1, to: 3, capacity: 0.3 },
      { from: 2, to: 3, capacity: 0.3 },
    ];
    const r = maxFlow({ nodeCount: 4, edges, source: 0, sink: 3 });
    expect(r.value).toBeCloseTo(0.3, 15);
    expect(nodesWith(r.reachableFromSource, 1)).toEqual([0]);
  });

  it('residual capacity below epsilon carries no flow and joins no cut', () => {
    const edges: FlowEdge[] = [
      { from: 0, to: 2, capacity: 1 },
      { from: 0, to: 1, capacity: 1e-20 },
      { from: 1, to: 2, capacity: 1 },
    ];
    const r = maxFlow({ nodeCount: 3, edges, source: 0, sink: 2 });
    expect(r.value).toBe(1);
    expect(r.flow[1]).toBe(0);
    expect(nodesWith(r.reachableFromSource, 1)).toEqual([0]);
    const exact = maxFlow({ nodeCount: 3, edges, source: 0, sink: 2, epsilon: 0 });
    expect(exact.flow[1]).toBe(1e-20);
  });

  it('an unreachable sink: value 0, source side is the source component', () => {
    const edges: FlowEdge[] = [
      { from: 0, to: 1, capacity: 2 },
      { from: 2, to: 3, capacity: 2 },
    ];
    const r = maxFlow({ nodeCount: 4, edges, source: 0, sink: 3 });
    expect(r.value).toBe(0);
    expect(nodesWith(r.reachableFromSource, 1)).toEqual([0, 1]);
    expect(nodesWith(r.reachesSink, 1)).toEqual([2, 3]);
  });
});

describe('maxFlow: properties (seeded)', () => {
  const graphArb = fc.integer({ min: 2, max: 7 }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      edges: fc.array(
        fc.record({
          from: fc.integer({ min: 0, max: n - 1 }),
          to: fc.integer({ min: 0, max: n - 1 }),
          capacity: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 5, noNaN: true })),
        }),
        { maxLength: 20 },
      ),
    }),
  );

  it('value = brute-force minimum cut; flows are feasible; both reported cuts are minimum', () => {
    fc.assert(
      fc.property(graphArb, ({ n, edges }) => {
        const source = 0;
        const sink = n - 1;
        const r = maxFlow({ nodeCount: n, edges, source, sink });
        let best = Infinity;
        for (let mask = 0; mask < 1 << n; mask++) {
          if ((mask & 1) === 0 || mask & (1 << sink)) continue;
          best = Math.min(
            best,
            cutCapacity(edges, (v) => (mask & (1 << v)) !== 0),
          );
        }
        const tol = 1e-9 * (1 + best);
        expect(Math.abs(r.value - best)).toBeLessThanOrEqual(tol);
        const net = new Array(n).fill(0);
        edges.forEach((e, i) => {
          const f = r.flow[i]!;
          expect(f).toBeGreaterThanOrEqual(0);
          expect(f).toBeLessThanOrEqual(e.capacity + 1e-12);
          net[e.from] -= f;
          net[e.to] += f;
        });
        for (let v = 0; v < n; v++) {
          if (v !== source && v !== sink) expect(Math.abs(net[v])).toBeLessThanOrEqual(1e-9);
        }
        expect(Math.abs(net[sink] - r.value)).toBeLessThanOrEqual(tol);
        expect(r.reachableFromSource[source]).toBe(1);
        expect(r.reachableFromSource[sink]).toBe(0);
        expect(r.reachesSink[source]).toBe(0);
        const minimal = cutCapacity(edges, (v) => r.reachableFromSource[v] === 1);
        const maximal = cutCapacity(edges, (v) => r.reachesSink[v] === 0);
        expect(Math.abs(minimal - best)).toBeLessThanOrEqual(tol);
        expect(Math.abs(maximal - best)).toBeLessThanOrEqual(tol);
        // Minimal ⊆ maximal.
        for (let v = 0; v < n; v++) if (r.reachableFromSource[v] === 1) expect(r.reachesSink[v]).toBe(0);
      }),
      { seed: 42, numRuns: 400 },
    );
  });
});

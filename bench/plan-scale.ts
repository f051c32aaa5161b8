// Plan size vs compile time, heap and decision throughput (docs/benchmarks.md, "Scale").
//
//   npm run bench:scale                  # = tsx --expose-gc bench/plan-scale.ts (100×20, 100×50, 1,000×50, 10,000×50)
//   npm run bench:scale -- --sizes 10000x50 --seconds 5
//   npm run build && npm run bench:scale -- --sizes '' --http 1000x50 --store 10000x50
//
// In process: builds the configuration of P placements × A ads (every other ad targeted on
// country and age/member, every fifth frequency-capped, a fallback per placement: the
// configuration `bench/http-decisions.mjs` creates), compiles it with `compilePlan` (median of
// `--repeats`, with a GC between), measures the heap the compiled plan holds (heapUsed after GC,
// with and without it), then runs the real `createDecide` over random placements for
// `--seconds`, wired as the embedded composition root wires it (memory frequency, mix and bus;
// the aggregator counting on the memory counter store, in the same thread).
//
// `--http PxA` (needs `npm run build`): starts the built server (embedded defaults, temporary
// data dir) and creates the configuration through the manager API, `--concurrency` placements
// at a time, for at most `--http-budget-s`; reports how far it got, the request rate overall and
// at the end, the plan compile time the server reports and its RSS, then `--load-s` of decisions
// (wrk, when installed).
// `--store PxA[,PxA…]`: the same configuration written straight into the embedded SQLite config store
// (the adapter the server uses) before the server starts; reports the server's start-to-listening
// time (the plan is compiled before it listens), its RSS, then `--load-s` of decisions — for
// sizes one-object-per-request API writes would take days to create.
// `--import PxA[,PxA…]`: the configuration created through the bulk import
// (`POST /v1/config/import`, requests of up to 10,000 ads, one after another) on the built
// server; reports the import time per request and in total, RSS, then the same measurements.
// All three report, before the load, the server's own
// metrics (plan compile time, controller cost per placement step, event-loop lag); `--env K=V`
// passes settings to the server (e.g. `--env ALLOT_CONTROL_INTERVAL_MS=600000`); `--settle-s`
// waits that long after the first decision (the controller ramps its first steps up over ~30 s).
// The configuration builders are in bench/scale/scale-config.ts, the --http/--store/--import runs in
// bench/scale/through-server.ts.
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createMemoryCounterStore } from '../src/adapters/memory/memory-counter-store.js';
import { createMemoryEventBus } from '../src/adapters/memory/memory-event-bus.js';
import { createMemoryFrequencyStore } from '../src/adapters/memory/memory-frequency-store.js';
import { createMemoryMixStore } from '../src/adapters/memory/memory-mix-store.js';
import type { ConfigSnapshot } from '../src/core/domain/config-snapshot.js';
import { compilePlan } from '../src/core/plan/compile-plan.js';
import type { Plan } from '../src/core/plan/plan.js';
import { createMixSampleGate } from '../src/core/sampling/mix-sample-gate.js';
import { SelectorState } from '../src/core/selection/selector-state.js';
import type { RequestContext } from '../src/core/targeting/targeting-rule.js';
import { createDecide } from '../src/decision/decide.js';
import { newDecisionId } from '../src/decision/new-decision-id.js';
import { startAggregator } from '../src/pipeline/aggregator.js';
import { createEventPublisher } from '../src/pipeline/event-publisher.js';
import { createBeaconSigner } from '../src/tracking/beacon-token.js';
import { buildSnapshot, COUNTRIES, fmt, parseSize } from './scale/scale-config.js';
import {
  loadCell,
  type ServerBenchOptions,
  statsCells,
  viaHttp,
  viaImport,
  viaStore,
} from './scale/through-server.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100x20,100x50,1000x50,10000x50' },
    seconds: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '3' },
    http: { type: 'string' },
    store: { type: 'string' },
    import: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '0.5' },
    'http-budget-s': { type: 'string', default: '180' },
    'load-s': { type: 'string', default: '5' },
    /** Seconds to wait after the first decision before the metrics and the load (controller ramp-up). */
    'settle-s': { type: 'string', default: '0' },
    /** Extra environment for the server, e.g. `--env ALLOT_CONTROL_INTERVAL_MS=60000`. */
    env: { type: 'string', multiple: true, default: [] },
    hot: { type: 'string', default: '100' },
  },
});
const gc = globalThis.gc;
if (gc === undefined) {
  process.stderr.write('run with --expose-gc: node --expose-gc --import tsx bench/plan-scale.ts\n');
  process.exit(2);
}
const SECONDS = Number(values.seconds);
const REPEATS = Number(values.repeats);
const MiB = 1024 * 1024;
/** Placements the second throughput run spreads its requests over (real traffic is skewed). */
const HOT = Number(values.hot);

function heapAfterGc(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Throughput = Awaited<ReturnType<typeof throughput>>;

interface Row {
  size: string;
  placements: number;
  ads: number;
  snapshotMiB: number;
  compileMs: number[];
  planMiB: number;
  /** Requests spread over every placement, and over `HOT` of them. */
  all: Throughput;
  hot: Throughput;
}

/**
 * Random requests: placement uniform over `spread` of the plan's placements (evenly spaced
 * through it), user out of 100K, context as the HTTP bench's.
 */
function requests(placements: number, spread: number, n: number) {
  const step = Math.floor(placements / spread);
  let seed = 42;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  return Array.from({ length: n }, () => ({
    placementId: `pl${Math.floor(rand() * spread) * step}`,
    userId: `u${1 + Math.floor(rand() * 100_000)}`,
    context: {
      country: COUNTRIES[Math.floor(rand() * COUNTRIES.length)]!,
      age: 14 + Math.floor(rand() * 57),
      member: rand() < 0.3,
    } as RequestContext,
  }));
}

/** The decision path as `createAllot` wires it in one process (no HTTP, no archive, no log). */
async function throughput(plan: Plan, placements: number, spread: number) {
  const now = () => Date.now();
  const frequency = createMemoryFrequencyStore({ pendingMs: 960_000 });
  const counters = createMemoryCounterStore();
  const bus = createMemoryEventBus();
  const aggregator = startAggregator({
    bus,
    counters,
    frequency,
    plan: () => plan,
    clock: now,
    dedupTtlMs: { decision: 900_000, impression: 960_000, click: 86_460_000 },
  });
  const publisher = createEventPublisher(bus);
  const decide = createDecide({
    plan: () => plan,
    selector: new SelectorState(),
    frequency,
    signer: createBeaconSigner(new Map([['k1', Buffer.from('bench-beacon-secret-0123456789abcdef')]]), 'k1'),
    publisher,
    now,
    newId: newDecisionId,
    publicUrl: '',
    mix: createMemoryMixStore({ halfLifeMs: 600_000 }),
    // Mix sampling as configured by default (every decision: ALLOT_MIX_SAMPLE_EVERY=1, no rate limit).
    mixSample: createMixSampleGate({ every: 1, perSecond: 0 }),
  });
  const reqs = requests(placements, spread, Math.max(20_000, spread * 4));
  const yieldToLoop = () => new Promise((r) => setImmediate(r));
  let next = 0;
  let filled = 0;
  const run = async (ms: number) => {
    let n = 0;
    const t0 = performance.now();
    // Chunks of 1,000, then a turn of the event loop: the publisher flushes and the aggregator
    // counts on later ticks, as they would between HTTP requests.
    while (performance.now() - t0 < ms) {
      for (let i = 0; i < 1000; i++) {
        const r = reqs[next]!;
        next = next + 1 === reqs.length ? 0 : next + 1;
        if (decide(r.placementId, r.userId, r.context).kind === 'filled') filled++;
      }
      n += 1000;
      await yieldToLoop();
    }
    return { n, elapsed: performance.now() - t0 };
  };
  await run(Number(values.warmup) * 1000); // warm-up: JIT, and a credit book for (nearly) every placement
  filled = 0;
  let gcMs = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gcs.observe({ entryTypes: ['gc'] });
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const { n, elapsed } = await run(SECONDS * 1000);
  const cpu = process.cpuUsage(cpuBefore);
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  gcs.disconnect();
  await publisher.drain();
  await bus.close();
  await aggregator.stop();
  return {
    decisionsPerSec: n / (elapsed / 1000),
    usPerDecision: (elapsed * 1000) / n,
    cpuUsPerDecision: (cpu.user + cpu.system) / n,
    filled: filled / n,
    gcShare: gcMs / elapsed,
    heapGrowthMiB: heapGrowth / MiB,
  };
}

async function inProcess(size: string): Promise<Row> {
  const { placements, ads } = parseSize(size);
  const before = heapAfterGc();
  let snapshot: ConfigSnapshot | null = buildSnapshot(placements, ads);
  const adCount = snapshot.ads.length;
  const withSnapshot = heapAfterGc();
  const compileMs: number[] = [];
  let plan: Plan | null = null;
  for (let r = 0; r < REPEATS; r++) {
    plan = null;
    heapAfterGc();
    const t0 = performance.now();
    plan = compilePlan(snapshot);
    compileMs.push(performance.now() - t0);
  }
  const withPlan = heapAfterGc();
  // A server keeps the plan, not the snapshot it was compiled from.
  snapshot = null;
  heapAfterGc();
  const all = await throughput(plan!, placements, placements);
  const hot = placements > HOT ? await throughput(plan!, placements, HOT) : all;
  return {
    size,
    placements,
    ads: adCount,
    snapshotMiB: (withSnapshot - before) / MiB,
    compileMs,
    planMiB: (withPlan - withSnapshot) / MiB,
    all,
    hot,
  };
}

// ---- main ------------------------------------------------------------------------------------

const serverOptions: ServerBenchOptions = {
  env: values.env,
  concurrency: Number(values.concurrency),
  httpBudgetS: Number(values['http-budget-s']),
  loadS: Number(values['load-s']),
  settleS: Number(values['settle-s']),
};
const started = new Date().toISOString();
const rows: Row[] = [];
for (const size of values.sizes.split(',').filter((x) => x !== '')) {
  process.stderr.write(`in process ${size}…\n`);
  rows.push(await inProcess(size));
  heapAfterGc();
}
if (rows.length > 0) {
  console.log(
    `\n${started}, node ${process.version}, ${SECONDS} s of decisions per size and spread (after ${values.warmup} s of warm-up)`,
  );
  console.log(
    '| placements × ads | ads | config snapshot MiB | compile ms, median (runs) | compiled plan MiB | requests over | decisions/s | µs/decision | CPU µs/decision | GC share | heap growth MiB | filled |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const tp = (t: Throughput) =>
    `${fmt(t.decisionsPerSec)} | ${fmt(t.usPerDecision, 1)} | ${fmt(t.cpuUsPerDecision, 1)} | ${fmt(t.gcShare * 100)} % | ${fmt(t.heapGrowthMiB)} | ${fmt(t.filled * 100)} %`;
  for (const r of rows) {
    console.log(
      `| ${r.size.replace('x', ' × ')} | ${fmt(r.ads)} | ${fmt(r.snapshotMiB, 1)} | ${fmt(median(r.compileMs), 1)} (${r.compileMs.map((x) => fmt(x)).join(' / ')}) | ${fmt(r.planMiB, 1)} | all ${fmt(r.placements)} | ${tp(r.all)} |`,
    );
    if (r.placements > HOT) console.log(`| | | | | | ${fmt(HOT)} | ${tp(r.hot)} |`);
  }
}

const serverColumns =
  '| first decision ms | decisions/s | p50 ms | plan compile ms | controller ms per placement step (total s) | event-loop lag p99 ms | RSS after MiB |';
if (values.http !== undefined) {
  process.stderr.write(`http ${values.http}…\n`);
  const h = await viaHttp(values.http, serverOptions);
  console.log(
    `\nThrough the manager API (${values.concurrency} placements at a time; placements begun within ${values['http-budget-s']} s are finished), built server, embedded defaults${values.env.length > 0 ? ` (${values.env.join(' ')})` : ''}; metrics ${values['settle-s']} s after the first decision, then ${values['load-s']} s of decisions (wrk -t1 -c64)`,
  );
  console.log(
    `| asked | placements created | requests | seconds | requests/s overall | requests/s at the end | RSS empty MiB | RSS seeded MiB ${serverColumns}`,
  );
  console.log(`|${'---|'.repeat(15)}`);
  console.log(
    `| ${h.size.replace('x', ' × ')} | ${fmt(h.placementsDone)} | ${fmt(h.requests)} | ${fmt(h.seconds, 1)} | ${fmt(h.requestsPerSec)} | ${fmt(h.lastRequestsPerSec)} | ${fmt(h.rssEmpty)} | ${fmt(h.rssSeeded)} | ${fmt(h.firstMs, 1)} | ${loadCell(h.decisions)} | ${statsCells(h.stats)} | ${fmt(h.rssAfterLoad)} |`,
  );
}
if (values.store !== undefined) {
  const results = [];
  for (const size of values.store.split(',')) {
    process.stderr.write(`store ${size}…\n`);
    results.push(await viaStore(size, serverOptions));
  }
  console.log(
    `\nWritten into the SQLite config store, then the built server started on it${values.env.length > 0 ? ` (${values.env.join(' ')})` : ''}; metrics ${values['settle-s']} s after the first decision, then ${values['load-s']} s of decisions (wrk -t1 -c64)`,
  );
  console.log(
    `| placements × ads | store written in s | start to listening s (plan ready) | RSS ready MiB ${serverColumns}`,
  );
  console.log(`|${'---|'.repeat(11)}`);
  for (const s of results) {
    console.log(
      `| ${s.size.replace('x', ' × ')} | ${fmt(s.seedSeconds, 1)} | ${fmt(s.readySeconds, 2)} | ${fmt(s.rssReady)} | ${fmt(s.firstMs, 1)} | ${loadCell(s.decisions)} | ${statsCells(s.stats)} | ${fmt(s.rssAfterLoad)} |`,
    );
  }
}
if (values.import !== undefined) {
  const results = [];
  for (const size of values.import.split(',')) {
    process.stderr.write(`import ${size}…\n`);
    results.push(await viaImport(size, serverOptions));
  }
  console.log(
    `\nThrough the bulk import (POST /v1/config/import, requests of up to 10,000 ads, one after another), built server, embedded defaults${values.env.length > 0 ? ` (${values.env.join(' ')})` : ''}; metrics ${values['settle-s']} s after the first decision, then ${values['load-s']} s of decisions (wrk -t1 -c64)`,
  );
  console.log(
    `| placements × ads | requests (ads each) | seconds | first / median / last request ms | RSS empty MiB | RSS seeded MiB ${serverColumns}`,
  );
  console.log(`|${'---|'.repeat(13)}`);
  for (const s of results) {
    console.log(
      `| ${s.size.replace('x', ' × ')} | ${fmt(s.requests)} (${fmt(s.adsPerRequest)}) | ${fmt(s.seconds, 1)} | ${fmt(s.firstRequestMs)} / ${fmt(s.medianRequestMs)} / ${fmt(s.lastRequestMs)} | ${fmt(s.rssEmpty)} | ${fmt(s.rssSeeded)} | ${fmt(s.firstMs, 1)} | ${loadCell(s.decisions)} | ${statsCells(s.stats)} | ${fmt(s.rssAfterLoad)} |`,
    );
  }
}

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
// sizes the API would take hours to create. Both report, before the load, the server's own
// metrics (plan compile time, controller cost per placement step, event-loop lag); `--env K=V`
// passes settings to the server (e.g. `--env ALLOT_CONTROL_INTERVAL_MS=600000`); `--settle-s`
// waits that long after the first decision (the controller ramps its first steps up over ~30 s).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createMemoryCounterStore } from '../src/adapters/memory/memory-counter-store.js';
import { createMemoryEventBus } from '../src/adapters/memory/memory-event-bus.js';
import { createMemoryFrequencyStore } from '../src/adapters/memory/memory-frequency-store.js';
import { createMemoryMixStore } from '../src/adapters/memory/memory-mix-store.js';
import { createSqliteConfigStore } from '../src/adapters/sqlite/sqlite-config-store.js';
import type { Ad } from '../src/core/domain/ad.js';
import type { ConfigSnapshot } from '../src/core/domain/config-snapshot.js';
import { DEFAULT_ALLOCATION_WINDOW, type Placement, type TargetSet } from '../src/core/domain/placement.js';
import { compilePlan } from '../src/core/plan/compile-plan.js';
import type { Plan } from '../src/core/plan/plan.js';
import { SelectorState } from '../src/core/selection/selector-state.js';
import type { RequestContext } from '../src/core/targeting/targeting-rule.js';
import { createDecide } from '../src/decision/decide.js';
import { startAggregator } from '../src/pipeline/aggregator.js';
import { createEventPublisher } from '../src/pipeline/event-publisher.js';
import { createBeaconSigner } from '../src/tracking/beacon-token.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100x20,100x50,1000x50,10000x50' },
    seconds: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '3' },
    http: { type: 'string' },
    store: { type: 'string' },
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
const ROOT = new URL('..', import.meta.url).pathname;
const SECONDS = Number(values.seconds);
const REPEATS = Number(values.repeats);
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL'];
const ISO = new Date().toISOString();
const MiB = 1024 * 1024;
/** Placements the second throughput run spreads its requests over (real traffic is skewed). */
const HOT = Number(values.hot);

function parseSize(s: string): { placements: number; ads: number } {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (m === null) throw new Error(`size "${s}": expected <placements>x<ads>, e.g. 10000x50`);
  return { placements: Number(m[1]), ads: Number(m[2]) };
}

/** Ad `a` of placement `p`, as `bench/http-decisions.mjs` creates it through the API. */
function adBody(p: number, a: number) {
  const id = `p${p}-a${a}`;
  return {
    id,
    name: id,
    creative: { type: 'image' as const, url: `https://cdn.example.com/${id}.png`, width: 300, height: 250 },
    clickUrl: `https://advertiser.example.com/${id}`,
    targeting:
      a % 2 === 1
        ? {
            all: [
              { key: 'country', in: COUNTRIES.slice(a % 4, (a % 4) + 4) },
              {
                any: [
                  { key: 'age', gte: 18 + (a % 10) },
                  { key: 'member', in: [true] },
                ],
              },
            ],
          }
        : null,
    frequencyCap: a % 5 === 0 && a > 0 ? { impressions: 5, windowSeconds: 3600 } : null,
  };
}

const toAd = (p: number, a: number): Ad => ({
  ...adBody(p, a),
  startAt: null,
  endAt: null,
  status: 'active',
  createdAt: ISO,
  updatedAt: ISO,
});
const toPlacement = (p: number): Placement => ({
  id: `pl${p}`,
  name: `Placement ${p}`,
  fallbackAdId: `p${p}-a0`,
  window: DEFAULT_ALLOCATION_WINDOW,
  createdAt: ISO,
  updatedAt: ISO,
});
const targetsOf = (p: number, ads: number) =>
  Array.from({ length: ads - 1 }, (_, i) => ({ adId: `p${p}-a${i + 1}`, share: 0.9 / (ads - 1) }));

function buildSnapshot(placements: number, ads: number): ConfigSnapshot {
  const snapshot: ConfigSnapshot = { revision: 1, ads: [], placements: [], targets: [] };
  for (let p = 0; p < placements; p++) {
    for (let a = 0; a < ads; a++) snapshot.ads.push(toAd(p, a));
    snapshot.placements.push(toPlacement(p));
    const set: TargetSet = { placementId: `pl${p}`, version: 1, targets: targetsOf(p, ads), updatedAt: ISO };
    snapshot.targets.push(set);
  }
  return snapshot;
}

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
    newId: randomUUID,
    publicUrl: '',
    mix: createMemoryMixStore({ halfLifeMs: 600_000 }),
    mixSampleEvery: 1,
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

// ---- through the built server ---------------------------------------------------------------

const TOKEN = 'bench-admin-token-0123456789';

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

type Server = { child: ChildProcess; base: string; startMs: number };

async function startServer(dataDir: string): Promise<Server> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['bin/allot.js', 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      ALLOT_DATA_DIR: dataDir,
      ALLOT_ADMIN_TOKEN: TOKEN,
      ALLOT_LOG_LEVEL: 'warn',
      ...Object.fromEntries(
        values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`allot exited ${c}: ${out}`)));
  });
  return { child, base, startMs: performance.now() - t0 };
}

async function stopServer(server: Server | null): Promise<void> {
  if (server === null || server.child.exitCode !== null) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
}

/**
 * `--load-s` seconds of `wrk -t1 -c64` decisions over random placements (the Lua script cycles
 * 2,000 bodies as `bench/http-decisions.mjs`'s does). Null when wrk is not installed.
 */
function load(
  base: string,
  placements: number,
  dir: string,
): { perSec: number; non2xx: number; timeouts: number; p50Ms: number } | null {
  const script = join(dir, 'decisions.lua');
  writeFileSync(
    script,
    `local bodies = {}
local countries = {${COUNTRIES.map((c) => `"${c}"`).join(',')}}
math.randomseed(42)
for i = 1, 2000 do
  bodies[i] = string.format('{"placementId":"pl%d","userId":"u%d","context":{"country":"%s","age":%d,"member":%s}}',
    math.random(0, ${placements - 1}), math.random(1, 100000), countries[math.random(1, #countries)],
    math.random(14, 70), math.random() < 0.3 and "true" or "false")
end
local n = 0
request = function()
  n = n % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[n])
end
`,
  );
  let out: string;
  try {
    out = execFileSync(
      'wrk',
      ['-t1', '-c64', `-d${values['load-s']}s`, '--latency', '-s', script, `${base}/v1/decisions`],
      {
        encoding: 'utf8',
      },
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return {
    perSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    timeouts: Number(/timeout (\d+)/.exec(out)?.[1] ?? 0),
    p50Ms: (() => {
      const m = /\s50%\s+([\d.]+)(us|ms|s)\b/.exec(out);
      return m === null
        ? Number.NaN
        : Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
    })(),
  };
}

/**
 * What the server says about itself: plan compile time, the controller's cost per placement step
 * and its total so far, and event-loop lag (prom-client's default metrics).
 */
async function serverStats(base: string) {
  // A server whose event loop is saturated answers late: wait, and say so if it does not.
  const text = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(120_000) })
    .then((r) => r.text())
    .catch(() => '');
  const metric = (name: string) =>
    Number(new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  const stepSeconds = metric('allot_controller_step_seconds_total');
  const steps = metric('allot_controller_placement_steps_total');
  return {
    compileMs: metric('allot_plan_compile_seconds') * 1000,
    controllerSeconds: stepSeconds,
    controllerMsPerPlacementStep: (stepSeconds * 1000) / steps,
    lagP99Ms: metric('allot_nodejs_eventloop_lag_p99_seconds') * 1000,
  };
}

const settle = () => new Promise((r) => setTimeout(r, Number(values['settle-s']) * 1000));

/** One decision, timed (the first one after start, or after the configuration was created). */
async function decisionMs(base: string, placements: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}/v1/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      placementId: `pl${placements - 1}`,
      userId: 'u1',
      context: { country: 'DE', age: 30 },
    }),
    signal: AbortSignal.timeout(120_000),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`decision: ${res.status}`);
  return performance.now() - t0;
}

const loadCell = (d: ReturnType<typeof load>) =>
  d === null
    ? 'no wrk | '
    : `${fmt(d.perSec)}${d.non2xx > 0 ? ` (${fmt(d.non2xx)} non-2xx)` : ''}${d.timeouts > 0 ? ` (${fmt(d.timeouts)} timed out)` : ''} | ${fmt(d.p50Ms, 1)}`;
const statsCells = (s: Awaited<ReturnType<typeof serverStats>>) =>
  `${fmt(s.compileMs, 1)} | ${fmt(s.controllerMsPerPlacementStep, 2)} (${fmt(s.controllerSeconds, 1)} s) | ${fmt(s.lagP99Ms)}`;

/**
 * Creates the configuration through the manager API, `--concurrency` placements at a time
 * (each: its ads one after another, then the placement, then its targets), for at most
 * `--http-budget-s`: every write recompiles the whole plan before it answers, so creation
 * slows down as the configuration grows. Reports how far it got and the rate at the end.
 */
async function viaHttp(size: string) {
  const { placements, ads } = parseSize(size);
  const dir = mkdtempSync(join(tmpdir(), 'allot-scale-'));
  let server: Server | null = null;
  try {
    server = await startServer(join(dir, 'data'));
    const { base } = server;
    const rssEmpty = rssMiB(server.child.pid!);
    const t0 = performance.now();
    const budgetMs = Number(values['http-budget-s']) * 1000;
    let requestsDone = 0;
    let placementsDone = 0;
    let nextPlacement = 0;
    const windows: Array<{ t: number; requests: number }> = [{ t: 0, requests: 0 }];
    const progress = setInterval(() => {
      const t = (performance.now() - t0) / 1000;
      windows.push({ t, requests: requestsDone });
      process.stderr.write(
        `  http ${size}: ${placementsDone} placements, ${requestsDone.toLocaleString('en')} requests, ${t.toFixed(0)} s\n`,
      );
    }, 15_000);
    const call = async (method: string, path: string, body: unknown) => {
      await api(base, method, path, body);
      requestsDone++;
    };
    const worker = async () => {
      while (nextPlacement < placements && performance.now() - t0 < budgetMs) {
        const p = nextPlacement++;
        for (let a = 0; a < ads; a++) {
          const { targeting, frequencyCap, ...rest } = adBody(p, a);
          await call('POST', '/v1/ads', {
            ...rest,
            ...(targeting === null ? {} : { targeting }),
            ...(frequencyCap === null ? {} : { frequencyCap }),
          });
        }
        const { createdAt: _c, updatedAt: _u, window: _w, ...placement } = toPlacement(p);
        await call('POST', '/v1/placements', placement);
        await call('PUT', `/v1/placements/pl${p}/targets`, { targets: targetsOf(p, ads) });
        placementsDone++;
      }
    };
    try {
      await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
    } finally {
      clearInterval(progress);
    }
    const seconds = (performance.now() - t0) / 1000;
    // The rate over the last 15–30 s (the progress ticks are 15 s apart).
    const last = [...windows].reverse().find((w) => w.t <= seconds - 15) ?? windows[0]!;
    const rssSeeded = rssMiB(server.child.pid!);
    const firstMs = await decisionMs(base, placementsDone);
    await settle();
    const stats = await serverStats(base);
    const decisions = load(base, placementsDone, dir);
    return {
      size,
      placementsDone,
      requests: requestsDone,
      seconds,
      requestsPerSec: requestsDone / seconds,
      lastRequestsPerSec: (requestsDone - last.requests) / (seconds - last.t),
      rssEmpty,
      rssSeeded,
      firstMs,
      decisions,
      stats,
      rssAfterLoad: rssMiB(server.child.pid!),
    };
  } finally {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the configuration into the SQLite store the server will open, then starts it. */
async function viaStore(size: string) {
  const { placements, ads } = parseSize(size);
  const dir = mkdtempSync(join(tmpdir(), 'allot-scale-'));
  let server: Server | null = null;
  try {
    const dataDir = join(dir, 'data');
    const t0 = performance.now();
    const store = createSqliteConfigStore({ path: join(dataDir, 'config.sqlite') });
    try {
      for (let p = 0; p < placements; p++) {
        for (let a = 0; a < ads; a++) await store.createAd(toAd(p, a));
        await store.createPlacement(toPlacement(p));
        await store.putTargets(`pl${p}`, targetsOf(p, ads), ISO);
      }
    } finally {
      await store.close();
    }
    const seedSeconds = (performance.now() - t0) / 1000;
    server = await startServer(dataDir);
    const rssReady = rssMiB(server.child.pid!);
    const firstMs = await decisionMs(server.base, placements);
    await settle();
    const stats = await serverStats(server.base);
    const decisions = load(server.base, placements, dir);
    return {
      size,
      seedSeconds,
      readySeconds: server.startMs / 1000,
      rssReady,
      firstMs,
      decisions,
      stats,
      rssAfterLoad: rssMiB(server.child.pid!),
    };
  } finally {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main ------------------------------------------------------------------------------------

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });

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
  const h = await viaHttp(values.http);
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
    results.push(await viaStore(size));
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

// Micro-benchmarks of the decision hot path, with a recorded baseline and an old-vs-new mode
// (docs/benchmarks.md, "Micro-benchmarks of the hot path").
//
//   npm run bench:micro                          # = tsx bench/micro.ts: table, ratio vs the baseline
//   npm run bench:micro -- --save                # record this run in bench/micro-baseline.json
//   npm run bench:micro -- --against <git-ref>   # <ref> (old) vs this working tree (new), same run
//       [--time 300]      ms of measurement per case (after a short warm-up)
//       [--rounds 2]      --against: runs of each tree, interleaved old, new, old, new
//       [--json]          machine-readable results on stdout (what --against reads from its children)
//       [--list]          the cases and what each measures
//
// Every case imports what it measures itself (dynamic `import()`) and builds its fixture in
// `setup`, so a case whose API differs in an older tree fails alone and shows "n/a". A sample is
// the mean of `batch` calls timed together (reading the clock costs 0.1–0.2 µs here, more than a
// predicate call), so the median and p99 are those of batch means, not of single calls.
// Comparisons (vs the baseline, old vs new) use the median: on a shared machine a batch that
// straddles a preemption takes milliseconds, and a few of those move the mean by ×2.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import type { Ad } from '../src/core/domain/ad.js';
import type { ConfigSnapshot } from '../src/core/domain/config-snapshot.js';
import type { AllotEvent } from '../src/core/events/allot-event.js';
import type { RequestContext, TargetingRule } from '../src/core/targeting/targeting-rule.js';

const { values } = parseArgs({
  options: {
    save: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    against: { type: 'string' },
    time: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '2' },
  },
});
const TIME_MS = Number(values.time);
const ROUNDS = Number(values.rounds);
if (
  !(TIME_MS > 0) ||
  !(Number.isInteger(ROUNDS) && ROUNDS > 0) ||
  (values.save && values.against !== undefined)
) {
  process.stderr.write(
    'usage: bench/micro.ts [--time ms>0] [--save | --against <ref> [--rounds n>0]] [--json]\n',
  );
  process.exit(2);
}
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASELINE = join(ROOT, 'bench', 'micro-baseline.json');

// ---------------------------------------------------------------------------------------------
// Fixtures: the workload of bench/http-decisions.mjs (bench/lib/workload.mjs), built in process.

const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL'];
const PLACEMENTS = 100;
const ADS = 20;
const T0 = Date.UTC(2026, 0, 1);
const ISO = new Date(T0).toISOString();
/** Requests cycled over (a power of two: the index wraps with a mask). */
const N_REQ = 8192;
const MASK = N_REQ - 1;

/** mulberry32, seeded: every run and every tree cycles over the same requests. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Req {
  placementId: string;
  userId: string;
  context: RequestContext;
}

/** As the HTTP bench: a random placement, a user out of 100K, country, age 14–70, member 30 %. */
function requests(): Req[] {
  const rnd = seeded(42);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  return Array.from({ length: N_REQ }, () => ({
    placementId: `pl${int(0, PLACEMENTS - 1)}`,
    userId: `u${int(1, 100_000)}`,
    context: { country: COUNTRIES[int(0, COUNTRIES.length - 1)]!, age: int(14, 70), member: rnd() < 0.3 },
  }));
}
const REQS = requests();

/**
 * 100 placements × 20 ads as the HTTP bench creates them through the API: every other ad
 * targeted (country in 4 of 8, and age ≥ 18–27 or member), every fifth capped at 5 an hour,
 * ad 0 the fallback, ads 1–19 sharing 90 %.
 */
function snapshot(): ConfigSnapshot {
  const s: ConfigSnapshot = { revision: 1, ads: [], placements: [], targets: [] };
  for (let p = 0; p < PLACEMENTS; p++) {
    for (let a = 0; a < ADS; a++) {
      const id = `p${p}-a${a}`;
      const ad: Ad = {
        id,
        name: id,
        creative: { type: 'image', url: `https://cdn.example.com/${id}.png`, width: 300, height: 250 },
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
        startAt: null,
        endAt: null,
        status: 'active',
        createdAt: ISO,
        updatedAt: ISO,
      };
      s.ads.push(ad);
    }
    s.placements.push({
      id: `pl${p}`,
      name: `Placement ${p}`,
      fallbackAdId: `p${p}-a0`,
      window: { lengthHours: 24, timeZone: 'UTC' },
      createdAt: ISO,
      updatedAt: ISO,
    });
    s.targets.push({
      placementId: `pl${p}`,
      version: 1,
      updatedAt: ISO,
      targets: Array.from({ length: ADS - 1 }, (_, i) => ({
        adId: `p${p}-a${i + 1}`,
        share: 0.9 / (ADS - 1),
      })),
    });
  }
  return s;
}

/** Country in a list, an age range, a member flag, nested and/or. */
const RULE: TargetingRule = {
  all: [
    { key: 'country', in: ['DE', 'FR', 'US', 'GB'] },
    {
      any: [
        {
          all: [
            { key: 'age', gte: 18 },
            { key: 'age', lt: 35 },
          ],
        },
        { key: 'member', in: [true] },
      ],
    },
  ],
};

/** Decision events as `decide` publishes them, `n` of them (the bus adapters' entry size is 500). */
function decisionEvents(n: number): AllotEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const r = REQS[i & MASK]!;
    const decisionId = randomUUID();
    return {
      id: `${decisionId}:d`,
      type: 'decision',
      ts: T0 + i,
      decisionId,
      placementId: r.placementId,
      adId: `${r.placementId.replace('pl', 'p')}-a${1 + (i % (ADS - 1))}`,
      userId: r.userId,
    };
  });
}

const BEACON_KEYS = () => new Map([['k1', Buffer.from('bench-beacon-secret-0123456789abcdef')]]);

/** Results go here so that the compiler cannot drop the work. */
let sink = 0;

// ---------------------------------------------------------------------------------------------
// Cases.

interface Case {
  name: string;
  /** What one op is (`--list`). */
  what: string;
  /** Calls timed together as one sample: enough that the timer's own cost is negligible. */
  batch: number;
  /** Ops per call (a call encoding a 500-event entry is 500 ops: ns/op is per event). */
  perCall?: number;
  /** Turn the event loop between samples (untimed), as between HTTP requests: lets the publisher flush. */
  yields?: boolean;
  /** Imports and builds the fixture (may throw: another tree's API); returns `run(n)`, n calls. */
  setup: () => Promise<(n: number) => void>;
}

/** Each request's compiled placement and credit book, a memory frequency store with prior serves. */
async function selectionFixture() {
  const [{ compilePlan }, { SelectorState }, { createMemoryFrequencyStore }] = await Promise.all([
    import('../src/core/plan/compile-plan.js'),
    import('../src/core/selection/selector-state.js'),
    import('../src/adapters/memory/memory-frequency-store.js'),
  ]);
  const plan = compilePlan(snapshot());
  const selector = new SelectorState();
  const freq = createMemoryFrequencyStore({ pendingMs: 960_000 });
  const placements = REQS.map((r) => {
    const p = plan.placements.get(r.placementId);
    if (p === undefined) throw new Error(`plan has no ${r.placementId}`);
    return p;
  });
  const books = placements.map((p) => selector.bookFor(p));
  // Two serves of a capped ad per request's user: isCapped walks a real list.
  const cap = { impressions: 5, windowSeconds: 3600 };
  REQS.forEach((r, i) => {
    const adId = `${r.placementId.replace('pl', 'p')}-a5`;
    freq.reserve(r.userId, adId, `d${i}a`, cap, T0 - 60_000);
    freq.reserve(r.userId, adId, `d${i}b`, cap, T0 - 30_000);
  });
  return { placements, books, freq };
}

const CASES: Case[] = [
  {
    name: 'targeting: compiled predicate',
    what: 'one `compileTargeting` predicate call: country in 4 of 8, and (18 ≤ age < 35 or member)',
    batch: 256,
    setup: async () => {
      const { compileTargeting } = await import('../src/core/targeting/compile-targeting.js');
      const match = compileTargeting(RULE);
      const contexts = REQS.map((r) => r.context);
      let k = 0;
      return (n) => {
        let hits = 0;
        for (let i = 0; i < n; i++) {
          if (match(contexts[k]!)) hits++;
          k = (k + 1) & MASK;
        }
        sink += hits;
      };
    },
  },
  {
    name: 'selection: selectAd',
    what: '`selectAd` over a placement of 20 candidates (targeting, caps, smooth weighted round-robin)',
    batch: 32,
    setup: async () => {
      const { selectAd } = await import('../src/core/selection/select-ad.js');
      const { placements, books, freq } = await selectionFixture();
      const req = { userId: null as string | null, context: {} as RequestContext, nowMs: T0 };
      let k = 0;
      return (n) => {
        let filled = 0;
        for (let i = 0; i < n; i++) {
          const r = REQS[k]!;
          req.userId = r.userId;
          req.context = r.context;
          if (selectAd(placements[k]!, books[k]!, req, freq) >= 0) filled++;
          k = (k + 1) & MASK;
        }
        sink += filled;
      };
    },
  },
  {
    name: 'selection: sampled (describeEligibility + selectAd)',
    what: 'a sampled request: eligibility described once (mix key), then `selectAd` reusing it',
    batch: 32,
    setup: async () => {
      const [{ selectAd }, { describeEligibility }] = await Promise.all([
        import('../src/core/selection/select-ad.js'),
        import('../src/core/selection/describe-eligibility.js'),
      ]);
      const { placements, books, freq } = await selectionFixture();
      const req = { userId: null as string | null, context: {} as RequestContext, nowMs: T0 };
      const known = new Uint8Array(64);
      let k = 0;
      return (n) => {
        let acc = 0;
        for (let i = 0; i < n; i++) {
          const r = REQS[k]!;
          req.userId = r.userId;
          req.context = r.context;
          const p = placements[k]!;
          acc += describeEligibility(p, req, freq, known).length;
          acc += selectAd(p, books[k]!, req, freq, known);
          k = (k + 1) & MASK;
        }
        sink += acc;
      };
    },
  },
  {
    name: 'beacon: sign',
    what: '`createBeaconSigner().sign`: JSON claims, base64url, HMAC-SHA256 truncated to 128 bits',
    batch: 8,
    setup: async () => {
      const { createBeaconSigner } = await import('../src/tracking/beacon-token.js');
      const signer = createBeaconSigner(BEACON_KEYS(), 'k1');
      const claims = decisionEvents(1024).map((e) => ({ ...e, issuedAtSec: Math.floor(e.ts / 1000) }));
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++) {
          sink += signer.sign(claims[k]!).length;
          k = (k + 1) & 1023;
        }
      };
    },
  },
  {
    name: 'beacon: verify',
    what: '`verify` of a valid token: HMAC, constant-time compare, JSON parse and shape check',
    batch: 8,
    setup: async () => {
      const { createBeaconSigner } = await import('../src/tracking/beacon-token.js');
      const signer = createBeaconSigner(BEACON_KEYS(), 'k1');
      const tokens = decisionEvents(1024).map((e) =>
        signer.sign({ ...e, issuedAtSec: Math.floor(e.ts / 1000) }),
      );
      if (!signer.verify(tokens[0]!).ok) throw new Error('verify rejects a fresh token');
      let k = 0;
      return (n) => {
        let ok = 0;
        for (let i = 0; i < n; i++) {
          if (signer.verify(tokens[k]!).ok) ok++;
          k = (k + 1) & 1023;
        }
        sink += ok;
      };
    },
  },
  {
    // The adapters encode inline (src/adapters/redis/redis-streams-event-bus.ts `publishAll`,
    // src/adapters/nats/nats-jetstream-event-bus.ts `publishChunk`); this mirrors that code.
    name: 'bus: encode 500-event entry (per event)',
    what: '`JSON.stringify` of a 500-event array, as the Redis Streams and NATS adapters write an entry',
    batch: 1,
    perCall: 500,
    setup: async () => {
      const chunks = [decisionEvents(500), decisionEvents(500)];
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++) {
          sink += JSON.stringify(chunks[k]!).length;
          k ^= 1;
        }
      };
    },
  },
  {
    name: 'bus: decode 500-event entry (per event)',
    what: '`JSON.parse` of such an entry and its array check, as the adapters read it back',
    batch: 1,
    perCall: 500,
    setup: async () => {
      const payloads = [JSON.stringify(decisionEvents(500)), JSON.stringify(decisionEvents(500))];
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++) {
          const v: unknown = JSON.parse(payloads[k]!);
          sink += Array.isArray(v) ? v.length : 0;
          k ^= 1;
        }
      };
    },
  },
  {
    name: 'decide: 100×20 plan, in process',
    what: '`createDecide` as `createAllot` wires it (memory frequency, mix sampling 1 in 1, publisher on the memory bus)',
    batch: 8,
    yields: true,
    setup: async () => {
      const [
        { compilePlan },
        { SelectorState },
        { createMemoryFrequencyStore },
        { createMemoryMixStore },
        { createMemoryEventBus },
        { createEventPublisher },
        { createBeaconSigner },
        { createDecide },
      ] = await Promise.all([
        import('../src/core/plan/compile-plan.js'),
        import('../src/core/selection/selector-state.js'),
        import('../src/adapters/memory/memory-frequency-store.js'),
        import('../src/adapters/memory/memory-mix-store.js'),
        import('../src/adapters/memory/memory-event-bus.js'),
        import('../src/pipeline/event-publisher.js'),
        import('../src/tracking/beacon-token.js'),
        import('../src/decision/decide.js'),
      ]);
      const plan = compilePlan(snapshot());
      const decide = createDecide({
        plan: () => plan,
        selector: new SelectorState(),
        frequency: createMemoryFrequencyStore({ pendingMs: 960_000 }),
        signer: createBeaconSigner(BEACON_KEYS(), 'k1'),
        publisher: createEventPublisher(createMemoryEventBus()),
        now: Date.now,
        newId: randomUUID,
        publicUrl: '',
        mix: createMemoryMixStore({ halfLifeMs: 600_000 }),
        mixSampleEvery: 1,
      });
      let k = 0;
      return (n) => {
        let filled = 0;
        for (let i = 0; i < n; i++) {
          const r = REQS[k]!;
          if (decide(r.placementId, r.userId, r.context).kind === 'filled') filled++;
          k = (k + 1) & MASK;
        }
        sink += filled;
      };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Measurement.

interface Measured {
  /** Mean. */
  nsPerOp: number;
  medianNs: number;
  opsPerSec: number;
  p99Ns: number;
  samples: number;
}
type Outcome = Measured | { error: string };
type Results = Record<string, Outcome>;

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

async function measure(c: Case): Promise<Measured> {
  const run = await c.setup();
  const bench = new Bench({
    time: TIME_MS,
    warmupTime: Math.min(150, TIME_MS / 2),
    timestampProvider: 'hrtimeNow',
    throws: true,
  });
  const ops = c.batch * (c.perCall ?? 1);
  const timed = () => {
    const t0 = bench.now();
    run(c.batch);
    const ms = bench.now() - t0;
    return { overriddenDuration: ms / ops, overriddenIterationCost: ms };
  };
  bench.add(
    c.name,
    c.yields
      ? async () => {
          const r = timed();
          await yieldToLoop();
          return r;
        }
      : timed,
  );
  await bench.run();
  const res = bench.tasks[0]!.result;
  if (res.state === 'errored') throw res.error;
  if (res.state !== 'completed') throw new Error(`task ${res.state}`);
  const nsPerOp = res.latency.mean * 1e6;
  return {
    nsPerOp,
    medianNs: res.latency.p50 * 1e6,
    opsPerSec: 1e9 / nsPerOp,
    p99Ns: res.latency.p99 * 1e6,
    samples: res.latency.samplesCount,
  };
}

async function runAll(): Promise<Results> {
  const out: Results = {};
  for (const c of CASES) {
    process.stderr.write(`  ${c.name} …`);
    try {
      out[c.name] = await measure(c);
      process.stderr.write(' done\n');
    } catch (err) {
      const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
      out[c.name] = { error: first };
      process.stderr.write(` n/a (${first})\n`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reporting.

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function revision(cwd: string): { commit: string; dirty: boolean } {
  try {
    return { commit: git(cwd, 'rev-parse', 'HEAD'), dirty: git(cwd, 'status', '--porcelain') !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

const ns = (x: number): string => (x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en'));
const isMeasured = (o: Outcome | undefined): o is Measured => o !== undefined && !('error' in o);

interface Baseline {
  recorded: string;
  node: string;
  commit: string;
  dirty: boolean;
  timeMsPerCase: number;
  /** Mean ns/op per case. */
  nsPerOp: Record<string, number>;
  /** Median ns/op per case (what the ratios compare). */
  medianNsPerOp?: Record<string, number>;
}

function readBaseline(): Baseline | null {
  if (!existsSync(BASELINE)) return null;
  try {
    return JSON.parse(readFileSync(BASELINE, 'utf8')) as Baseline;
  } catch {
    process.stderr.write(`warning: ${BASELINE} is not readable JSON; ignored\n`);
    return null;
  }
}

function printTable(results: Results, baseline: Baseline | null): void {
  const withBase = baseline !== null && !values.save;
  console.log(
    `| case | ns/op (mean) | median | ops/s | p99 ns/op | samples |${withBase ? ' vs baseline (median) |' : ''}\n` +
      `|---|---:|---:|---:|---:|---:|${withBase ? '---:|' : ''}`,
  );
  for (const c of CASES) {
    const r = results[c.name];
    if (!isMeasured(r)) {
      console.log(`| ${c.name} | n/a | n/a | n/a | n/a | n/a |${withBase ? ' n/a |' : ''}`);
      continue;
    }
    const base = baseline?.medianNsPerOp?.[c.name];
    const ratio = base === undefined ? '—' : `×${(r.medianNs / base).toFixed(2)}`;
    console.log(
      `| ${c.name} | ${ns(r.nsPerOp)} | ${ns(r.medianNs)} | ${Math.round(r.opsPerSec).toLocaleString('en')} | ${ns(r.p99Ns)} | ${r.samples.toLocaleString('en')} |${withBase ? ` ${ratio} |` : ''}`,
    );
  }
}

async function single(): Promise<void> {
  const rev = revision(ROOT);
  if (!values.json) {
    process.stderr.write(
      `${new Date().toISOString()}, node ${process.version}, ${rev.commit.slice(0, 10)}${rev.dirty ? ' + uncommitted changes' : ''}, ${TIME_MS} ms per case\n`,
    );
  }
  const results = await runAll();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ node: process.version, ...rev, results })}\n`);
    return;
  }
  const baseline = values.save ? null : readBaseline();
  printTable(results, baseline);
  for (const c of CASES) {
    const r = results[c.name];
    if (r !== undefined && 'error' in r) console.log(`- n/a, ${c.name}: ${r.error}`);
  }
  if (values.save) {
    const nsPerOp: Record<string, number> = {};
    const medianNsPerOp: Record<string, number> = {};
    for (const c of CASES) {
      const r = results[c.name];
      if (!isMeasured(r)) continue;
      nsPerOp[c.name] = Number(r.nsPerOp.toFixed(2));
      medianNsPerOp[c.name] = Number(r.medianNs.toFixed(2));
    }
    const b: Baseline = {
      recorded: new Date().toISOString(),
      node: process.version,
      commit: rev.commit,
      dirty: rev.dirty,
      timeMsPerCase: TIME_MS,
      nsPerOp,
      medianNsPerOp,
    };
    writeFileSync(BASELINE, `${JSON.stringify(b, null, 2)}\n`);
    console.log(`\nbaseline written to bench/micro-baseline.json`);
  } else if (baseline !== null) {
    console.log(
      `\nvs baseline = this run's median ÷ the median in bench/micro-baseline.json (recorded ${baseline.recorded}, node ${baseline.node}, ` +
        `${baseline.commit.slice(0, 10)}${baseline.dirty ? ' + uncommitted changes' : ''}).\n` +
        'Warning: a baseline recorded at another moment is only indicative (other load on a shared machine, ' +
        'another node, thermal state); to judge a change, compare in one run: --against <git-ref>.',
    );
  } else {
    console.log('\nNo recorded baseline (bench/micro-baseline.json): record one with --save.');
  }
}

// ---------------------------------------------------------------------------------------------
// Old vs new in one run.

/** Runs this script with --json in `cwd`; a failed child gives an empty result (all n/a). */
function child(cwd: string, label: string): Promise<Results> {
  return new Promise((resolve) => {
    process.stderr.write(`${label} (${cwd})\n`);
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/micro.ts', '--json', '--time', String(TIME_MS)],
      {
        cwd,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    running = p;
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    p.on('close', (code) => {
      running = null;
      try {
        resolve((JSON.parse(out.trim().split('\n').pop() ?? '') as { results: Results }).results);
      } catch {
        process.stderr.write(`${label}: exited ${code} without results; its cases are n/a\n`);
        resolve({});
      }
    });
  });
}
let running: ReturnType<typeof spawn> | null = null;

async function against(ref: string): Promise<void> {
  let sha: string;
  try {
    sha = git(ROOT, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  } catch {
    process.stderr.write(`--against ${ref}: not a commit in this repository\n`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'allot-micro-'));
  const tree = join(dir, 'old');
  let removed = false;
  const cleanup = () => {
    if (removed) return;
    removed = true;
    running?.kill('SIGTERM');
    try {
      git(ROOT, 'worktree', 'remove', '--force', tree);
    } catch {
      // Not created, or already gone: prune drops a stale registration.
      try {
        git(ROOT, 'worktree', 'prune');
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      cleanup();
      process.exit(code);
    });
  }
  try {
    git(ROOT, 'worktree', 'add', '--detach', tree, sha);
    symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir');
    mkdirSync(join(tree, 'bench'), { recursive: true });
    copyFileSync(join(ROOT, 'bench', 'micro.ts'), join(tree, 'bench', 'micro.ts'));
    const newRev = revision(ROOT);
    const header =
      `${new Date().toISOString()}, node ${process.version}, ${TIME_MS} ms per case, ${ROUNDS} rounds interleaved\n` +
      `old = ${ref} (${sha.slice(0, 10)}), new = working tree (${newRev.commit.slice(0, 10)}${newRev.dirty ? ' + uncommitted changes' : ''})`;
    process.stderr.write(`${header}\n`);
    const old: Results[] = [];
    const cur: Results[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      old.push(await child(tree, `round ${r}/${ROUNDS}: old`));
      cur.push(await child(ROOT, `round ${r}/${ROUNDS}: new`));
    }
    console.log(`\n${header}`);
    console.log(
      '| case | old ns/op (median) | new ns/op (median) | new/old | old per round | new per round |\n' +
        '|---|---:|---:|---:|---:|---:|',
    );
    const best = (runs: Results[], name: string) => {
      const xs = runs.map((x) => x[name]).filter(isMeasured);
      return xs.length === 0 ? null : Math.min(...xs.map((x) => x.medianNs));
    };
    const perRound = (runs: Results[], name: string) =>
      runs
        .map((x) => x[name])
        .map((o) => (isMeasured(o) ? ns(o.medianNs) : 'n/a'))
        .join(' / ');
    for (const c of CASES) {
      const o = best(old, c.name);
      const n = best(cur, c.name);
      const ratio = o === null || n === null ? 'n/a' : `×${(n / o).toFixed(2)}`;
      console.log(
        `| ${c.name} | ${o === null ? 'n/a' : ns(o)} | ${n === null ? 'n/a' : ns(n)} | ${ratio} | ${perRound(old, c.name)} | ${perRound(cur, c.name)} |`,
      );
    }
    for (const [side, runs] of [
      ['old', old],
      ['new', cur],
    ] as const) {
      for (const c of CASES) {
        const e = runs.map((x) => x[c.name]).find((o) => o !== undefined && 'error' in o);
        if (e !== undefined && 'error' in e) console.log(`- n/a ${side}, ${c.name}: ${e.error}`);
      }
    }
    console.log(
      '\nold/new ns/op: median of the samples, best of the rounds (interference on a shared machine only ' +
        'adds time); means are in --json. ' +
        'n/a: the case could not be set up in that tree (its API differs) or failed.',
    );
  } finally {
    cleanup();
  }
}

if (values.list) for (const c of CASES) console.log(`${c.name}: ${c.what}`);
else if (values.against !== undefined) await against(values.against);
else await single();
if (sink === Number.MIN_VALUE) console.log(sink); // keeps `sink` observable

// Interleaved A/B of embedded Allot under settings variants, each round against the node:http
// hello-world (docs/benchmarks.md, "Comparing settings"). On a shared or virtualised machine the
// CPU cost of the same request drifts by 2× from minute to minute; running the variants in
// rounds, each round with its own hello-world, and comparing the medians of CPU per request ÷
// the round's hello-world is what separates an effect from the drift.
//
//   node bench/env-ab.mjs --variants '{"default":{},"no-archive":{"ALLOT_ARCHIVE_DIR":"off"}}'
//       [--rounds 4] [--duration 4] [--connections 64] [--placements 100] [--ads 20]
//
// Old vs new code: a variant with {"ALLOT_BENCH_BIN": "<other checkout>/bin/allot.js"} runs that
// build (`git worktree add /tmp/base <ref> && cd /tmp/base && npm ci && npm run build`).
//
// Each variant is a set of environment variables for a fresh Allot (embedded, 100 × 20 plan
// seeded through the import), warmed with 1 s of wrk, then measured for --duration seconds.
// Prints per run and the medians: req/s, p99, main-thread user/system CPU µs per request, the
// whole process's CPU µs per request, its minor page faults per request, and the CPU ÷ the
// round's hello-world.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbedded } from './lib/allot-deployment.mjs';
import { startProcess, stopAll, stopProcess } from './lib/processes.mjs';
import { decisionRequests, managerApi, seedPlan } from './lib/workload.mjs';
import { ensureWrk, runWrk, wrkScript } from './lib/wrk.mjs';

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: '{"default":{}}' },
    rounds: { type: 'string', default: '4' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '64' },
    placements: { type: 'string', default: '100' },
    ads: { type: 'string', default: '20' },
  },
});
const problems = [];
let variants = {};
try {
  variants = JSON.parse(values.variants);
  const bad =
    typeof variants !== 'object' ||
    variants === null ||
    Array.isArray(variants) ||
    Object.values(variants).some(
      (v) => typeof v !== 'object' || v === null || Object.values(v).some((x) => typeof x !== 'string'),
    );
  if (bad) problems.push('--variants must be {"name": {"ENV_VAR": "value", …}, …}');
  if ('hello' in variants) problems.push('--variants: "hello" is the baseline’s name');
} catch {
  problems.push('--variants must be JSON');
}
const positive = (name) => {
  const n = Number(values[name]);
  if (!(Number.isInteger(n) && n > 0)) problems.push(`--${name} must be a positive integer`);
  return n;
};
const rounds = positive('rounds');
const duration = positive('duration');
const connections = positive('connections');
const placements = positive('placements');
const ads = positive('ads');
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(2);
}

const TOKEN = 'bench-admin-token-0123456789';
/** [user, system] clock ticks of one thread. */
const threadTicks = (pid, tid) => {
  const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]), Number(f[12])];
};
const processTicks = (pid) => {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [u, s] = threadTicks(pid, tid);
      total += u + s;
    } catch {
      // the thread ended meanwhile
    }
  }
  return total;
};
/**
 * Minor page faults of the whole process so far (/proc/<pid>/stat field 10). On a microVM whose
 * memory is handed back to the host once freed (free page reporting), touching a fresh page cost
 * ~25 µs here (docs/benchmarks.md), so faults per request are part of the CPU figure.
 */
const processFaults = (pid) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[7]);
};
// Clock ticks are 10 ms on Linux (USER_HZ 100): µs per request = ticks × 10,000 / requests.
const perReq = (ticks, requests) => (ticks * 10_000) / requests;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(name, env) {
  const work = mkdtempSync(join(tmpdir(), 'allot-env-ab-'));
  let target;
  let stop;
  try {
    if (env === null) {
      target = await startProcess('hello-world', process.execPath, ['bench/hello-server.mjs'], {
        RESPONSE_BYTES: '504',
      }).ready;
      stop = () => stopProcess(target);
    } else {
      // startProcess passes this process's environment on: set the variant's for the start only.
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      let d;
      try {
        d = await startEmbedded({ workDir: work, token: TOKEN });
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
      stop = d.stop;
      await seedPlan(managerApi(d.manager.port, TOKEN), placements, ads);
      target = d.decision;
    }
    const pid = target.child.pid;
    const script = wrkScript(work, 'decisions', decisionRequests(placements));
    const run = (seconds) =>
      runWrk({
        workDir: work,
        port: target.port,
        path: '/v1/decisions',
        script,
        connections,
        duration: seconds,
      });
    await run(1); // warm-up (JIT, connections)
    const main0 = threadTicks(pid, pid);
    const all0 = processTicks(pid);
    const faults0 = processFaults(pid);
    const w = await run(duration);
    const main1 = threadTicks(pid, pid);
    const all1 = processTicks(pid);
    const faults1 = processFaults(pid);
    return {
      name,
      rps: w.rps,
      p99: w.p99,
      mainUser: perReq(main1[0] - main0[0], w.total),
      mainSys: perReq(main1[1] - main0[1], w.total),
      process: perReq(all1 - all0, w.total),
      faults: (faults1 - faults0) / w.total,
      non2xx: w.non2xx,
    };
  } finally {
    await stop?.();
    rmSync(work, { recursive: true, force: true });
  }
}

const fmt = (n, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
async function main() {
  ensureWrk();
  const results = {};
  console.log(`${new Date().toISOString()}: ${rounds} rounds of ${duration} s, wrk -c${connections}`);
  console.log(
    '| round | server | req/s | p99 ms | main user µs/req | main sys µs/req | process CPU µs/req | page faults/req | × hello |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (let r = 1; r <= rounds; r++) {
    let hello = 0;
    for (const [name, env] of [['hello', null], ...Object.entries(variants)]) {
      const x = await measure(name, env);
      if (x.non2xx > 0) throw new Error(`${name}: ${x.non2xx} non-2xx responses`);
      if (name === 'hello') hello = x.process;
      x.ratio = x.process / hello;
      if (results[name] === undefined) results[name] = [];
      results[name].push(x);
      console.log(
        `| ${r} | ${name} | ${fmt(x.rps, 0)} | ${fmt(x.p99, 2)} | ${fmt(x.mainUser)} | ${fmt(x.mainSys)} | ${fmt(x.process)} | ${fmt(x.faults, 3)} | ${fmt(x.ratio, 2)} |`,
      );
    }
  }
  console.log('\nMedians:\n');
  console.log(
    '| server | req/s | p99 ms | main user µs/req | main sys µs/req | process CPU µs/req | page faults/req | × hello (range) |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, xs] of Object.entries(results)) {
    const m = (k) => median(xs.map((x) => x[k]));
    const ratios = xs.map((x) => x.ratio);
    console.log(
      `| ${name} | ${fmt(m('rps'), 0)} | ${fmt(m('p99'), 2)} | ${fmt(m('mainUser'))} | ${fmt(m('mainSys'))} | ${fmt(m('process'))} | ${fmt(m('faults'), 3)} | ${fmt(m('ratio'), 2)} (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}) |`,
    );
  }
}

try {
  await main();
} finally {
  await stopAll();
}

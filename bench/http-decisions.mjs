// Decision (and impression beacon) throughput against a node:http hello-world baseline, measured
// in the same run on the same machine (docs/benchmarks.md). Needs `wrk` (installed with apt when
// missing; not for --rate) and a build (`npm run bench` does both).
//
//   node bench/http-decisions.mjs [--duration 10] [--connections 64] [--repeats 2]
//       [--warmup 5]                     unmeasured seconds of the same load on each server first
//       [--placements 100] [--ads 20]
//       [--mode embedded|redis|nats]     embedded (default): one process; redis | nats: a fleet
//                                        (manager, decision server, pipeline, controller) on
//                                        PostgreSQL + Redis, events on Redis Streams | JetStream
//       [--workers N]                    ALLOT_WORKERS of the decision server (fleet modes) and
//                                        WORKERS of the hello-world
//       [--target decisions|impressions|both]
//       [--beacons 2000]                 impression beacon URLs collected for --target impressions
//       [--rate R] [--rate-tool paced|autocannon]
//                                        fixed rate: offer R req/s for --duration instead of wrk
//       [--pg-url postgres://postgres@127.0.0.1:5432/postgres] [--redis-url redis://127.0.0.1:6379]
//       [--nats-url 127.0.0.1:4222]
//       [--profile DIR]                  write the decision server's CPU profile (.cpuprofile) to DIR
//                                        and the hello-world's to DIR/hello-world
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbedded, startFleet } from './lib/allot-deployment.mjs';
import { eventLoopDelay } from './lib/event-loop-delay.mjs';
import { runFixedRate } from './lib/fixed-rate.mjs';
import { cpuSince, cpuSnapshot, ROOT, startProcess, stopAll, stopProcess } from './lib/processes.mjs';
import { runTable, saturationNote, summaryTable } from './lib/report.mjs';
import { collectBeacons, decisionRequests, managerApi, seedPlan, waitForPlan } from './lib/workload.mjs';
import { ensureWrk, runWrk, wrkScript } from './lib/wrk.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    repeats: { type: 'string', default: '2' },
    placements: { type: 'string', default: '100' },
    ads: { type: 'string', default: '20' },
    mode: { type: 'string', default: 'embedded' },
    workers: { type: 'string', default: '1' },
    target: { type: 'string', default: 'decisions' },
    beacons: { type: 'string', default: '2000' },
    rate: { type: 'string' },
    'rate-tool': { type: 'string', default: 'paced' },
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    'nats-url': { type: 'string', default: '127.0.0.1:4222' },
    profile: { type: 'string' },
  },
});
const problems = [];
const oneOf = (name, allowed) => {
  if (!allowed.includes(values[name])) problems.push(`--${name} must be one of ${allowed.join(', ')}`);
  return values[name];
};
const positive = (name) => {
  const n = Number(values[name]);
  if (!(Number.isInteger(n) && n > 0)) problems.push(`--${name} must be a positive integer`);
  return n;
};
const mode = oneOf('mode', ['embedded', 'redis', 'nats']);
const targetArg = oneOf('target', ['decisions', 'impressions', 'both']);
const rateTool = oneOf('rate-tool', ['paced', 'autocannon']);
const workers = positive('workers');
const duration = positive('duration');
const warmup = Number(values.warmup);
if (!(Number.isInteger(warmup) && warmup >= 0)) problems.push('--warmup must be 0 or a positive integer');
const connections = positive('connections');
const repeats = positive('repeats');
const placements = positive('placements');
const ads = positive('ads');
const beaconCount = positive('beacons');
const rate = values.rate === undefined ? null : positive('rate');
// The decision server's V8 CPU profile (whole run, seeding included), for `node --cpu-prof`'s
// usual tools (Chrome DevTools, speedscope).
const profileDir = values.profile === undefined ? null : resolve(values.profile);
if (ads < 2) problems.push('--ads must be at least 2 (a fallback and a target)');
if (workers > 1 && mode === 'embedded')
  problems.push(
    '--workers > 1 needs --mode redis or nats (ALLOT_WORKERS is for the decision role of a fleet)',
  );
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(2);
}
const fleet = mode !== 'embedded';
const targets = targetArg === 'both' ? ['decisions', 'impressions'] : [targetArg];
const work = mkdtempSync(join(tmpdir(), 'allot-bench-'));
const TOKEN = 'bench-admin-token-0123456789';

// Everything the run started or created is removed once, on success, error or signal.
let deployment = null;
let interrupted = false;
let cleaning = null;
const cleanup = () => {
  cleaning ??= (async () => {
    try {
      // Every process first (load generators too, in parallel; Allot stops gracefully), then
      // the fleet's shared state.
      await stopAll();
      await deployment?.stop();
    } finally {
      rmSync(work, { recursive: true, force: true, maxRetries: 5 });
    }
  })();
  return cleaning;
};
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the servers and removing the run's state…\n`);
    cleanup().finally(() => process.exit(code));
  });
}

/** One wrk or fixed-rate run of `seconds`, not measured (a warm-up). */
function warm(port, items, script, seconds) {
  return rate === null
    ? runWrk({
        workDir: work,
        port,
        path: items[0].path.split('?')[0],
        script,
        connections,
        duration: seconds,
      })
    : runFixedRate(
        rateTool,
        { workDir: work, port, rate, durationSec: seconds, connections, requests: items },
        () => {},
        () => {},
      );
}

/** CPU of `server` (and the fleet's pipeline) around one wrk or fixed-rate run. */
async function measure(server, pipeline, port, items, script) {
  const watched = pipeline === null ? [server] : [server, pipeline];
  let before;
  let cpu;
  let r;
  if (rate === null) {
    before = cpuSnapshot(watched);
    r = await runWrk({
      workDir: work,
      port,
      path: items[0].path.split('?')[0],
      script,
      connections,
      duration,
    });
    cpu = cpuSince(before, watched);
  } else {
    // Resets the server's histogram. With node:cluster workers each scrape reaches one worker,
    // not necessarily the one reset before, so the delay is only read from a single process.
    if (workers === 1) await eventLoopDelay(port);
    r = await runFixedRate(
      rateTool,
      { workDir: work, port, rate, durationSec: duration, connections, requests: items },
      () => {
        before = cpuSnapshot(watched);
      },
      () => {
        cpu = cpuSince(before, watched);
      },
    );
  }
  const [serverSec, pipelineSec] = cpu.cpuSeconds;
  const loop = rate === null || workers > 1 ? {} : await eventLoopDelay(port);
  return {
    ...r,
    ...loop,
    cpuUsPerReq: (serverSec * 1e6) / r.total,
    cpuPct: (serverSec / cpu.wallSeconds) * 100,
    ...(pipeline === null ? {} : { pipelineUsPerReq: (pipelineSec * 1e6) / r.total }),
  };
}

async function main() {
  if (rate === null) ensureWrk();
  execFileSync(process.execPath, ['scripts/ensure.mjs', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const startedAt = new Date();
  deployment = fleet
    ? await startFleet({
        workDir: work,
        token: TOKEN,
        bus: mode,
        workers,
        pgUrl: values['pg-url'],
        redisUrl: values['redis-url'],
        natsUrl: values['nats-url'],
        onStop: (stop) => {
          deployment = { stop };
        },
        profileDir,
      })
    : await startEmbedded({ workDir: work, token: TOKEN, profileDir });
  const { manager, decision, pipeline, label } = deployment;
  const t0 = Date.now();
  await seedPlan(managerApi(manager.port, TOKEN), placements, ads);
  process.stderr.write(`seeded ${placements}×${ads} in ${Date.now() - t0} ms\n`);
  if (fleet) {
    const revision = await waitForPlan(manager.port, decision.port, workers);
    process.stderr.write(`decision server on plan revision ${revision}\n`);
  }

  // Sample responses, so the baseline answers the same number of bytes.
  const sample = await fetch(`http://127.0.0.1:${decision.port}/v1/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      placementId: `pl${Math.min(1, placements - 1)}`,
      userId: 'u1',
      context: { country: 'DE', age: 30 },
    }),
  });
  const bytes = (await sample.text()).length;
  const workloads = {
    decisions: { items: decisionRequests(placements) },
  };
  let beacon = null;
  if (targets.includes('impressions')) {
    const t1 = Date.now();
    const items = await collectBeacons(decision.port, workloads.decisions.items, beaconCount);
    const res = await fetch(`http://127.0.0.1:${decision.port}${items[0].path}`);
    beacon = { status: res.status, bytes: (await res.arrayBuffer()).byteLength };
    if (res.status >= 300) throw new Error(`impression beacon answered ${res.status}`);
    workloads.impressions = { items };
    process.stderr.write(`collected ${items.length} impression beacons in ${Date.now() - t1} ms\n`);
  }
  for (const t of targets)
    workloads[t].script = rate === null ? wrkScript(work, t, workloads[t].items) : null;

  // --profile: the hello-world's profile too (DIR/hello-world), to compare the same frames.
  const helloProfile =
    profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, 'hello-world')}`];
  const hello = startProcess('hello-world', process.execPath, [...helloProfile, 'bench/hello-server.mjs'], {
    PORT: '0',
    RESPONSE_BYTES: String(bytes),
    GET_RESPONSE_BYTES: String(beacon?.bytes ?? 0),
    WORKERS: String(workers),
  });
  await hello.ready;

  const w = workers > 1 ? `, ${workers} workers` : '';
  const names = {
    decisions: {
      hello: `node:http hello-world (parse JSON, same-size JSON${w})`,
      allot: `Allot POST /v1/decisions (${label})`,
    },
    impressions: {
      hello: `node:http hello-world (GET, same-size response${w})`,
      allot: `Allot GET /v1/events/impression (${label})`,
    },
  };
  const rows = [];
  // Unmeasured warm-up of each server on each target, so that the runs see compiled code (V8
  // was still optimising Allot's functions, ~1.7 s of TurboFan time, in the 8 s after a 2 s
  // warm-up: docs/benchmarks.md).
  if (warmup > 0) {
    for (const t of targets) {
      const { items, script } = workloads[t];
      for (const port of [hello.port, decision.port]) await warm(port, items, script, warmup);
    }
  }
  for (let r = 1; r <= repeats; r++) {
    for (const t of targets) {
      const { items, script } = workloads[t];
      const h = await measure(hello, null, hello.port, items, script);
      rows.push({ run: r, target: t, server: names[t].hello, ...h });
      const d = await measure(decision, pipeline, decision.port, items, script);
      const ratio = rate === null ? d.rps / h.rps : d.cpuUsPerReq / h.cpuUsPerReq;
      rows.push({ run: r, target: t, server: names[t].allot, ...d, ratio });
    }
  }
  await stopProcess(hello);

  const load =
    rate === null
      ? `wrk -t1 -c${connections} -d${duration}s`
      : `${rateTool} ${rate} req/s -c${connections} -d${duration}s`;
  const extra = [
    mode === 'embedded' ? null : `mode ${mode} (${label})`,
    beacon === null ? null : `beacon response ${beacon.bytes} bytes (${beacon.status})`,
  ].filter((x) => x !== null);
  console.log(
    `\n${load}, ${placements} placements × ${ads} ads, response ${bytes} bytes${extra.map((x) => `, ${x}`).join('')}, ${new Date().toISOString()}`,
  );
  console.log(runTable(rows, { rate, fleet }));

  const notes = [saturationNote(rows)];
  if (beacon !== null)
    notes.push(
      `Impressions: ${beaconCount} beacon URLs from real decisions, cycled; after the first pass every beacon is a replay, which Allot verifies and publishes like a first one and its consumers count once (deduplicated by event id) — the server's cost per beacon is that of a real one.`,
    );
  if (fleet)
    notes.push(
      `Server CPU: the decision server's processes (primary${workers > 1 ? ` + ${workers} workers` : ''}); pipeline CPU separately, per Allot request of the same run (it consumes up to ALLOT_COUNT_INTERVAL_MS behind); manager, controller, Redis${mode === 'nats' ? ', NATS' : ''} and PostgreSQL not counted.`,
    );
  if (fleet && beacon !== null)
    notes.push(
      rate === null
        ? 'A fleet answers a beacon after its bus publish, gathered for ALLOT_PUBLISH_LINGER_MS (20 ms by default): under wrk (closed loop), impressions/s ≤ connections ÷ linger.'
        : `A fleet answers a beacon after its bus publish, gathered for ALLOT_PUBLISH_LINGER_MS (20 ms by default): offering R impressions/s needs about R × 25 ms connections (--connections ${Math.ceil((rate * 0.025) / 64) * 64} at ${rate} req/s).`,
    );
  const date = startedAt.toISOString().replace('T', ' ').slice(0, 16);
  const params = [
    `**${date} UTC**`,
    `mode ${mode}`,
    `workers ${workers}`,
    `target ${targetArg}`,
    rate === null
      ? `wrk -t1 -c${connections} -d${duration}s`
      : `${rateTool} fixed rate ${rate.toLocaleString('en-US')} req/s, ${connections} connections, ${duration} s`,
    `${repeats} repeat${repeats > 1 ? 's (medians)' : ''}`,
    `plan ${placements} placements × ${ads} ads`,
    `decision response ${bytes} bytes${beacon === null ? '' : `, beacon ${beacon.bytes} bytes (${beacon.status})`}`,
  ];
  console.log(`\nSummary (markdown):\n\n${params.join(' · ')}\n`);
  console.log(summaryTable(rows, { rate, fleet }));
  for (const n of notes.filter((x) => x !== null)) console.log(`\n${n}`);
}

main()
  .catch((err) => {
    if (!interrupted) console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    // Exit even if a client library left a handle open.
    if (!interrupted) process.exit(process.exitCode ?? 0);
  });

// Soak: Allot (embedded, built) for --minutes under a fixed offered rate of decisions plus the
// impression beacon of every decision answered, and at the end a check that every answered
// decision and acknowledged impression was counted exactly once. Not part of CI
// (docs/benchmarks.md holds the figures).
//
//   npm run bench:soak -- [--minutes 10] [--rate 10000] [--every 30] [--connections 128]
//                         [--placements 100] [--ads 20]
//
// Load: windows of --every seconds. In each, the open-loop paced client (bench/lib/paced-client.mjs,
// latency from each request's due time) offers --rate decisions/s, and a second one fires, spread
// evenly over the window, the impression beacons of the decisions answered in the previous window
// (each once: a viewable impression some seconds after its decision). Per window it prints
// decisions/s and beacons/s achieved, latency p50/p99 of each, errors (non-2xx, lost connections,
// unanswered), the server's CPU (% of one core), its time in GC pauses (% of the window, from
// /metrics), RSS and V8 heap used (the rest of RSS is DuckDB's, buffers and code).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbedded } from './lib/allot-deployment.mjs';
import { runFixedRate } from './lib/fixed-rate.mjs';
import { cpuSince, cpuSnapshot, stopAll } from './lib/processes.mjs';
import { decisionRequests, managerApi, seedPlan } from './lib/workload.mjs';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '10000' },
    every: { type: 'string', default: '30' },
    connections: { type: 'string', default: '128' },
    placements: { type: 'string', default: '100' },
    ads: { type: 'string', default: '20' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const every = Number(values.every);
const connections = Number(values.connections);
const windows = Math.max(1, Math.round((minutes * 60) / every));
const TOKEN = 'soak-admin-token-0123456789';
const workDir = mkdtempSync(join(tmpdir(), 'allot-soak-'));

const memory = (pid) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024);
};
/** Sum of a metric's samples on /metrics, optionally only those whose labels include `label`. */
const metric = async (port, name, label = '') => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!line.includes(label)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
};
const fmt = (n, d = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
    : '-';

let allot = null;
const stop = async () => {
  await stopAll(15_000);
  rmSync(workDir, { recursive: true, force: true, maxRetries: 5 });
};
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => stop().then(() => process.exit(130)));

try {
  allot = await startEmbedded({ workDir, token: TOKEN });
  const port = allot.decision.port;
  const api = managerApi(port, TOKEN);
  const t0 = Date.now();
  await seedPlan(api, Number(values.placements), Number(values.ads));
  process.stderr.write(`seeded ${values.placements}×${values.ads} in ${Date.now() - t0} ms\n`);
  const requests = decisionRequests(Number(values.placements), 20_000);
  const counts = async () => ({
    decisions: await metric(port, 'allot_events_counted_total', 'type="decision"'),
    impressions: await metric(port, 'allot_events_counted_total', 'type="impression"'),
    archived: await metric(port, 'allot_events_archived_total'),
  });
  const counted0 = await counts();

  const rows = [];
  const totals = { decisions: 0, beacons: 0, failed: 0, unanswered: 0 };
  let pending = []; // the previous window's impression URLs
  console.log(
    `soak ${new Date().toISOString()}: ${minutes} min, ${rate} decisions/s offered + their impressions, ` +
      `${values.placements}×${values.ads} plan, ${connections} connections per client, windows of ${every} s`,
  );
  const gcSeconds = () => metric(port, 'allot_nodejs_gc_duration_seconds_sum');
  let gcBefore = await gcSeconds();
  for (let w = 0; w < windows; w++) {
    const file = join(workDir, `impressions-${w}.json`);
    const procs = [allot.decision];
    let before = null;
    const decisions = runFixedRate(
      'paced',
      { workDir, port, rate, durationSec: every, connections, requests, saveImpressionsTo: file },
      () => {
        before = cpuSnapshot(procs);
      },
      () => undefined,
    );
    const beacons =
      pending.length === 0
        ? Promise.resolve(null)
        : runFixedRate(
            'paced',
            {
              workDir,
              port,
              rate: pending.length / every,
              durationSec: every,
              connections,
              requests: pending.map((path) => ({ method: 'GET', path })),
            },
            () => undefined,
            () => undefined,
          );
    const [d, b] = await Promise.all([decisions, beacons]);
    const cpu = cpuSince(before, procs);
    const gcNow = await gcSeconds();
    const gcPct = ((gcNow - gcBefore) / cpu.wallSeconds) * 100;
    gcBefore = gcNow;
    pending = JSON.parse(readFileSync(file, 'utf8'));
    // Refused or failed (non-2xx, connection lost) vs never answered in time (not sent for want of
    // a free connection, or no answer within 5 s of the window's end): an overload shows as the latter.
    const failed = (r) => (r === null ? 0 : r.non2xx + r.errors);
    const unanswered = (r) => (r === null ? 0 : r.unanswered);
    const row = {
      t: (w + 1) * every,
      decisions: d.achieved,
      decisionsOk: d.total - d.non2xx,
      dP50: d.p50,
      dP99: d.p99,
      beacons: b?.achieved ?? 0,
      beaconsOk: b === null ? 0 : b.total - b.non2xx,
      bP50: b?.p50 ?? Number.NaN,
      bP99: b?.p99 ?? Number.NaN,
      failed: failed(d) + failed(b),
      unanswered: unanswered(d) + unanswered(b),
      cpuPct: (cpu.cpuSeconds[0] / cpu.wallSeconds) * 100,
      rssMiB: memory(allot.decision.pid),
      heapMiB: Math.round((await metric(port, 'allot_nodejs_heap_size_used_bytes')) / 2 ** 20),
      gcPct,
    };
    totals.decisions += row.decisionsOk;
    totals.beacons += row.beaconsOk;
    totals.failed += row.failed;
    totals.unanswered += row.unanswered;
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  // The last window's impressions are not fired: their decisions count, their beacons do not.
  const deadline = Date.now() + 60_000;
  let counted;
  for (;;) {
    const now = await counts();
    counted = {
      decisions: now.decisions - counted0.decisions,
      impressions: now.impressions - counted0.impressions,
      archived: now.archived - counted0.archived,
    };
    const expected = totals.decisions + totals.beacons;
    if (
      (counted.decisions >= totals.decisions &&
        counted.impressions >= totals.beacons &&
        counted.archived >= expected) ||
      Date.now() > deadline
    )
      break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const shed = await metric(port, 'allot_events_shed_total');

  console.log(
    '\n| t (s) | decisions/s | p50 ms | p99 ms | beacons/s | p50 ms | p99 ms | failed | unanswered | server CPU % | GC % | RSS MiB | heap MiB |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.t} | ${fmt(r.decisions)} | ${fmt(r.dP50, 2)} | ${fmt(r.dP99, 2)} | ${fmt(r.beacons)} | ` +
        `${fmt(r.bP50, 2)} | ${fmt(r.bP99, 2)} | ${r.failed} | ${r.unanswered} | ${fmt(r.cpuPct)} | ${fmt(r.gcPct, 1)} | ${r.rssMiB} | ${r.heapMiB} |`,
    );
  }
  console.log(
    `\ntotal: ${fmt(totals.decisions)} decisions answered 200, ${fmt(totals.beacons)} impressions acknowledged, ` +
      `${totals.failed} failed, ${totals.unanswered} unanswered; counted by the aggregator: ${fmt(counted.decisions)} decisions, ` +
      `${fmt(counted.impressions)} impressions (exact: ${
        counted.decisions === totals.decisions && counted.impressions === totals.beacons ? 'yes' : 'NO'
      }); archived: ${fmt(counted.archived)} events (exact: ${
        counted.archived === totals.decisions + totals.beacons ? 'yes' : 'NO'
      }); events shed: ${shed}`,
  );
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await stop();
}

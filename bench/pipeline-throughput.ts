// Events/s through the real pipeline consumers: the aggregator counting into Redis and the
// archiver writing Parquet, fed by Redis Streams and by NATS JetStream (docs/benchmarks.md).
//
//   npm run bench:pipeline                 # = tsx bench/pipeline-throughput.ts
//   npm run bench:pipeline -- --events 200000 --repeats 1 --buses nats
//
// Needs Redis on ALLOT_REDIS_URL (redis://127.0.0.1:6379) and NATS on ALLOT_NATS_URL
// (127.0.0.1:4222). Per bus and repeat, in a fresh Redis prefix / JetStream stream:
//  1. the consumer groups are created (subscribed and stopped, so they start before the events);
//  2. `--events` events (decisions, and an impression for 80 % of them) are published in
//     publishes of `--batch` by a publishing bus instance (the decision servers' side);
//  3. a second bus instance (the pipeline process's side) runs the aggregator (Redis counter
//     store, exact counting, a 500 ms count interval as `ALLOT_COUNT_INTERVAL_MS` defaults with a
//     broker) and the archiver (Parquet into a local folder, `ALLOT_ARCHIVE_FLUSH_MS` 5 s) side
//     by side, until the aggregator has counted and the archiver written every event; then, on
//     a third stream, `split`: the archiver in a worker thread of its own (pipeline/
//     archiver-thread.ts), as a second pipeline process with ALLOT_PIPELINE_STAGES=archive;
//  4. both results are checked: the Redis counters sum to `--events` and DuckDB counts
//     `--events` distinct ids (and rows) in the Parquet files.
// The Redis prefix, the stream and the temporary folder are removed afterwards, on error too.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createFolderArchiveStore } from '../src/adapters/file/folder-archive-store.js';
import { createRedisConnection } from '../src/adapters/redis/redis-client.js';
import { createRedisCounterStore } from '../src/adapters/redis/redis-counter-store.js';
import { createRedisFrequencyStore } from '../src/adapters/redis/redis-frequency-store.js';
import { ARCHIVER_GROUP, startArchiver } from '../src/archive/archiver.js';
import { createParquetArchive } from '../src/archive/parquet-archive.js';
import type { AllotEvent } from '../src/core/events/allot-event.js';
import { eventId } from '../src/core/events/allot-event.js';
import { EMPTY_PLAN } from '../src/core/plan/plan.js';
import type { EventBus } from '../src/core/ports/event-bus.js';
import { HOUR_MS } from '../src/core/window/allocation-window.js';
import { AGGREGATOR_GROUP, startAggregator } from '../src/pipeline/aggregator.js';
import { EXACT_SAMPLING } from '../src/pipeline/sampling-policy.js';
import { type Cpu, countParquet, deleteStream, meter, unlinkPrefix } from './pipeline/measure.js';
import { type BusName, openBus as openPhaseBus } from './pipeline/open-bus.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    batch: { type: 'string', default: '1000' },
    repeats: { type: 'string', default: '2' },
    buses: { type: 'string', default: 'redis,nats' },
    placements: { type: 'string', default: '100' },
    ads: { type: 'string', default: '20' },
    'timeout-s': { type: 'string', default: '300' },
  },
});
const E = Number(values.events);
const B = Number(values.batch);
const PLACEMENTS = Number(values.placements);
const ADS = Number(values.ads);
const redisUrl = process.env.ALLOT_REDIS_URL ?? 'redis://127.0.0.1:6379';
const natsUrl = process.env.ALLOT_NATS_URL ?? '127.0.0.1:4222';
const tag = randomBytes(3).toString('hex');
/** ALLOT_IMPRESSION_TTL_SECONDS / ALLOT_CLICK_TTL_SECONDS defaults, as `createAllot` turns them into TTLs. */
const DEDUP_TTL_MS = { decision: 900_000, impression: 960_000, click: 86_460_000 };
/** `ALLOT_COUNT_INTERVAL_MS` and `ALLOT_ARCHIVE_FLUSH_MS` defaults with a broker. */
const COUNT_INTERVAL_MS = 500;
const ARCHIVE_FLUSH_MS = 5000;

/**
 * E events as decision servers and beacons produce them: decision `d`, then (80 %) its
 * impression, over the last minute; placement uniform, user out of 100K or anonymous (30 %).
 */
function makeEvents(n: number): AllotEvent[] {
  const out: AllotEvent[] = [];
  const t0 = Date.now() - 60_000;
  let seed = 7;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  while (out.length < n) {
    const decisionId = randomUUID();
    const p = Math.floor(rand() * PLACEMENTS);
    const ts = t0 + Math.floor((out.length / n) * 59_000);
    const base = {
      ts,
      decisionId,
      placementId: `pl${p}`,
      adId: `p${p}-a${Math.floor(rand() * ADS)}`,
      userId: rand() < 0.3 ? null : `u${1 + Math.floor(rand() * 100_000)}`,
    };
    out.push({ ...base, id: eventId(decisionId, 'decision'), type: 'decision' });
    if (out.length < n && rand() < 0.8) {
      out.push({ ...base, id: eventId(decisionId, 'impression'), type: 'impression', ts: ts + 800 });
    }
  }
  return out;
}

/** Cleanups registered as resources are created; run in reverse, also on SIGINT/SIGTERM. */
const cleanups: Array<() => Promise<unknown>> = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    await cleanups.pop()!().catch((err: unknown) => process.stderr.write(`cleanup failed: ${String(err)}\n`));
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}

interface Phase {
  publishPerSec: number;
  publishCpu: Cpu;
  /** Events/s of each consumer, from its start to its last event. */
  aggregatorPerSec: number;
  archiverPerSec: number;
  /** Side by side only: from their common start until both are done. */
  bothPerSec: number;
  /** Alone: the aggregator's, then the archiver's; side by side: both together. */
  consumerCpu: Cpu[];
  counted: number;
  archivedRows: number;
  archivedIds: number;
  files: number;
}

interface Run {
  bus: BusName;
  repeat: number;
  alone: Phase;
  both: Phase;
  split: Phase;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Alone: one consumer after the other; both: side by side in this thread; split: the archiver in a worker thread. */
type Mode = 'alone' | 'both' | 'split';

/**
 * One fresh stream (Redis prefix or JetStream stream) filled with `events`, then consumed by the
 * aggregator and the archiver: one after the other (`alone`) or side by side (`both`).
 */
async function phase(busName: BusName, mode: Mode, repeat: number, events: AllotEvent[]) {
  const client = await createRedisConnection(redisUrl);
  cleanups.push(() => client.quit());
  const id = `${tag}-${repeat}-${busName === 'Redis Streams' ? 'r' : 'n'}-${mode}`;
  const prefix = `allot-bench-pipe-${id}`;
  cleanups.push(() => unlinkPrefix(client, prefix));
  const stream = `ALLOT_BENCH_PIPE_${id.replaceAll('-', '_')}`;
  const dir = await mkdtemp(join(tmpdir(), 'allot-bench-pipe-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const place = { busName, redisUrl, natsUrl, prefix, stream };
  if (busName === 'NATS JetStream') cleanups.push(() => deleteStream(natsUrl, stream));
  const openBus = (side: 'publish' | 'consume'): Promise<EventBus> =>
    openPhaseBus(place, {
      // The publishing side fills the stream before the consumers run: NATS's back-pressure
      // limit (100K events outstanding by default) would stop it at 100K.
      ...(side === 'publish' ? { capacity: E * 2 } : {}),
      onClose: (fn) => cleanups.push(fn),
    });

  // The pipeline process's bus, with its groups created (and stopped) before any event.
  const consumerBus = await openBus('consume');
  cleanups.push(() => consumerBus.close());
  for (const group of [AGGREGATOR_GROUP, ARCHIVER_GROUP]) {
    await consumerBus
      .subscribe(group, async () => {
        throw new Error('not started');
      })
      .stop();
  }

  // The decision servers' side.
  const publisher = await openBus('publish');
  const tp = performance.now();
  const publishMeter = await meter(client, E);
  for (let i = 0; i < events.length; i += B) await publisher.publish(events.slice(i, i + B));
  const publishMs = performance.now() - tp;
  const publishCpu = await publishMeter();
  await publisher.close();

  const counters = createRedisCounterStore({ client, prefix });
  const frequency = createRedisFrequencyStore({ client, prefix });
  cleanups.push(() => frequency.close());
  const archive = await createParquetArchive({
    store: createFolderArchiveStore({ dir: join(dir, 'archive') }),
    stagingDir: join(dir, 'staging'),
  });
  cleanups.push(() => archive.close());
  let counted = 0;
  let written = 0;
  let aggregatorMs = Number.NaN;
  let archiverMs = Number.NaN;
  const deadline = Date.now() + Number(values['timeout-s']) * 1000;
  const until = async (done: () => boolean) => {
    while (!done() && Date.now() < deadline) await sleep(5);
  };
  const startCounting = (t0: number) =>
    startAggregator({
      bus: consumerBus,
      batching: { lingerMs: COUNT_INTERVAL_MS, maxBatch: 50_000 },
      counters,
      frequency,
      plan: () => EMPTY_PLAN,
      clock: Date.now,
      sampling: EXACT_SAMPLING,
      dedupTtlMs: DEDUP_TTL_MS,
      onCounted: (_type, n, duplicates) => {
        counted += n + duplicates;
        if (counted >= E && Number.isNaN(aggregatorMs)) aggregatorMs = performance.now() - t0;
      },
    });
  const startArchiving = (t0: number) =>
    startArchiver({
      bus: consumerBus,
      archive,
      lingerMs: ARCHIVE_FLUSH_MS,
      onWritten: (n) => {
        written += n;
        if (written >= E && Number.isNaN(archiverMs)) archiverMs = performance.now() - t0;
      },
    });

  let bothMs = Number.NaN;
  const consumerCpu: Cpu[] = [];
  if (mode === 'alone') {
    let m = await meter(client, E);
    const aggregator = startCounting(performance.now());
    await until(() => counted >= E);
    consumerCpu.push(await m());
    await aggregator.stop();
    m = await meter(client, E);
    const archiver = startArchiving(performance.now());
    await until(() => written >= E);
    consumerCpu.push(await m());
    await archiver.stop();
  } else if (mode === 'split') {
    // The archiver in a worker thread (its own event loop, bus connection and DuckDB), as a
    // second pipeline process with ALLOT_PIPELINE_STAGES=archive would run it.
    const worker = new Worker(new URL('./pipeline/archiver-thread.mjs', import.meta.url), {
      workerData: { ...place, dir, events: E, flushMs: ARCHIVE_FLUSH_MS },
    });
    const next = (type: string) =>
      new Promise<void>((resolve, reject) => {
        const on = (msg: { type: string }) => {
          if (msg.type !== type) return;
          worker.off('message', on);
          resolve();
        };
        worker.on('message', on);
        worker.once('error', reject);
      });
    await next('ready');
    const m = await meter(client, E);
    const t0 = performance.now();
    const aggregator = startCounting(t0);
    const archived = next('done').then(() => {
      written = E;
      archiverMs = performance.now() - t0;
    });
    worker.postMessage({ type: 'start' });
    await until(() => counted >= E && written >= E);
    if (counted >= E && written >= E) bothMs = performance.now() - t0;
    consumerCpu.push(await m());
    await aggregator.stop();
    const stopped = next('stopped');
    worker.postMessage({ type: 'stop' });
    await Promise.race([Promise.all([archived, stopped]), sleep(30_000)]);
    await worker.terminate();
  } else {
    const m = await meter(client, E);
    const t0 = performance.now();
    const aggregator = startCounting(t0);
    const archiver = startArchiving(t0);
    await until(() => counted >= E && written >= E);
    if (counted >= E && written >= E) bothMs = performance.now() - t0;
    consumerCpu.push(await m());
    await aggregator.stop();
    await archiver.stop();
  }

  // What landed: the live counters in Redis, and the Parquet files (DuckDB).
  const from = Math.floor(events[0]!.ts / HOUR_MS) * HOUR_MS;
  const to = events[events.length - 1]!.ts + 1;
  const reader = createRedisCounterStore({ client, prefix, closedBucketRefreshMs: 0 });
  let sum = 0;
  for (let p = 0; p < PLACEMENTS; p++) {
    for (const c of (await reader.read(`pl${p}`, from, to)).values()) sum += c.decisions + c.impressions;
  }
  const parquet = await countParquet(join(dir, 'archive'));
  await cleanUp();
  const rate = (ms: number) => E / (ms / 1000);
  const result: Phase = {
    publishPerSec: rate(publishMs),
    publishCpu,
    aggregatorPerSec: rate(aggregatorMs),
    archiverPerSec: rate(archiverMs),
    bothPerSec: rate(bothMs),
    consumerCpu,
    counted: sum,
    archivedRows: parquet.rows,
    archivedIds: parquet.ids,
    files: parquet.files,
  };
  process.stderr.write(`  ${busName} ${mode}: ${JSON.stringify(result)}\n`);
  return result;
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'did not finish');

const started = new Date().toISOString();
const events = makeEvents(E);
const decisions = events.filter((e) => e.type === 'decision').length;
const runs: Run[] = [];
try {
  for (let r = 1; r <= Number(values.repeats); r++) {
    for (const bus of values.buses.split(',')) {
      const name = bus === 'redis' ? 'Redis Streams' : bus === 'nats' ? 'NATS JetStream' : null;
      if (name === null) throw new Error(`--buses: redis or nats, got "${bus}"`);
      process.stderr.write(`run ${r}, ${name}…\n`);
      const alone = await phase(name, 'alone', r, events);
      const both = await phase(name, 'both', r, events);
      const split = await phase(name, 'split', r, events);
      runs.push({ bus: name, repeat: r, alone, both, split });
    }
  }
} finally {
  await cleanUp();
}

console.log(
  `\n${started}, ${E.toLocaleString('en')} events (${decisions.toLocaleString('en')} decisions, ${(E - decisions).toLocaleString('en')} impressions) over ${PLACEMENTS} placements × ${ADS} ads, publishes of ${B}`,
);
console.log(
  '| bus | run | stage | events/s | CPU µs/event, this process | CPU µs/event, Redis server |\n|---|---|---|---|---|---|',
);
const us = (c: Cpu | undefined) =>
  c === undefined ? ' | ' : `${c.nodeUs.toFixed(1)} | ${c.redisUs.toFixed(1)}`;
for (const { bus, repeat, alone, both, split } of runs) {
  const row = (stage: string, v: string, cpu = ' | ') =>
    console.log(`| ${bus} | ${repeat} | ${stage} | ${v} | ${cpu} |`);
  row('publish', fmt(alone.publishPerSec), us(alone.publishCpu));
  row('publish (2nd stream)', fmt(both.publishPerSec), us(both.publishCpu));
  row('aggregator alone (Redis counters)', fmt(alone.aggregatorPerSec), us(alone.consumerCpu[0]));
  row('archiver alone (Parquet)', fmt(alone.archiverPerSec), us(alone.consumerCpu[1]));
  row('aggregator, beside the archiver', fmt(both.aggregatorPerSec));
  row('archiver, beside the aggregator', fmt(both.archiverPerSec));
  row('**both**, side by side', `**${fmt(both.bothPerSec)}**`, us(both.consumerCpu[0]));
  row('aggregator, archiver in a thread of its own', fmt(split.aggregatorPerSec));
  row('archiver in its own thread', fmt(split.archiverPerSec));
  row('**both, split** (own threads)', `**${fmt(split.bothPerSec)}**`, us(split.consumerCpu[0]));
}
console.log(
  '\n| bus | run | consumers | counters sum | Parquet rows | distinct ids | files | all there |\n|---|---|---|---|---|---|---|---|',
);
let ok = true;
for (const { bus, repeat, alone, both, split } of runs) {
  for (const [mode, r] of [
    ['one after the other', alone],
    ['side by side', both],
    ['split (archiver thread)', split],
  ] as const) {
    const complete = r.counted === E && r.archivedRows === E && r.archivedIds === E;
    ok &&= complete;
    console.log(
      `| ${bus} | ${repeat} | ${mode} | ${fmt(r.counted)} | ${fmt(r.archivedRows)} | ${fmt(r.archivedIds)} | ${r.files} | ${complete ? 'yes' : 'NO'} |`,
    );
  }
}
if (!ok) process.exitCode = 1;

// How large an archive hour the DuckDB jobs of a server handle within ALLOT_DUCKDB_MEMORY_LIMIT:
// generates --events events in one hour partition (over --files files, as the archiver writes
// them: one per flush), then runs the real compaction (`compactArchive`) and the real rollup
// refresh (`createDuckDbAnalytics(...).refresh()`, which builds that hour's and day's rollups),
// each with one DuckDB thread and --memory, and prints whether each finished, its time, and the
// process's peak RSS. Both deduplicate by event id over the whole hour.
// --hours H spreads the events over H hours of one day instead (--files per hour): the hours'
// rollups stay small and the day's — unique users per day read every event of the day — does not.
// --open-rounds R then plays a dashboard on that day while it is still today: the clock set to
// half an hour into the last hour, R rounds of one more small file in that (open) hour, one
// simulated minute, and a refresh with days (a day report), timed — once with the default
// throttle of the open hour's and day's rebuilds and once without (`openRebuild` factor 0).
// Run: npx tsx bench/archive-hour.ts [--events 5000000] [--files 60] [--hours 1] [--memory 1GB]
//        [--open-rounds 0]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { createFolderArchiveStore } from '../src/adapters/file/folder-archive-store.js';
import { createDuckDbAnalytics } from '../src/analytics/duckdb-analytics.js';
import { compactArchive } from '../src/archive/compactor.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000000' },
    files: { type: 'string', default: '60' },
    hours: { type: 'string', default: '1' },
    memory: { type: 'string', default: '1GB' },
    'open-rounds': { type: 'string', default: '0' },
  },
});
const N = Number(values.events);
const FILES = Number(values.files);
const HOURS = Number(values.hours);
const OPEN_ROUNDS = Number(values['open-rounds']);
const duckdb = { memoryLimit: values.memory, threads: 1 };
if (!(N > 0 && FILES > 0 && HOURS >= 1 && HOURS <= 24 && Number.isInteger(HOURS)))
  throw new Error('--events and --files must be positive, --hours 1 to 24');
if (!(Number.isInteger(OPEN_ROUNDS) && OPEN_ROUNDS >= 0)) throw new Error('--open-rounds must be 0 or more');

const root = mkdtempSync(join(tmpdir(), 'allot-bench-hour-'));
const hourDir = (h: number) => join(root, 'events', 'dt=2026-06-01', `hour=${String(h).padStart(2, '0')}`);
const n = (x: number) => x.toLocaleString('en');
const rss = () => `${n(Math.round(process.resourceUsage().maxRSS / 1024))} MiB peak RSS so far`;

async function step(name: string, run: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  try {
    const r = await run();
    console.log(`${name}: ok in ${n(Math.round(performance.now() - t0))} ms ${JSON.stringify(r)}; ${rss()}`);
  } catch (err) {
    const first = String(err).split('\n')[0];
    console.log(`${name}: FAILED after ${n(Math.round(performance.now() - t0))} ms: ${first}; ${rss()}`);
  }
}

try {
  // Events as the decision path makes them: each decision, then its impression for 80 %.
  const gen = await DuckDBInstance.create(':memory:');
  const g = await gen.connect();
  /** Events r in [from, to) of the day's N, spread evenly over its HOURS hours, into one file. */
  const write = (hour: number, from: number, to: number, name: string) =>
    g.run(`COPY (
      SELECT md5(r::VARCHAR) || CASE WHEN r % 5 = 4 THEN ':impression' ELSE ':decision' END AS id,
             CASE WHEN r % 5 = 4 THEN 'impression' ELSE 'decision' END AS type,
             TIMESTAMP '2026-06-01 00:00:00' + to_microseconds((least(r, ${N - 1}) * ${HOURS * 3600000000} // ${N})::BIGINT) AS ts,
             md5(r::VARCHAR) AS decision_id, 'pl' || (r % 100) AS placement_id,
             'p' || (r % 100) || '-a' || (r % 20) AS ad_id,
             CASE WHEN r % 7 = 0 THEN NULL ELSE 'u' || (r % 100000) END AS user_id, 1 AS schema_version
      FROM range(${from}, ${to}) t(r)
    ) TO '${join(hourDir(hour), name)}' (FORMAT PARQUET, COMPRESSION ZSTD)`);
  const t0 = performance.now();
  for (let f = 0; f < FILES * HOURS; f++) {
    const hour = Math.floor(f / FILES);
    mkdirSync(hourDir(hour), { recursive: true });
    const from = Math.floor((N * f) / (FILES * HOURS));
    const to = Math.floor((N * (f + 1)) / (FILES * HOURS));
    await write(hour, from, to, `events-v1-${String(f).padStart(4, '0')}.parquet`);
  }
  console.log(
    `${n(N)} events in ${HOURS} hour(s) of one day, ${FILES} files an hour, generated in ${n(Math.round(performance.now() - t0))} ms; ` +
      `DuckDB memory_limit ${duckdb.memoryLimit}, 1 thread`,
  );

  await step(`rollup refresh (${HOURS} hour(s) + the day)`, async () => {
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0, duckdb });
    try {
      return await engine.refresh();
    } finally {
      await engine.close();
    }
  });
  // A dashboard on the open day: new ids (≥ N) stamped in the last (open) hour, 1,000 a round.
  let next = N;
  for (const throttle of OPEN_ROUNDS > 0 ? [true, false] : []) {
    let clock = Date.parse('2026-06-01T00:30:00Z') + (HOURS - 1) * 3_600_000;
    const engine = await createDuckDbAnalytics({
      root,
      minRefreshMs: 0,
      duckdb,
      now: () => clock,
      ...(throttle ? {} : { openRebuild: { factor: 0, minMs: 0 } }),
    });
    const times: number[] = [];
    try {
      await engine.refresh(); // built as of now, then timed rounds
      for (let r = 0; r < OPEN_ROUNDS; r++) {
        await write(HOURS - 1, next, next + 1000, `events-v1-open-${next}.parquet`);
        next += 1000;
        clock += 60_000;
        const t = performance.now();
        const built = await engine.refresh();
        times.push(performance.now() - t);
        console.log(
          `  open day, ${throttle ? 'throttled (default)' : 'no throttle'}, minute ${r + 1}: ${n(Math.round(times.at(-1)!))} ms ${JSON.stringify(built)}`,
        );
      }
    } finally {
      await engine.close();
    }
    const sum = times.reduce((a, b) => a + b, 0);
    console.log(
      `open day, ${throttle ? 'throttled (default)' : 'no throttle'}: ${OPEN_ROUNDS} refreshes a simulated minute apart took ${n(Math.round(sum))} ms in all (${(sum / (OPEN_ROUNDS * 600)).toFixed(1)} % of a DuckDB thread over those minutes); ${rss()}`,
    );
  }
  g.closeSync();
  gen.closeSync();

  await step('compaction', () =>
    compactArchive({
      store: createFolderArchiveStore({ dir: root }),
      stagingDir: join(root, 'staging'),
      nowMs: Date.parse('2026-06-02T00:00:00Z'),
      duckdb,
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}

// The archive issue's report benchmark: 10M generated events in the archive layout, then the
// allocation report on DuckDB — cold (rollups built from scratch), warm (from rollups), straight
// over the 10M events without rollups, and an incremental refresh after one more file.
// Run: npm run bench:report   (optional: --events 10000000)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { createFolderArchiveStore } from '../src/adapters/file/folder-archive-store.js';
import { createDuckDbAnalytics } from '../src/analytics/duckdb-analytics.js';
import { reportFromEventsSql } from '../src/analytics/event-queries.js';
import { duckdbDialect } from '../src/analytics/sql-dialect.js';
import { createParquetArchive } from '../src/archive/parquet-archive.js';
import type { ReportQuery } from '../src/core/ports/analytics-engine.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '10000000' } } });
const N = Number(values.events);
const DAYS = 7;
const START = Date.parse('2026-06-01T00:00:00Z');
const root = mkdtempSync(join(tmpdir(), 'allot-bench-report-'));
const ms = (t0: number) => performance.now() - t0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => `${x.toFixed(0).padStart(6)} ms`;

try {
  // 1. Generate: decision / impression (95 %) or click (5 %) pairs, 100 placements × 10 ads,
  //    200K users, spread over 7 days; plus 1,000 rows archived twice (a regrouped replay).
  let t0 = performance.now();
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  const span = DAYS * 86_400_000;
  await c.run(`CREATE TABLE gen AS
    SELECT 'd' || d || ':' || substr(type, 1, 1) AS id, type,
           make_timestamp((${START} + (d * ${span} // ${N / 2}) + (i % 2) * 5) * 1000) AS ts,
           'd' || d AS decision_id, 'p' || (d % 100) AS placement_id, 'a' || ((d * 7) % 10) AS ad_id,
           'u' || ((d * 31) % 200000) AS user_id, 1::INTEGER AS schema_version
    FROM (SELECT i, i // 2 AS d,
                 CASE WHEN i % 2 = 0 THEN 'decision' WHEN (i // 2) % 20 = 0 THEN 'click' ELSE 'impression' END AS type
          FROM range(${N}) t(i))`);
  await c.run(`COPY (SELECT *, strftime(ts, '%Y-%m-%d') AS dt, strftime(ts, '%H') AS hour FROM gen)
    TO '${join(root, 'events')}' (FORMAT PARQUET, COMPRESSION ZSTD, PARTITION_BY (dt, hour), FILENAME_PATTERN 'events-gen-{i}')`);
  const dup = (await c.runAndReadAll('SELECT * FROM gen LIMIT 1000')).getRowObjectsJson();
  c.closeSync();
  instance.closeSync();
  const archive = await createParquetArchive({
    store: createFolderArchiveStore({ dir: root }),
    stagingDir: join(root, '.staging'),
  });
  await archive.write(
    dup.map((r) => ({
      id: String(r.id),
      type: r.type as 'decision',
      ts: Date.parse(`${String(r.ts).replace(' ', 'T')}Z`),
      decisionId: String(r.decision_id),
      placementId: String(r.placement_id),
      adId: String(r.ad_id),
      userId: String(r.user_id),
    })),
  );
  console.log(
    `generated ${N.toLocaleString('en')} events (+1,000 archived twice) over ${DAYS} days: ${fmt(ms(t0))}`,
  );

  const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0 });
  const all = (granularity: 'hour' | 'day', placementId: string | null): ReportQuery => ({
    placementId,
    fromMs: START,
    toMs: START + span,
    granularity,
  });

  // 2. Cold: the first report builds every hourly and daily rollup.
  t0 = performance.now();
  const first = await engine.report(all('day', null));
  console.log(
    `cold report (builds ${DAYS * 24} hourly + ${DAYS} daily rollups), day × all placements: ${fmt(ms(t0))}  (${first.length} rows)`,
  );
  const impressions = first.reduce((s, r) => s + (r.metrics.impressions ?? 0), 0);
  console.log(`  check: impressions in the report ${impressions.toLocaleString('en')} (each id once)`);

  // 3. Warm: from the rollups (the refresh finds nothing to do), median of 5.
  for (const [g, p] of [
    ['day', null],
    ['hour', null],
    ['day', 'p7'],
    ['hour', 'p7'],
  ] as const) {
    const times: number[] = [];
    let rows = 0;
    for (let k = 0; k < 5; k++) {
      t0 = performance.now();
      rows = (await engine.report(all(g, p))).length;
      times.push(ms(t0));
    }
    console.log(
      `warm report, ${g.padEnd(4)} × ${p === null ? 'all placements' : `placement ${p}   `}: ${fmt(median(times))} median of 5  (${rows} rows)`,
    );
  }

  // 4. Without rollups: the same report straight over the 10M deduplicated events (what Athena runs).
  const raw = await DuckDBInstance.create(':memory:');
  const rc = await raw.connect();
  const sql = reportFromEventsSql(
    duckdbDialect(join(root, 'events', '**', '*.parquet')),
    'day',
    all('day', null),
  );
  const rawTimes: number[] = [];
  for (let k = 0; k < 3; k++) {
    t0 = performance.now();
    await rc.runAndReadAll(sql);
    rawTimes.push(ms(t0));
  }
  console.log(
    `report straight over the events (no rollups; dedup of ${N.toLocaleString('en')} ids), day × all: ${fmt(median(rawTimes))} median of 3`,
  );
  rc.closeSync();
  raw.closeSync();

  // 5. Incremental: one more archived file in the last hour rebuilds that hour and its day only.
  const last = START + span - 60_000;
  await archive.write(
    Array.from({ length: 5000 }, (_, i) => ({
      id: `late${i}:i`,
      type: 'impression' as const,
      ts: last,
      decisionId: `late${i}`,
      placementId: 'p7',
      adId: 'a1',
      userId: `u${i}`,
    })),
  );
  await archive.close();
  t0 = performance.now();
  await engine.report(all('hour', 'p7'));
  console.log(`hour report right after one new file (rebuilds that hour's rollup first): ${fmt(ms(t0))}`);
  t0 = performance.now();
  await engine.report(all('day', 'p7'));
  console.log(`day report right after it (rebuilds that day's rollup first):             ${fmt(ms(t0))}`);
  await engine.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}

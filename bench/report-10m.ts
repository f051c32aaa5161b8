// The archive issue's report benchmark: 10M generated events in the archive layout
// (events/dt=…/hour=…/events-v1-*.parquet, written by DuckDB COPY … PARTITION_BY, not by Allot's
// writer), then the allocation report through the engine `GET /v1/reports/allocation` uses:
// cold (rollups built from scratch), warm (from the rollups), straight over the deduplicated
// events without rollups (what Athena runs), and right after one more file in the last hour.
// Run: npx tsx bench/report-10m.ts [--events 10000000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { createDuckDbAnalytics } from '../src/analytics/duckdb-analytics.js';
import { reportFromEventsSql } from '../src/analytics/event-queries.js';
import { duckdbDialect, sqlString } from '../src/analytics/sql-dialect.js';
import type { Granularity, ReportQuery } from '../src/core/ports/analytics-engine.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '10000000' } } });
const N = Number(values.events);
const DAYS = 7;
const REPLAYED = 1000;
const START = Date.parse('2026-06-01T00:00:00Z');
const SPAN = DAYS * 86_400_000;
const root = mkdtempSync(join(tmpdir(), 'allot-bench-report-'));
const eventsDir = join(root, 'events');
const ms = (t0: number) => performance.now() - t0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => `${x.toFixed(0).padStart(6)} ms`;
const n = (x: number) => x.toLocaleString('en');

const gen = await DuckDBInstance.create(':memory:');
const c = await gen.connect();
try {
  // 1. N events: decision + impression (19 in 20) or click (1 in 20) pairs, 100 placements ×
  //    10 ads, 200K users, evenly over 7 days; then REPLAYED of them archived again in other
  //    files of their partitions (a crash replay regrouped: reports must count them once).
  let t0 = performance.now();
  await c.run(`CREATE TABLE gen AS
    SELECT 'd' || d || ':' || substr(type, 1, 1) AS id, type,
           make_timestamp((${START} + (d * ${SPAN} // ${N / 2}) + (i % 2) * 5) * 1000) AS ts,
           'd' || d AS decision_id, 'p' || (d % 100) AS placement_id, 'a' || ((d * 7) % 10) AS ad_id,
           'u' || ((d * 31) % 200000) AS user_id, 1::INTEGER AS schema_version
    FROM (SELECT i, i // 2 AS d,
                 CASE WHEN i % 2 = 0 THEN 'decision' WHEN (i // 2) % 20 = 0 THEN 'click' ELSE 'impression' END AS type
          FROM range(${N}) t(i))`);
  const copy = (select: string, pattern: string) =>
    c.run(`COPY (SELECT *, strftime(ts, '%Y-%m-%d') AS dt, strftime(ts, '%H') AS hour FROM (${select}))
      TO ${sqlString(eventsDir)} (FORMAT PARQUET, COMPRESSION ZSTD, PARTITION_BY (dt, hour),
      OVERWRITE_OR_IGNORE, FILENAME_PATTERN '${pattern}')`);
  await copy('SELECT * FROM gen', 'events-v1-gen{i}');
  await copy(`SELECT * FROM gen USING SAMPLE ${REPLAYED} ROWS (reservoir, 42)`, 'events-v1-replay{i}');
  const want = (await c.runAndReadAll(`SELECT count(*) FROM gen WHERE type = 'impression'`)).getRows()[0]![0];
  console.log(
    `generate ${n(N)} events (+${n(REPLAYED)} archived twice) over ${DAYS} days, 100 placements × 10 ads: ${fmt(ms(t0))}`,
  );

  const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0 });
  const query = (granularity: Granularity, placementId: string | null): ReportQuery => ({
    placementId,
    fromMs: START,
    toMs: START + SPAN,
    granularity,
  });

  // 2. Cold: the first day report builds every hourly and daily rollup.
  t0 = performance.now();
  const first = await engine.report(query('day', null));
  console.log(
    `cold report, day × all placements (builds ${DAYS * 24} hourly + ${DAYS} daily rollups first): ${fmt(ms(t0))}  (${first.length} rows)`,
  );
  const impressions = first.reduce((s, r) => s + (r.metrics.impressions ?? 0), 0);
  console.log(
    `  check: ${n(impressions)} impressions in the report, ${n(Number(want))} generated: ${impressions === Number(want) ? 'equal (each id once)' : 'MISMATCH'}`,
  );

  // 3. Warm: the same engine, nothing new archived (each report still lists the files and finds
  //    nothing to rebuild), median of 5.
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
      rows = (await engine.report(query(g, p))).length;
      times.push(ms(t0));
    }
    const what = `${g.padEnd(4)} × ${p === null ? 'all placements' : `placement ${p}   `}`;
    console.log(`warm report, ${what}: ${fmt(median(times))}  median of 5 (${n(rows)} rows)`);
  }

  // 4. Without rollups: the day report straight over the N events, each id once (the SQL Athena
  //    runs, on DuckDB over the same files), median of 3.
  const sql = reportFromEventsSql(
    duckdbDialect(join(eventsDir, '**', '*.parquet')),
    'day',
    query('day', null),
  );
  const raw: number[] = [];
  for (let k = 0; k < 3; k++) {
    t0 = performance.now();
    await c.runAndReadAll(sql);
    raw.push(ms(t0));
  }
  console.log(
    `report straight over the events (no rollups; dedup of ${n(N)} ids), day × all: ${fmt(median(raw))}  median of 3`,
  );

  // 5. Incremental: one more file (5,000 impressions) in the last hour of the archive.
  const last = new Date(START + SPAN - 60_000).toISOString();
  await copy(
    `SELECT 'late' || i || ':i' AS id, 'impression' AS type, TIMESTAMP '${last.slice(0, 19).replace('T', ' ')}' AS ts,
            'late' || i AS decision_id, 'p7' AS placement_id, 'a9' AS ad_id, 'u' || i AS user_id, 1::INTEGER AS schema_version
     FROM range(5000) t(i)`,
    'events-v1-late{i}',
  );
  t0 = performance.now();
  await engine.report(query('hour', 'p7'));
  console.log(
    `hour report × p7 right after one new file in the last hour (rebuilds that hour first): ${fmt(ms(t0))}`,
  );
  t0 = performance.now();
  const day = await engine.report(query('day', 'p7'));
  console.log(
    `day report × p7 right after it (rebuilds that day, ~${n(Math.round(N / DAYS))} events, first):       ${fmt(ms(t0))}`,
  );
  const a9 = day.filter((r) => r.adId === 'a9').at(-1)?.metrics.impressions;
  const lastDayA9 = first.filter((r) => r.placementId === 'p7' && r.adId === 'a9').at(-1)
    ?.metrics.impressions;
  console.log(
    `  check: p7 × a9 impressions on the last day ${n(lastDayA9 ?? 0)} → ${n(a9 ?? 0)} (+5,000 expected)`,
  );
  await engine.close();
} finally {
  c.closeSync();
  gen.closeSync();
  rmSync(root, { recursive: true, force: true });
}

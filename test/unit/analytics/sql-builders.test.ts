import { describe, expect, it } from 'vitest';
import {
  dedupedEventsSql,
  hourlyCountsSql,
  partitionFilter,
  reportFromEventsSql,
  reportFromRollupsSql,
  rollupSql,
  storedRollupsSql,
} from '../../../src/analytics/event-queries.js';
import { defineMetrics, METRICS } from '../../../src/analytics/metric-catalog.js';
import {
  athenaDialect,
  duckdbDialect,
  type SqlDialect,
  sqlString,
  sqlTimestamp,
} from '../../../src/analytics/sql-dialect.js';
import type { Granularity } from '../../../src/core/ports/analytics-engine.js';

const FROM = Date.parse('2026-06-01T22:00:00Z');
const TO = Date.parse('2026-06-02T02:00:00Z');
const duck = duckdbDialect('/data/archive/events/**/*.parquet', '/data/archive/rollups');
const athena = athenaDialect({ database: 'allot', table: 'events' });

/** A dialect whose fragments are markers: what a builder writes around them is the shared text. */
const template: SqlDialect = { name: 'duckdb', events: '⟨events⟩', rollups: (g) => `⟨rollups:${g}⟩` };
/** The template with a dialect's fragments put in place of the markers. */
function fill(sql: string, d: SqlDialect): string {
  let out = sql.split('⟨events⟩').join(d.events);
  for (const g of ['hour', 'day'] as const) out = out.split(`⟨rollups:${g}⟩`).join(d.rollups?.(g) ?? '∅');
  return out;
}

const QUERIES = [null, 'home', "x' OR '1'='1"].flatMap((placementId) =>
  (['hour', 'day'] as Granularity[]).map((g) => ({ g, r: { fromMs: FROM, toMs: TO, placementId } })),
);
/** Every builder that reads events, as a function of the dialect. */
const EVENT_BUILDERS: Record<string, (d: SqlDialect, q: (typeof QUERIES)[number]) => string> = {
  dedupedEventsSql: (d, q) => dedupedEventsSql(d, q.r),
  rollupSql: (d, q) => rollupSql(d, q.g, q.r),
  reportFromEventsSql: (d, q) => reportFromEventsSql(d, q.g, q.r),
  hourlyCountsSql: (d, q) => hourlyCountsSql(d, q.r),
};

describe('dialects: the DuckDB and Athena SQL are one text with the engine fragments substituted', () => {
  it.each(Object.keys(EVENT_BUILDERS))('%s', (name) => {
    const build = EVENT_BUILDERS[name]!;
    for (const q of QUERIES) {
      const shared = build(template, q);
      expect(shared).toContain('⟨events⟩');
      expect(build(duck, q)).toBe(fill(shared, duck));
      expect(build(athena, q)).toBe(fill(shared, athena));
      // Nothing DuckDB-only left in the shared text Athena runs.
      expect(shared).not.toMatch(
        /read_parquet|::|\bFILTER\b|\bEXCLUDE\b|GROUP BY ALL|make_timestamp|epoch_ms|\bQUALIFY\b/i,
      );
    }
  });

  it('the fragments are where the data is: a table for Athena, Parquet globs with string partitions for DuckDB', () => {
    expect(athena.events).toBe('"allot"."events"');
    expect(athena.rollups).toBeNull();
    expect(duck.events).toBe(
      "read_parquet('/data/archive/events/**/*.parquet', hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hour': VARCHAR}, union_by_name = true)",
    );
    expect(duck.rollups?.('day')).toBe(
      "read_parquet('/data/archive/rollups/daily/**/rollup.parquet', hive_partitioning = true, hive_types = {'dt': VARCHAR})",
    );
    expect(athenaDialect({ database: 'a"b', table: 't' }).events).toBe('"a""b"."t"');
  });

  it('the DuckDB report over rollups has the same outer SELECT as the Athena report over events', () => {
    const outer = (sql: string) => [sql.split('\n')[0], ...sql.split('\n').slice(-3)].join('\n');
    for (const q of QUERIES) {
      const fromRollups = reportFromRollupsSql(duck, q.g, q.r);
      expect(outer(fromRollups)).toBe(outer(reportFromEventsSql(athena, q.g, q.r)));
      expect(fromRollups).toContain(`FROM ${duck.rollups?.(q.g)}`);
    }
    expect(() => storedRollupsSql(athena, 'hour', { fromMs: FROM, toMs: TO })).toThrow(/keeps no rollups/);
  });
});

describe('SQL builders', () => {
  it('prune partitions by day and by the first and last day’s hours, filter by time, keep one row per id', () => {
    const sql = dedupedEventsSql(athena, { fromMs: FROM, toMs: TO });
    expect(sql).toBe(`SELECT id, type, ts, placement_id, ad_id, user_id
FROM (
  SELECT id, type, ts, placement_id, ad_id, user_id,
         row_number() OVER (PARTITION BY id ORDER BY ts) AS copy
  FROM "allot"."events"
  WHERE dt BETWEEN '2026-06-01' AND '2026-06-02'
    AND (dt > '2026-06-01' OR hour >= '22')
    AND (dt < '2026-06-02' OR hour <= '01')
    AND ts >= TIMESTAMP '2026-06-01 22:00:00.000' AND ts < TIMESTAMP '2026-06-02 02:00:00.000'
) deduped
WHERE copy = 1`);
    // A range inside one hour names that hour only; a day range whole days.
    const h = Date.parse('2026-06-01T05:00:00Z');
    expect(partitionFilter({ fromMs: h, toMs: h + 3_600_000 })).toBe(
      "dt BETWEEN '2026-06-01' AND '2026-06-01'\n  AND (dt > '2026-06-01' OR hour >= '05')\n  AND (dt < '2026-06-01' OR hour <= '05')",
    );
    expect(partitionFilter({ fromMs: h, toMs: h + 86_400_000 }, false)).toBe(
      "dt BETWEEN '2026-06-01' AND '2026-06-02'",
    );
  });

  it('escape user values: a hostile placement id stays one literal everywhere it appears', () => {
    const q = { fromMs: FROM, toMs: TO, placementId: "x' OR '1'='1" };
    for (const sql of [reportFromEventsSql(duck, 'hour', q), reportFromRollupsSql(duck, 'day', q)]) {
      expect(sql.match(/placement_id = '[^\n]*/g)).toEqual(
        expect.arrayContaining([`placement_id = 'x'' OR ''1''=''1'`]),
      );
      for (const m of sql.match(/placement_id = '[^\n]*/g) ?? [])
        expect(m).toBe(`placement_id = 'x'' OR ''1''=''1'`);
    }
    expect(sqlString("it's")).toBe("'it''s'");
    expect(sqlString('back\\slash')).toBe("'back\\slash'");
    expect(sqlTimestamp(0)).toBe("TIMESTAMP '1970-01-01 00:00:00.000'");
    expect(duckdbDialect("/it's/events").events).toContain("'/it''s/events'");
  });

  it('put every catalog metric in the rollup and report SQL — one more definition included', () => {
    const metrics = defineMetrics([
      ...METRICS,
      {
        name: 'clickedUsers',
        column: 'clicked_users',
        description: 'Distinct users who clicked',
        rollup: 'distinct',
        expression: "count(DISTINCT CASE WHEN type = 'click' THEN user_id END)",
        format: 'count',
      },
    ]);
    const r = { fromMs: FROM, toMs: TO };
    const rollup = rollupSql(duck, 'hour', r, metrics);
    const report = reportFromEventsSql(athena, 'day', r, metrics);
    for (const m of metrics) {
      if (m.rollup === 'derived') expect(report).toContain(`${m.expression} AS ${m.column}`);
      else {
        expect(rollup).toContain(`${m.expression} AS ${m.column}`);
        expect(report).toContain(`${m.expression} AS ${m.column}`);
        expect(storedRollupsSql(duck, 'hour', r, metrics)).toContain(`, ${m.column}`);
      }
    }
    expect(rollupSql(duck, 'hour', r)).not.toContain('clicked_users');
    // The report's columns: placement, ad, period, then the catalog in order.
    expect(report.split('\n')[0]).toBe(
      `SELECT placement_id, ad_id, period, decisions, impressions, clicks, unique_users, ${METRICS.slice(4)
        .map((m) => `${m.expression} AS ${m.column}`)
        .join(', ')}, clicked_users`,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { parseResultRows, toReportRows } from '../../../src/analytics/athena-analytics.js';
import { athenaEventsTableDdl } from '../../../src/analytics/athena-ddl.js';
import {
  dedupedEventsSql,
  EVENT_COLUMNS,
  reportFromEventsSql,
} from '../../../src/analytics/event-queries.js';
import { defineMetrics, METRICS } from '../../../src/analytics/metric-catalog.js';
import { athenaDialect, duckdbDialect, sqlString, sqlTimestamp } from '../../../src/analytics/sql-dialect.js';

const FROM = Date.parse('2026-06-01T22:00:00Z');
const TO = Date.parse('2026-06-02T02:00:00Z');

describe('SQL builders', () => {
  it('prune partitions by day, filter by time, keep one row per event id', () => {
    const sql = dedupedEventsSql(athenaDialect({ database: 'allot', table: 'events' }), {
      fromMs: FROM,
      toMs: TO,
    });
    expect(sql).toContain(`FROM "allot"."events"`);
    expect(sql).toContain("WHERE dt BETWEEN '2026-06-01' AND '2026-06-02'");
    expect(sql).toContain(
      "ts >= TIMESTAMP '2026-06-01 22:00:00.000' AND ts < TIMESTAMP '2026-06-02 02:00:00.000'",
    );
    expect(sql).toContain('row_number() OVER (PARTITION BY id ORDER BY ts)');
  });

  it('escape user values: a hostile placement id stays one literal', () => {
    const q = { fromMs: FROM, toMs: TO, placementId: "x' OR '1'='1" };
    const sql = reportFromEventsSql(duckdbDialect('/a/events/**/*.parquet'), 'hour', q);
    expect(sql).toContain(`placement_id = 'x'' OR ''1''=''1'`);
    expect(sql).not.toContain(`= 'x' OR`);
    expect(sqlString("it's")).toBe("'it''s'");
    expect(sqlTimestamp(0)).toBe("TIMESTAMP '1970-01-01 00:00:00.000'");
    expect(duckdbDialect("/it's/events").events).toContain("'/it''s/events'");
  });

  it('differ between DuckDB and Athena only in where the events are', () => {
    const duck = duckdbDialect('/data/archive/events/**/*.parquet');
    const athena = athenaDialect({ database: 'allot', table: 'events' });
    for (const g of ['hour', 'day'] as const) {
      for (const placementId of [null, 'home']) {
        const q = { fromMs: FROM, toMs: TO, placementId };
        const a = reportFromEventsSql(athena, g, q);
        expect(a).not.toContain('read_parquet');
        expect(a.replaceAll(athena.events, duck.events)).toBe(reportFromEventsSql(duck, g, q));
      }
    }
  });

  it('put every catalog metric in the report, derived ones as their expression', () => {
    const sql = reportFromEventsSql(duckdbDialect('/x'), 'hour', { fromMs: FROM, toMs: TO });
    for (const m of METRICS) {
      expect(sql).toContain(`${m.expression} AS ${m.column}`);
    }
  });
});

describe('metric catalog', () => {
  it('refuses duplicate names, bad columns and derived metrics over derived ones, all at once', () => {
    const base = METRICS.find((m) => m.name === 'impressions')!;
    expect(() =>
      defineMetrics([
        ...METRICS,
        { ...base },
        { ...base, name: 'Bad Name', column: 'period' },
        { ...base, name: 'ctrSquared', column: 'ctr_squared', rollup: 'derived', expression: 'ctr * ctr' },
      ]),
    ).toThrow(
      /defined twice[\s\S]*camelCase[\s\S]*reserved column[\s\S]*"ctrSquared" uses "ctr", which is derived/,
    );
  });
});

describe('Athena', () => {
  it('DDL: the archive columns, string partitions with projection, the S3 location', () => {
    const ddl = athenaEventsTableDdl({
      database: 'allot',
      table: 'events',
      location: 's3://bucket/prefix/events',
      startDate: '2026-01-01',
    });
    for (const c of EVENT_COLUMNS) expect(ddl).toContain(`\`${c.name}\` ${c.type}`);
    expect(ddl).toContain('PARTITIONED BY (`dt` string, `hour` string)');
    expect(ddl).toContain("LOCATION 's3://bucket/prefix/events/'");
    expect(ddl).toContain("'projection.dt.range' = '2026-01-01,NOW'");
    expect(ddl).toContain("'projection.hour.digits' = '2'");
    // Athena substitutes ${dt} and ${hour} itself.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's own placeholders
    expect(ddl).toContain("'storage.location.template' = 's3://bucket/prefix/events/dt=${dt}/hour=${hour}/'");
    expect(ddl).toContain('STORED AS PARQUET');
  });

  it('parses GetQueryResults pages: header row on the first page only, NULLs, timestamps', () => {
    const header = {
      Data: ['placement_id', 'ad_id', 'period', ...METRICS.map((m) => m.column)].map((v) => ({
        VarCharValue: v,
      })),
    };
    const row = {
      Data: [
        { VarCharValue: 'home' },
        { VarCharValue: 'a' },
        { VarCharValue: '2026-06-01 22:00:00.000' },
        { VarCharValue: '10' },
        { VarCharValue: '8' },
        { VarCharValue: '1' },
        { VarCharValue: '5' },
        { VarCharValue: '0.125' },
        { VarCharValue: '0.8' },
        {},
      ],
    };
    const first = parseResultRows({ Rows: [header, row] }, true);
    expect(first).toHaveLength(1);
    expect(parseResultRows({ Rows: [row] }, false)).toHaveLength(1);
    expect(toReportRows(first)).toEqual([
      {
        placementId: 'home',
        adId: 'a',
        period: '2026-06-01T22:00:00.000Z',
        metrics: {
          decisions: 10,
          impressions: 8,
          clicks: 1,
          uniqueUsers: 5,
          ctr: 0.125,
          renderRate: 0.8,
          share: null,
        },
      },
    ]);
  });
});

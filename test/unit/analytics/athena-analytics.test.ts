import type { GetQueryResultsCommandOutput } from '@aws-sdk/client-athena';
import { describe, expect, it } from 'vitest';
import {
  type AthenaSender,
  createAthenaAnalytics,
  parseResultRows,
  toReportRows,
} from '../../../src/analytics/athena-analytics.js';
import { athenaEventsTableDdl } from '../../../src/analytics/athena-ddl.js';
import { EVENT_COLUMNS, hourlyCountsSql, reportFromEventsSql } from '../../../src/analytics/event-queries.js';
import { METRICS } from '../../../src/analytics/metric-catalog.js';
import { athenaDialect } from '../../../src/analytics/sql-dialect.js';

const FROM = Date.parse('2026-06-01T22:00:00Z');
const TO = Date.parse('2026-06-02T02:00:00Z');
const cell = (v: string | undefined) => (v === undefined ? {} : { VarCharValue: v });
const row = (...vs: Array<string | undefined>) => ({ Data: vs.map(cell) });
const HEADER = row('placement_id', 'ad_id', 'period', ...METRICS.map((m) => m.column));

/**
 * A recorded Athena: answers each command from a script (QUEUED/RUNNING/SUCCEEDED states, then
 * result pages) and keeps what was sent.
 */
function recordedAthena(states: string[], pages: Array<Partial<GetQueryResultsCommandOutput>>) {
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client: AthenaSender = {
    async send(command) {
      const name = command.constructor.name;
      sent.push({ name, input: command.input as unknown as Record<string, unknown> });
      if (name === 'StartQueryExecutionCommand') return { QueryExecutionId: 'q-1' };
      if (name === 'GetQueryExecutionCommand') {
        const State = states.shift();
        return { QueryExecution: { Status: { State, StateChangeReason: 'SYNTAX_ERROR: line 1' } } };
      }
      return pages.shift();
    },
  };
  return { client, sent };
}

describe('Athena DDL', () => {
  it('declares the archive columns from the shared list, string partitions with projection, the S3 location', () => {
    const ddl = athenaEventsTableDdl({
      database: 'allot',
      table: 'events',
      location: 's3://bucket/prefix/events',
      startDate: '2026-01-01',
    });
    expect(ddl).toBe(`CREATE EXTERNAL TABLE IF NOT EXISTS \`allot\`.\`events\` (
${EVENT_COLUMNS.map((c) => `  \`${c.name}\` ${c.type}`).join(',\n')}
)
PARTITIONED BY (\`dt\` string, \`hour\` string)
STORED AS PARQUET
LOCATION 's3://bucket/prefix/events/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://bucket/prefix/events/dt=\${dt}/hour=\${hour}/',
  'parquet.compression' = 'ZSTD'
)`);
    expect(EVENT_COLUMNS.map((c) => c.name)).toEqual([
      'id',
      'type',
      'ts',
      'decision_id',
      'placement_id',
      'ad_id',
      'user_id',
      'schema_version',
    ]);
    expect(() =>
      athenaEventsTableDdl({ database: 'a', table: 'b', location: 's3://x/', startDate: '2026-1-1' }),
    ).toThrow(/invalid Athena DDL options/);
  });

  it('is what the engine’s ddl() returns, and needs an S3 location', () => {
    const engine = createAthenaAnalytics({
      database: 'allot',
      table: 'events',
      client: recordedAthena([], []).client,
    });
    expect(engine.ddl({ location: 's3://b/p/events/', startDate: '2026-03-01' })).toBe(
      athenaEventsTableDdl({
        database: 'allot',
        table: 'events',
        location: 's3://b/p/events/',
        startDate: '2026-03-01',
      }),
    );
    expect(() => engine.ddl()).toThrow(/needs the archive location/);
  });
});

describe('Athena engine', () => {
  it('parses GetQueryResults pages: header row on the first page only, NULLs, timestamps', () => {
    const data = row('home', 'a', '2026-06-01 22:00:00.000', '10', '8', '1', '5', '0.125', '0.8', undefined);
    const first = parseResultRows({ Rows: [HEADER, data] }, true);
    expect(first).toHaveLength(1);
    expect(parseResultRows({ Rows: [data] }, false)).toEqual(first);
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

  it('runs the shared builders’ SQL, polls with backoff until SUCCEEDED, and reads every page', async () => {
    const { client, sent } = recordedAthena(
      ['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED'],
      [
        {
          ResultSet: {
            Rows: [
              HEADER,
              row('home', 'a', '2026-06-01 22:00:00.000', '4', '2', '1', '2', '0.5', '0.5', '1.0'),
            ],
          },
          NextToken: 't2',
        },
        {
          ResultSet: {
            Rows: [
              row('home', 'a', '2026-06-01 23:00:00.000', '2', '0', '0', '1', undefined, '0.0', undefined),
            ],
          },
        },
      ],
    );
    const waits: number[] = [];
    const engine = createAthenaAnalytics({
      database: 'allot',
      table: 'events',
      workgroup: 'wg',
      outputLocation: 's3://results/',
      client,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const q = { placementId: 'home', fromMs: FROM, toMs: TO, granularity: 'hour' as const };
    const rows = await engine.report(q);
    expect(rows.map((r) => [r.period, r.metrics.decisions, r.metrics.ctr, r.metrics.share])).toEqual([
      ['2026-06-01T22:00:00.000Z', 4, 0.5, 1],
      ['2026-06-01T23:00:00.000Z', 2, null, null],
    ]);
    expect(waits).toEqual([100, 200, 400]);
    expect(sent.map((s) => s.name)).toEqual([
      'StartQueryExecutionCommand',
      ...Array(4).fill('GetQueryExecutionCommand'),
      'GetQueryResultsCommand',
      'GetQueryResultsCommand',
    ]);
    expect(sent[0]?.input).toEqual({
      QueryString: reportFromEventsSql(athenaDialect({ database: 'allot', table: 'events' }), 'hour', q),
      QueryExecutionContext: { Database: 'allot' },
      WorkGroup: 'wg',
      ResultConfiguration: { OutputLocation: 's3://results/' },
    });
    expect(sent.at(-1)?.input).toMatchObject({ QueryExecutionId: 'q-1', NextToken: 't2' });
    expect(engine.hourlyCountsSqlFor(FROM, TO)).toBe(
      hourlyCountsSql(athenaDialect({ database: 'allot', table: 'events' }), { fromMs: FROM, toMs: TO }),
    );
  });

  it('rejects a failed query with ALLOT_ERR_UNAVAILABLE and Athena’s reason', async () => {
    const { client } = recordedAthena(['RUNNING', 'FAILED'], []);
    const engine = createAthenaAnalytics({
      database: 'allot',
      table: 'events',
      client,
      sleep: async () => {},
    });
    await expect(engine.hourlyCounts(FROM, TO)).rejects.toMatchObject({
      code: 'ALLOT_ERR_UNAVAILABLE',
      message: 'Athena query q-1 FAILED: SYNTAX_ERROR: line 1',
    });
  });
});

import {
  AthenaClient,
  GetQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  type ResultSet,
  StartQueryExecutionCommand,
  type StartQueryExecutionCommandOutput,
} from '@aws-sdk/client-athena';
import { AllotError } from '../core/errors.js';
import type { AnalyticsEngine, HourlyCount, ReportQuery, ReportRow } from '../core/ports/analytics-engine.js';
import { athenaEventsTableDdl } from './athena-ddl.js';
import { hourlyCountsSql, reportFromEventsSql } from './event-queries.js';
import { METRICS, type MetricDefinition } from './metric-catalog.js';
import { athenaDialect } from './sql-dialect.js';

/** Athena's timestamp text (`2026-11-26 20:00:00.000`) → ISO 8601 UTC. */
const isoOf = (s: string): string => new Date(`${s.replace(' ', 'T')}Z`).toISOString();

/**
 * Rows of a GetQueryResults page as strings (null for SQL NULL), without the header row Athena
 * puts first on the first page of a SELECT's results.
 */
export function parseResultRows(set: ResultSet, firstPage: boolean): Array<Array<string | null>> {
  const rows = (set.Rows ?? []).map((r) => (r.Data ?? []).map((d) => d.VarCharValue ?? null));
  return firstPage ? rows.slice(1) : rows;
}

/** Report rows from Athena's strings: placement, ad, period, then the catalog's metrics in order. */
export function toReportRows(
  rows: ReadonlyArray<ReadonlyArray<string | null>>,
  metrics: readonly MetricDefinition[] = METRICS,
): ReportRow[] {
  return rows.map((r) => {
    const values: Record<string, number | null> = {};
    metrics.forEach((m, i) => {
      const v = r[3 + i];
      values[m.name] = v === null || v === undefined || v === '' ? null : Number(v);
    });
    return { placementId: String(r[0]), adId: String(r[1]), period: isoOf(String(r[2])), metrics: values };
  });
}

/** Hourly counts from Athena's strings (placement, ad, period, decisions, impressions, clicks). */
export function toHourlyCounts(rows: ReadonlyArray<ReadonlyArray<string | null>>): HourlyCount[] {
  return rows.map((r) => ({
    placementId: String(r[0]),
    adId: String(r[1]),
    hourStartMs: Date.parse(isoOf(String(r[2]))),
    decisions: Number(r[3]),
    impressions: Number(r[4]),
    clicks: Number(r[5]),
  }));
}

type AthenaCommand = StartQueryExecutionCommand | GetQueryExecutionCommand | GetQueryResultsCommand;

/** What the engine needs of an Athena client (an `AthenaClient`, or a recorded fake in tests). */
export interface AthenaSender {
  send(command: AthenaCommand): Promise<unknown>;
  destroy?(): void;
}

export interface AthenaAnalyticsOptions {
  database: string;
  table: string;
  workgroup?: string;
  /** `s3://…` for query results, unless the workgroup sets it. */
  outputLocation?: string;
  /** Default: a new `AthenaClient` (region and credentials from the environment), closed by `close`. */
  client?: AthenaSender;
  /** The metric catalog (default `METRICS`). */
  metrics?: readonly MetricDefinition[];
  /** For `ddl()`: the archive's events, `s3://bucket/prefix/events/`, and its first day. */
  location?: string;
  startDate?: string;
  /** Longest wait for one query (default 5 minutes). */
  timeoutMs?: number;
  /** How the engine waits between polls (default a timer; tests pass an instant one). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The production analytics engine: Athena over the S3 archive (the table `ddl()` declares),
 * running the DuckDB engine's builders with the Athena dialect. Athena keeps no rollups of ours:
 * a report aggregates the events of its range directly, with the very text the hourly and daily
 * rollups are built from on DuckDB (partition pruning by `dt`/`hour`; Athena bills by bytes
 * scanned, which Parquet's column pruning keeps to the columns a report reads). Rollup tables
 * (CTAS/INSERT INTO on a schedule) would be a second pipeline to run and to keep idempotent;
 * reports over days of events are seconds on Athena, so they are not worth it yet.
 *
 * A query runs as StartQueryExecution, GetQueryExecution polled with exponential backoff
 * (100 ms doubling to 2 s), then GetQueryResults page by page. A failed, cancelled or timed-out
 * query rejects with `ALLOT_ERR_UNAVAILABLE` naming the query id and Athena's reason.
 * Not run live in CI (no AWS here): tests cover the SQL, the DDL and the protocol with a
 * recorded fake client.
 */
export function createAthenaAnalytics(opts: AthenaAnalyticsOptions) {
  const client: AthenaSender = opts.client ?? new AthenaClient({});
  const metrics = opts.metrics ?? METRICS;
  const dialect = athenaDialect(opts);
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const unavailable = (id: string, message: string) =>
    new AllotError('ALLOT_ERR_UNAVAILABLE', `Athena query ${id} ${message}`, [
      { path: '/athena/queryExecutionId', message: id },
    ]);

  /** Runs one query; its result rows as strings (header row dropped). */
  async function run(sql: string): Promise<Array<Array<string | null>>> {
    const started = (await client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        QueryExecutionContext: { Database: opts.database },
        ...(opts.workgroup === undefined ? {} : { WorkGroup: opts.workgroup }),
        ...(opts.outputLocation === undefined
          ? {}
          : { ResultConfiguration: { OutputLocation: opts.outputLocation } }),
      }),
    )) as StartQueryExecutionCommandOutput;
    const id = started.QueryExecutionId;
    if (id === undefined) throw unavailable('(none)', 'was not started: no QueryExecutionId');
    const deadline = Date.now() + timeoutMs;
    for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
      const out = (await client.send(
        new GetQueryExecutionCommand({ QueryExecutionId: id }),
      )) as GetQueryExecutionCommandOutput;
      const status = out.QueryExecution?.Status;
      if (status?.State === 'SUCCEEDED') break;
      if (status?.State === 'FAILED' || status?.State === 'CANCELLED')
        throw unavailable(id, `${status.State}: ${status.StateChangeReason ?? 'no reason given'}`);
      if (Date.now() > deadline) throw unavailable(id, `still ${status?.State} after ${timeoutMs} ms`);
      await sleep(wait);
    }
    const rows: Array<Array<string | null>> = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = (await client.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1000, NextToken: token }),
      )) as GetQueryResultsCommandOutput;
      rows.push(...parseResultRows(page.ResultSet ?? {}, first));
      first = false;
      token = page.NextToken;
    } while (token !== undefined);
    return rows;
  }

  /** The report's SQL: the shared builders with the Athena dialect. */
  const reportSqlFor = (q: ReportQuery): string =>
    reportFromEventsSql(
      dialect,
      q.granularity,
      { fromMs: q.fromMs, toMs: q.toMs, placementId: q.placementId },
      metrics,
    );
  const hourlyCountsSqlFor = (fromMs: number, toMs: number): string =>
    hourlyCountsSql(dialect, { fromMs, toMs });

  return {
    metrics,
    reportSqlFor,
    hourlyCountsSqlFor,
    async report(q: ReportQuery): Promise<ReportRow[]> {
      return toReportRows(await run(reportSqlFor(q)), metrics);
    },
    async hourlyCounts(fromMs: number, toMs: number): Promise<HourlyCount[]> {
      return toHourlyCounts(await run(hourlyCountsSqlFor(fromMs, toMs)));
    },
    /** The table's `CREATE EXTERNAL TABLE` (needs `location`, here or in the options). */
    ddl(over: { location?: string; startDate?: string } = {}): string {
      const location = over.location ?? opts.location;
      if (location === undefined || !location.startsWith('s3://'))
        throw new AllotError('ALLOT_ERR_VALIDATION', 'the Athena DDL needs the archive location', [
          { path: '/location', message: 'expected s3://bucket/prefix/events/' },
        ]);
      const startDate = over.startDate ?? opts.startDate ?? '2026-01-01';
      return athenaEventsTableDdl({ database: opts.database, table: opts.table, location, startDate });
    },
    async close(): Promise<void> {
      if (opts.client === undefined) client.destroy?.();
    },
  } satisfies AnalyticsEngine & Record<string, unknown>;
}

export type AthenaAnalytics = ReturnType<typeof createAthenaAnalytics>;

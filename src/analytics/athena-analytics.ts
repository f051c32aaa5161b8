import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type ResultSet,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { AnalyticsEngine, HourlyCount, ReportQuery, ReportRow } from '../core/ports/analytics-engine.js';
import { hourlyCountsSql, reportFromEventsSql } from './event-queries.js';
import { METRICS, type MetricDefinition } from './metric-catalog.js';
import { athenaDialect } from './sql-dialect.js';

/** Athena's timestamp text (`2026-11-26 20:00:00.000`) → ISO 8601 UTC. */
const isoOf = (s: string): string => new Date(`${s.replace(' ', 'T')}Z`).toISOString();

/**
 * Rows of a GetQueryResults result set as strings (null for SQL NULL), without the header row
 * Athena puts first on the first page.
 */
export function parseResultRows(set: ResultSet, firstPage: boolean): Array<Array<string | null>> {
  const rows = (set.Rows ?? []).map((r) => (r.Data ?? []).map((d) => d.VarCharValue ?? null));
  return firstPage ? rows.slice(1) : rows;
}

/** Report rows from Athena's strings, in the catalog's column order after placement, ad, period. */
export function toReportRows(
  rows: ReadonlyArray<ReadonlyArray<string | null>>,
  catalog: readonly MetricDefinition[] = METRICS,
): ReportRow[] {
  return rows.map((r) => {
    const metrics: Record<string, number | null> = {};
    catalog.forEach((m, i) => {
      const v = r[3 + i];
      metrics[m.name] = v === null || v === undefined || v === '' ? null : Number(v);
    });
    return { placementId: String(r[0]), adId: String(r[1]), period: isoOf(String(r[2])), metrics };
  });
}

/**
 * The production analytics engine: Athena over the S3 archive (the table from `athena-ddl.ts`),
 * running the same builders as DuckDB with the Athena dialect. Athena keeps no rollups of ours:
 * a report aggregates the events of its range directly (partition pruning by `dt`; Athena bills by
 * bytes scanned, which Parquet's column pruning keeps to the columns a report reads).
 * Not run live in CI (no AWS here); tests cover the SQL and the result parsing.
 */
export function createAthenaAnalytics(opts: {
  database: string;
  table: string;
  workgroup?: string;
  outputLocation?: string;
  client?: AthenaClient;
  catalog?: readonly MetricDefinition[];
  /** Longest wait for one query (default 5 minutes). */
  timeoutMs?: number;
}): AnalyticsEngine & { sqlFor(q: ReportQuery): string } {
  const client = opts.client ?? new AthenaClient({});
  const catalog = opts.catalog ?? METRICS;
  const dialect = athenaDialect(opts);
  const timeoutMs = opts.timeoutMs ?? 300_000;

  async function run(sql: string): Promise<Array<Array<string | null>>> {
    const started = await client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        QueryExecutionContext: { Database: opts.database },
        ...(opts.workgroup === undefined ? {} : { WorkGroup: opts.workgroup }),
        ...(opts.outputLocation === undefined
          ? {}
          : { ResultConfiguration: { OutputLocation: opts.outputLocation } }),
      }),
    );
    const id = started.QueryExecutionId!;
    const deadline = Date.now() + timeoutMs;
    for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
      const { QueryExecution: q } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = q?.Status?.State;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') {
        throw new Error(`Athena query ${id} ${state}: ${q?.Status?.StateChangeReason ?? 'no reason given'}`);
      }
      if (Date.now() > deadline) throw new Error(`Athena query ${id} still ${state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, wait));
    }
    const out: Array<Array<string | null>> = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = await client.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }),
      );
      out.push(...parseResultRows(page.ResultSet ?? {}, first));
      first = false;
      token = page.NextToken;
    } while (token !== undefined);
    return out;
  }

  const sqlFor = (q: ReportQuery): string =>
    reportFromEventsSql(
      dialect,
      q.granularity,
      { fromMs: q.fromMs, toMs: q.toMs, placementId: q.placementId },
      catalog,
    );

  return {
    sqlFor,
    async report(q: ReportQuery): Promise<ReportRow[]> {
      return toReportRows(await run(sqlFor(q)), catalog);
    },
    async hourlyCounts(fromMs: number, toMs: number): Promise<HourlyCount[]> {
      const rows = await run(hourlyCountsSql(dialect, { fromMs, toMs }));
      return rows.map((r) => ({
        placementId: String(r[0]),
        adId: String(r[1]),
        hourStartMs: Date.parse(isoOf(String(r[2]))),
        decisions: Number(r[3]),
        impressions: Number(r[4]),
        clicks: Number(r[5]),
      }));
    },
    async close(): Promise<void> {
      if (opts.client === undefined) client.destroy();
    },
  };
}

import type { Granularity } from '../core/ports/analytics-engine.js';
import { METRICS, type MetricDefinition, storedMetrics } from './metric-catalog.js';
import { type SqlDialect, sqlString, sqlTimestamp } from './sql-dialect.js';

/** Columns of the archived events, in file order: one list for Parquet, DuckDB and Athena's DDL. */
export const EVENT_COLUMNS = [
  { name: 'id', type: 'string' },
  { name: 'type', type: 'string' },
  { name: 'ts', type: 'timestamp' },
  { name: 'decision_id', type: 'string' },
  { name: 'placement_id', type: 'string' },
  { name: 'ad_id', type: 'string' },
  { name: 'user_id', type: 'string' },
  { name: 'schema_version', type: 'int' },
] as const;

const DAY = 86_400_000;
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export interface EventRange {
  fromMs: number;
  toMs: number;
  /** One placement, or null for all. */
  placementId?: string | null;
}

/**
 * The events in [fromMs, toMs), each id once (a batch replayed in another grouping repeats rows
 * across files). Partitions outside the range's days are pruned by `dt`.
 */
export function dedupedEventsSql(d: SqlDialect, r: EventRange): string {
  const lastDay = day(Math.max(r.fromMs, r.toMs - 1));
  const placement = r.placementId == null ? '' : `\n      AND placement_id = ${sqlString(r.placementId)}`;
  return `SELECT id, type, ts, placement_id, ad_id, user_id
  FROM (
    SELECT id, type, ts, placement_id, ad_id, user_id,
           row_number() OVER (PARTITION BY id ORDER BY ts) AS copy
    FROM ${d.events}
    WHERE dt BETWEEN ${sqlString(day(r.fromMs))} AND ${sqlString(lastDay)}
      AND ts >= ${sqlTimestamp(r.fromMs)} AND ts < ${sqlTimestamp(r.toMs)}${placement}
  ) deduped
  WHERE copy = 1`;
}

/**
 * The rollup rows of a range: per placement × ad × period (hour or day), every stored
 * (`sum` and `distinct`) metric of the catalog.
 */
export function rollupSql(
  d: SqlDialect,
  g: Granularity,
  r: EventRange,
  catalog: readonly MetricDefinition[] = METRICS,
): string {
  const measures = storedMetrics(catalog).map((m) => `,\n       ${m.expression} AS ${m.column}`);
  return `SELECT placement_id, ad_id, date_trunc('${g}', ts) AS period${measures.join('')}
FROM (
  ${dedupedEventsSql(d, r).replaceAll('\n', '\n  ')}
) e
GROUP BY placement_id, ad_id, date_trunc('${g}', ts)`;
}

/**
 * The report: rows of `source` (a rollup relation with placement_id, ad_id, period and the stored
 * metrics) in the range, with every derived metric, ordered by placement, period, ad.
 */
export function reportSql(
  source: string,
  r: EventRange,
  catalog: readonly MetricDefinition[] = METRICS,
): string {
  const cols = catalog.map((m) => (m.rollup === 'derived' ? `${m.expression} AS ${m.column}` : m.column));
  const placement = r.placementId == null ? '' : ` AND placement_id = ${sqlString(r.placementId)}`;
  return `SELECT placement_id, ad_id, period, ${cols.join(', ')}
FROM (
  ${source.replaceAll('\n', '\n  ')}
) r
WHERE period >= ${sqlTimestamp(r.fromMs)} AND period < ${sqlTimestamp(r.toMs)}${placement}
ORDER BY placement_id, period, ad_id`;
}

/**
 * The report computed straight from the events (what Athena runs, and DuckDB when a test or
 * benchmark wants no rollups): the rollup SELECT inlined as the report's source.
 */
export function reportFromEventsSql(
  d: SqlDialect,
  g: Granularity,
  r: EventRange,
  catalog: readonly MetricDefinition[] = METRICS,
): string {
  // Whole periods: a day report from 10:00 still counts the day from midnight.
  const unit = g === 'day' ? DAY : 3_600_000;
  const whole = { ...r, fromMs: Math.floor(r.fromMs / unit) * unit, toMs: Math.ceil(r.toMs / unit) * unit };
  return reportSql(rollupSql(d, g, whole, catalog), r, catalog);
}

/** Exact decisions, impressions and clicks per placement × ad × hour (the reconciliation's truth). */
export function hourlyCountsSql(d: SqlDialect, r: EventRange): string {
  return `SELECT placement_id, ad_id, date_trunc('hour', ts) AS period,
       sum(CASE WHEN type = 'decision' THEN 1 ELSE 0 END) AS decisions,
       sum(CASE WHEN type = 'impression' THEN 1 ELSE 0 END) AS impressions,
       sum(CASE WHEN type = 'click' THEN 1 ELSE 0 END) AS clicks
FROM (
  ${dedupedEventsSql(d, r).replaceAll('\n', '\n  ')}
) e
GROUP BY placement_id, ad_id, date_trunc('hour', ts)
ORDER BY placement_id, ad_id, period`;
}

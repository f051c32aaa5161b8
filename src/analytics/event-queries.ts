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

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const unitOf = (g: Granularity): number => (g === 'day' ? DAY : HOUR);
const iso = (ms: number): string => new Date(ms).toISOString();

export interface EventRange {
  fromMs: number;
  toMs: number;
  /** One placement, or null for all. Always inlined as an escaped literal. */
  placementId?: string | null;
}

/** Indents a nested query under its parent's `FROM (`. */
const nest = (sql: string): string => sql.replaceAll('\n', '\n  ');

/**
 * The Hive partitions (`dt`, `hour`: UTC strings, as the archive's paths name them) that can
 * hold events of [fromMs, toMs): days by `dt`, and the first and last day's hours by `hour`,
 * so both engines skip the files of other partitions (DuckDB and Athena's projection alike).
 */
export function partitionFilter(r: EventRange, withHour = true): string {
  const first = iso(r.fromMs);
  const last = iso(Math.max(r.fromMs, r.toMs - 1));
  const [d0, h0, d1, h1] = [first.slice(0, 10), first.slice(11, 13), last.slice(0, 10), last.slice(11, 13)];
  const days = `dt BETWEEN ${sqlString(d0)} AND ${sqlString(d1)}`;
  if (!withHour) return days;
  return `${days}
  AND (dt > ${sqlString(d0)} OR hour >= ${sqlString(h0)})
  AND (dt < ${sqlString(d1)} OR hour <= ${sqlString(h1)})`;
}

const placementFilter = (r: EventRange): string =>
  r.placementId == null ? '' : `\n  AND placement_id = ${sqlString(r.placementId)}`;

/**
 * The events in [fromMs, toMs), each id once: a batch replayed in another grouping after a crash
 * repeats rows across files. `row_number()` rather than `GROUP BY id` keeps every column without
 * engine-specific aggregates (`any_value` / `arbitrary`); copies of an id are identical rows.
 */
export function dedupedEventsSql(d: SqlDialect, r: EventRange): string {
  return `SELECT id, type, ts, placement_id, ad_id, user_id
FROM (
  SELECT id, type, ts, placement_id, ad_id, user_id,
         row_number() OVER (PARTITION BY id ORDER BY ts) AS copy
  FROM ${d.events}
  WHERE ${nest(partitionFilter(r))}
    AND ts >= ${sqlTimestamp(r.fromMs)} AND ts < ${sqlTimestamp(r.toMs)}${nest(placementFilter(r))}
) deduped
WHERE copy = 1`;
}

/**
 * The events of a range as they are (copies included), each with its `slice` of `of` (DuckDB
 * only): the hash of its user — or, without one, of its id. An event's copies share id and user,
 * so each slice can be deduplicated exactly on its own; and each user falls in one slice, so
 * per-slice unique-user counts add up. `rollups.ts` writes them out by slice, then rolls up
 * slice by slice: 1/`of` of the events in memory at a time.
 */
export function slicedEventsSql(d: SqlDialect, r: EventRange, of: number): string {
  return `SELECT id, type, ts, placement_id, ad_id, user_id, dt, hour,
       hash(coalesce(user_id, id)) % ${of} AS slice
FROM ${d.events}
WHERE ${nest(partitionFilter(r))}
  AND ts >= ${sqlTimestamp(r.fromMs)} AND ts < ${sqlTimestamp(r.toMs)}`;
}

/**
 * The rollup rows of a range from the events: per placement × ad × period (hour or day), every
 * stored (`sum` and `distinct`) metric of the catalog, each expression as the catalog writes it.
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
  ${nest(dedupedEventsSql(d, r))}
) e
GROUP BY placement_id, ad_id, date_trunc('${g}', ts)`;
}

/** The stored rollup rows of a range (DuckDB, whose dialect has rollups), partitions pruned. */
export function storedRollupsSql(
  d: SqlDialect,
  g: Granularity,
  r: EventRange,
  catalog: readonly MetricDefinition[] = METRICS,
): string {
  if (d.rollups === null) throw new Error(`the ${d.name} dialect keeps no rollups: use rollupSql`);
  const cols = storedMetrics(catalog).map((m) => `, ${m.column}`);
  return `SELECT placement_id, ad_id, period${cols.join('')}
FROM ${d.rollups(g)}
WHERE ${nest(partitionFilter(r, g === 'hour'))}
  AND period >= ${sqlTimestamp(r.fromMs)} AND period < ${sqlTimestamp(r.toMs)}${placementFilter(r)}`;
}

/**
 * The report over `source` (a relation of rollup rows: placement_id, ad_id, period and the
 * stored metrics): rows whose period starts in the range, with every derived metric (a window
 * over one placement and period for shares), ordered by placement, period, ad.
 */
export function reportSql(
  source: string,
  r: EventRange,
  catalog: readonly MetricDefinition[] = METRICS,
): string {
  const cols = catalog.map((m) => (m.rollup === 'derived' ? `${m.expression} AS ${m.column}` : m.column));
  return `SELECT placement_id, ad_id, period, ${cols.join(', ')}
FROM (
  ${nest(source)}
) r
WHERE period >= ${sqlTimestamp(r.fromMs)} AND period < ${sqlTimestamp(r.toMs)}${placementFilter(r)}
ORDER BY placement_id, period, ad_id`;
}

/** Widens a range to whole periods: a day report from 10:00 still counts that day from midnight. */
const wholePeriods = (g: Granularity, r: EventRange): EventRange => {
  const unit = unitOf(g);
  return { ...r, fromMs: Math.floor(r.fromMs / unit) * unit, toMs: Math.ceil(r.toMs / unit) * unit };
};

/**
 * The report computed from the events (what Athena runs; DuckDB when benchmarked without
 * rollups): the rollup SELECT as the report's source.
 */
export function reportFromEventsSql(
  d: SqlDialect,
  g: Granularity,
  r: EventRange,
  catalog: readonly MetricDefinition[] = METRICS,
): string {
  return reportSql(rollupSql(d, g, wholePeriods(g, r), catalog), r, catalog);
}

/** The report over the stored rollups (DuckDB): same outer SELECT, the rollup files as source. */
export function reportFromRollupsSql(
  d: SqlDialect,
  g: Granularity,
  r: EventRange,
  catalog: readonly MetricDefinition[] = METRICS,
): string {
  return reportSql(storedRollupsSql(d, g, wholePeriods(g, r), catalog), r, catalog);
}

/** The metrics `hourlyCountsSql` reads, as the default catalog defines them. */
export const COUNT_METRICS: readonly MetricDefinition[] = METRICS.filter((m) =>
  ['decisions', 'impressions', 'clicks'].includes(m.name),
);

/**
 * Exact decisions, impressions and clicks per placement × ad × hour, for the hours starting in
 * [fromMs, toMs) (the reconciliation's truth), from the events or, on DuckDB, the hourly rollups.
 */
export function hourlyCountsSql(d: SqlDialect, r: EventRange, from: 'events' | 'rollups' = 'events'): string {
  const whole = wholePeriods('hour', r);
  const source =
    from === 'events'
      ? rollupSql(d, 'hour', whole, COUNT_METRICS)
      : storedRollupsSql(d, 'hour', whole, COUNT_METRICS);
  return `SELECT placement_id, ad_id, period, decisions, impressions, clicks
FROM (
  ${nest(source)}
) c
WHERE period >= ${sqlTimestamp(r.fromMs)} AND period < ${sqlTimestamp(r.toMs)}
ORDER BY placement_id, ad_id, period`;
}

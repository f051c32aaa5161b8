import type { Granularity } from '../core/ports/analytics-engine.js';

/**
 * What differs between the SQL engines reports run on; everything else in the builders
 * (`event-queries.ts`) is shared text. DuckDB and Athena (Trino) agree on timestamp literals
 * (`TIMESTAMP '…'`), `''`-escaped strings, `date_trunc`, window functions, `CASE`,
 * `count(DISTINCT …)` and `CAST(… AS DOUBLE)`, so the only overrides are where the data is —
 * which `test/unit/analytics/sql-builders.test.ts` checks mechanically for every builder.
 */
export interface SqlDialect {
  readonly name: 'duckdb' | 'athena';
  /**
   * The archived events as a relation with the archive's columns (id, type, ts, decision_id,
   * placement_id, ad_id, user_id, schema_version) and the partitions `dt` and `hour` as strings.
   */
  readonly events: string;
  /**
   * The stored rollups of a granularity as a relation (placement_id, ad_id, period, every
   * `sum`/`distinct` metric column, and `dt` as a string), or null where the engine keeps none:
   * Athena aggregates the events of a report's range directly (see `athena-analytics.ts`).
   */
  readonly rollups: ((g: Granularity) => string) | null;
}

/** A string literal ('' doubles a quote; neither engine has backslash escapes in '…'). */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** A timestamp literal, UTC, millisecond precision: `TIMESTAMP '2026-11-26 20:00:00.000'`. */
export const sqlTimestamp = (ms: number): string =>
  `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;

/** Hive partition columns read as strings, whatever their values look like ('07' stays '07'). */
const hive = (keys: readonly string[]): string =>
  `hive_partitioning = true, hive_types = {${keys.map((k) => `'${k}': VARCHAR`).join(', ')}}`;

/** Where the rollups live under a DuckDB archive root (`rollups.ts` writes them). */
export const rollupGlob = (rollupsDir: string, g: Granularity): string =>
  `${rollupsDir}/${g === 'hour' ? 'hourly' : 'daily'}/**/rollup.parquet`;

/**
 * DuckDB over Parquet files: the events from a glob or an explicit list of files (the rollups
 * build an hour from its own files); the rollups from `rollupsDir` when given.
 */
export function duckdbDialect(files: string | readonly string[], rollupsDir?: string): SqlDialect {
  const list = typeof files === 'string' ? sqlString(files) : `[${files.map(sqlString).join(', ')}]`;
  return {
    name: 'duckdb',
    events: `read_parquet(${list}, ${hive(['dt', 'hour'])}, union_by_name = true)`,
    rollups:
      rollupsDir === undefined
        ? null
        : (g) =>
            `read_parquet(${sqlString(rollupGlob(rollupsDir, g))}, ${hive(g === 'hour' ? ['dt', 'hour'] : ['dt'])})`,
  };
}

/** Athena over the table `athena-ddl.ts` declares (`"database"."table"`). */
export function athenaDialect(opts: { database: string; table: string }): SqlDialect {
  const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
  return { name: 'athena', events: `${ident(opts.database)}.${ident(opts.table)}`, rollups: null };
}

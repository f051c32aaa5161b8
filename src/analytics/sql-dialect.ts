/**
 * What differs between the SQL engines reports run on; everything else in the builders
 * (`event-queries.ts`) is shared text. DuckDB and Athena (Trino) agree on timestamp literals,
 * `date_trunc`, window functions, `CASE`, `CAST(… AS DOUBLE)` and `''`-escaped strings, so the
 * overrides are where the data is.
 */
export interface SqlDialect {
  readonly name: 'duckdb' | 'athena';
  /**
   * The archived events as a relation with the archive's columns (id, type, ts, decision_id,
   * placement_id, ad_id, user_id, schema_version) and the partitions `dt` and `hour` as strings.
   */
  readonly events: string;
}

/** A string literal ('' doubles a quote; no backslash escapes in either engine). */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** A timestamp literal, UTC, millisecond precision: `TIMESTAMP '2026-11-26 20:00:00.000'`. */
export const sqlTimestamp = (ms: number): string =>
  `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;

/** Hive partition columns as strings, whatever their values look like. */
const HIVE = "hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hour': VARCHAR}, union_by_name = true";

/** DuckDB over Parquet files: a glob, or an explicit list of files. */
export function duckdbDialect(files: string | readonly string[]): SqlDialect {
  const list = typeof files === 'string' ? sqlString(files) : `[${files.map(sqlString).join(', ')}]`;
  return { name: 'duckdb', events: `read_parquet(${list}, ${HIVE})` };
}

/** Athena over the table `athena-ddl.ts` declares. */
export function athenaDialect(opts: { database: string; table: string }): SqlDialect {
  const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
  return { name: 'athena', events: `${ident(opts.database)}.${ident(opts.table)}` };
}

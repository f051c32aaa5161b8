import { AllotError } from '../core/errors.js';
import { EVENT_COLUMNS } from './event-queries.js';

/**
 * `CREATE EXTERNAL TABLE` for Athena over the S3 archive (`s3://bucket/prefix/events/`), with
 * partition projection on `dt` (days from `startDate` to now) and `hour` (00–23): Athena finds
 * the partitions from the path template, so no crawler or `MSCK REPAIR` is needed. Columns come
 * from `EVENT_COLUMNS`, the list the DuckDB side reads; `dt` and `hour` are strings on both sides
 * (`hour` projected as `00`–`23`), so the builders' partition filters are the same text.
 * Identifiers are backquoted (Hive DDL); `startDate` must be `YYYY-MM-DD`.
 */
export function athenaEventsTableDdl(opts: {
  database: string;
  table: string;
  location: string;
  startDate: string;
}): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.startDate))
    throw new AllotError('ALLOT_ERR_VALIDATION', 'invalid Athena DDL options', [
      { path: '/startDate', message: `"${opts.startDate}" is not YYYY-MM-DD` },
    ]);
  const ident = (s: string) => `\`${s.replaceAll('`', '``')}\``;
  const location = opts.location.endsWith('/') ? opts.location : `${opts.location}/`;
  const cols = EVENT_COLUMNS.map((c) => `  ${ident(c.name)} ${c.type}`).join(',\n');
  const props: Array<[string, string]> = [
    ['projection.enabled', 'true'],
    ['projection.dt.type', 'date'],
    ['projection.dt.format', 'yyyy-MM-dd'],
    ['projection.dt.range', `${opts.startDate},NOW`],
    ['projection.dt.interval', '1'],
    ['projection.dt.interval.unit', 'DAYS'],
    ['projection.hour.type', 'integer'],
    ['projection.hour.range', '0,23'],
    ['projection.hour.digits', '2'],
    ['storage.location.template', `${location}dt=\${dt}/hour=\${hour}/`],
    ['parquet.compression', 'ZSTD'],
  ];
  return `CREATE EXTERNAL TABLE IF NOT EXISTS ${ident(opts.database)}.${ident(opts.table)} (
${cols}
)
PARTITIONED BY (${ident('dt')} string, ${ident('hour')} string)
STORED AS PARQUET
LOCATION '${location.replaceAll("'", "''")}'
TBLPROPERTIES (
${props.map(([k, v]) => `  '${k}' = '${v.replaceAll("'", "''")}'`).join(',\n')}
)`;
}
